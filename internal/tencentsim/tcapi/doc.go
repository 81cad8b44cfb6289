// Package tcapi is the plumbing of Tencent Cloud API 3.0 that every
// simulated service shares: reading a request within the gateway's
// limits, checking its signature (TC3-HMAC-SHA256, and the older
// HmacSHA1/HmacSHA256 "signature v1") in the order Tencent's gateway
// reports problems, finding and decoding action parameters (JSON bodies
// and flattened forms, strictly typed), and writing the {"Response": ...}
// envelope, errors included, in the language X-TC-Language asks for.
//
// It is separate from the services so that SCF and CLS authenticate and
// answer identically, and from the simulator's server so that the
// gateway's rules can be read in one place. It knows no service: which
// scopes are served, whose keys exist and where failures are counted are
// the Verifier's fields.
package tcapi
