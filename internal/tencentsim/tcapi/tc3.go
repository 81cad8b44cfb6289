package tcapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	tc3Algorithm    = "TC3-HMAC-SHA256"
	tc3Terminator   = "tc3_request"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// Key is an API key pair the gateway accepts.
type Key struct {
	SecretID  string
	SecretKey string
	// Token, when set, makes the key behave like a temporary (STS) key:
	// X-TC-Token (v1: Token) must then carry exactly this value.
	Token string
}

// Verifier checks signatures the way Tencent's API gateway does, in the
// order it reports problems.
type Verifier struct {
	Keys map[string]Key
	// Now is the clock timestamps are checked against.
	Now func() time.Time
	// MaxClockSkew is how far a call's timestamp may be from Now.
	MaxClockSkew time.Duration
	// Services are the TC3 credential scopes' services served; the first
	// is the one a wrong scope is told to use.
	Services []string
	// Failed counts an authentication failure of secretID ("" when the
	// SecretId is unknown or unreadable).
	Failed func(secretID string)
}

// authorization is a parsed TC3-HMAC-SHA256 Authorization header.
type authorization struct {
	secretID      string
	date          string
	service       string
	signedHeaders string // as sent, e.g. "content-type;host"
	headers       []string
	signature     []byte
}

// parseAuthorization accepts the header Tencent documents:
//
//	TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, SignedHeaders=<h1;h2>, Signature=<hex>
//
// Anything else is AuthFailure.InvalidAuthorization.
func parseAuthorization(h string) (*authorization, error) {
	if h == "" {
		return nil, errors.New("the Authorization header is missing")
	}
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != tc3Algorithm {
		return nil, errors.New("the Authorization header must start with " + tc3Algorithm)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, errors.New("malformed Authorization field " + strings.TrimSpace(part))
		}
		if _, dup := fields[k]; dup {
			return nil, errors.New("duplicate Authorization field " + k)
		}
		fields[k] = v
	}
	a := &authorization{}
	cred, ok := fields["Credential"]
	if !ok {
		return nil, errors.New("the Credential is missing from the Authorization header")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 4 || parts[0] == "" || parts[3] != tc3Terminator {
		return nil, errors.New("the Credential must be <SecretId>/<date>/<service>/tc3_request")
	}
	if _, err := time.Parse("2006-01-02", parts[1]); err != nil {
		return nil, errors.New("the Credential date must be formatted 2006-01-02")
	}
	a.secretID, a.date, a.service = parts[0], parts[1], parts[2]

	sh, ok := fields["SignedHeaders"]
	if !ok || sh == "" {
		return nil, errors.New("SignedHeaders is missing from the Authorization header")
	}
	a.signedHeaders = sh
	hasCT, hasHost := false, false
	for _, name := range strings.Split(sh, ";") {
		if name == "" || name != strings.ToLower(name) {
			return nil, errors.New("SignedHeaders must be lower-case names separated by ';'")
		}
		hasCT = hasCT || name == "content-type"
		hasHost = hasHost || name == "host"
		a.headers = append(a.headers, name)
	}
	if !hasCT || !hasHost {
		return nil, errors.New("SignedHeaders must include content-type and host")
	}

	sig, ok := fields["Signature"]
	if !ok {
		return nil, errors.New("the Signature is missing from the Authorization header")
	}
	b, err := hex.DecodeString(sig)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("the Signature must be 64 hex digits")
	}
	a.signature = b
	return a, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// signedHosts are the hosts a signature may name for a request to r.Host.
// Real Tencent is only ever reached on the default port, where the Host
// header and the host a client signs are the same name. The simulator
// listens on some other port, and the SDKs disagree about what to sign
// then: the Go SDK signs its endpoint as given, port included, while the
// Node.js SDK signs the host name without the port (and sends the port in
// Host). A port is an artefact of where the simulator runs, so it accepts
// a signature over the name with or without it, and nothing else: the
// name itself must match.
func signedHosts(host string) []string {
	hosts := []string{host}
	if h, _, err := net.SplitHostPort(host); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	return hosts
}

// tc3Signature recomputes the signature of r the way Tencent's API gateway
// (and the official SDK's sendWithSignatureV3) does, with host as the
// value of the host header.
func tc3Signature(r *http.Request, host string, body []byte, a *authorization, timestamp, secretKey string) []byte {
	query := ""
	if r.Method == http.MethodGet {
		// The SDK signs exactly the query string it sends.
		query = r.URL.RawQuery
	}
	var canonHeaders strings.Builder
	for _, name := range a.headers {
		var v string
		if name == "host" {
			v = host
		} else {
			v = strings.Join(r.Header.Values(name), ",")
		}
		canonHeaders.WriteString(name + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	payloadHash := sha256Hex(body)
	if r.Header.Get("X-TC-Content-SHA256") == unsignedPayload {
		payloadHash = sha256Hex([]byte(unsignedPayload))
	}
	canonical := r.Method + "\n/\n" + query + "\n" + canonHeaders.String() + "\n" +
		a.signedHeaders + "\n" + payloadHash
	scope := a.date + "/" + a.service + "/" + tc3Terminator
	toSign := tc3Algorithm + "\n" + timestamp + "\n" + scope + "\n" + sha256Hex([]byte(canonical))

	k := hmacSHA256([]byte("TC3"+secretKey), a.date)
	k = hmacSHA256(k, a.service)
	k = hmacSHA256(k, tc3Terminator)
	return hmacSHA256(k, toSign)
}

// Signed is what a verified signature vouches for.
type Signed struct {
	SecretID, Action, Version, Region string
	// Service is the TC3 credential scope's service, which picks the API;
	// signature v1 names none ("").
	Service string
}

const sigFailure = "The provided credentials could not be validated. Please check your signature is correct."

// TC3 verifies a TC3-HMAC-SHA256 call and counts its failures.
func (v *Verifier) TC3(r *http.Request, body []byte) (*Signed, *Error) {
	auth, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		v.Failed("")
		return nil, Errorf("AuthFailure.InvalidAuthorization", "Authorization is invalid: %v.", err)
	}
	for _, h := range []string{"X-TC-Timestamp", "X-TC-Action", "X-TC-Version", "X-TC-Region"} {
		if r.Header.Get(h) == "" {
			return nil, Errorf("MissingParameter", "The request is missing a required parameter `%s`.", h)
		}
	}
	tsText := r.Header.Get("X-TC-Timestamp")
	key, ts, e := v.key(auth.secretID, "X-TC-Timestamp", tsText)
	if e != nil {
		return nil, e
	}
	fail := func(format string, args ...any) (*Signed, *Error) {
		v.Failed(key.SecretID)
		return nil, Errorf("AuthFailure.SignatureFailure", format, args...)
	}
	switch {
	case !slices.Contains(v.Services, auth.service):
		return fail("%s The credential scope names service `%s`, expected `%s`.", sigFailure, auth.service, v.Services[0])
	case auth.date != time.Unix(ts, 0).UTC().Format("2006-01-02"):
		return fail("%s The credential scope date does not match X-TC-Timestamp.", sigFailure)
	}
	valid := false
	for _, host := range signedHosts(r.Host) {
		valid = valid || hmac.Equal(auth.signature, tc3Signature(r, host, body, auth, tsText, key.SecretKey))
	}
	if !valid {
		return fail("%s", sigFailure)
	}
	if e := v.checkToken(key, r.Header.Get("X-TC-Token")); e != nil {
		return nil, e
	}
	return &Signed{SecretID: auth.secretID, Action: r.Header.Get("X-TC-Action"),
		Version: r.Header.Get("X-TC-Version"), Region: r.Header.Get("X-TC-Region"), Service: auth.service}, nil
}

// key checks a call's timestamp (named tsName) and then finds its
// SecretId's key, in Tencent's order: an expired signature is reported
// before an unknown SecretId.
func (v *Verifier) key(secretID, tsName, tsText string) (Key, int64, *Error) {
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return Key{}, 0, TypeError(tsName, "Integer")
	}
	key, known := v.Keys[secretID]
	if skew := v.Now().Sub(time.Unix(ts, 0)); skew > v.MaxClockSkew || skew < -v.MaxClockSkew {
		v.Failed(key.SecretID) // "" when unknown
		return Key{}, 0, Errorf("AuthFailure.SignatureExpire", "The signature is expired, please request again.")
	}
	if !known {
		v.Failed("")
		return Key{}, 0, Errorf("AuthFailure.SecretIdNotFound",
			"The SecretId is not found, please ensure that your SecretId is correct.")
	}
	return key, ts, nil
}

// checkToken requires a temporary key's session token.
func (v *Verifier) checkToken(k Key, token string) *Error {
	if k.Token != "" && token != k.Token {
		v.Failed(k.SecretID)
		return Errorf("AuthFailure.TokenFailure", "The token is invalid or expired.")
	}
	return nil
}
