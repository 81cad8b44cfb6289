package tcapi

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // G505: signature v1 is HmacSHA1 by Tencent's definition, and the simulator must verify what clients send
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Signature v1 of API 3.0 ("Signature" in Tencent's docs, HmacSHA1 or
// HmacSHA256): every parameter, common ones included, travels in the GET
// query or the application/x-www-form-urlencoded POST body, and the
// signature is Base64(HMAC(SecretKey, METHOD + host + path + "?" + the
// parameters but Signature, sorted by name, as name=value joined by &,
// values not URL-encoded)). These are its SignatureMethod values.
const (
	SigMethodSHA1   = "HmacSHA1"
	SigMethodSHA256 = "HmacSHA256"
)

// V1Params returns the parameters of a signature-v1 call: the query of a
// GET, the form body of a POST. ok is false when the request is not one.
func V1Params(r *http.Request, body []byte) (url.Values, bool) {
	if r.Header.Get("Authorization") != "" {
		return nil, false
	}
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		if !IsContentType(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			return nil, false
		}
		raw = string(body)
	}
	vals, err := url.ParseQuery(raw)
	if err != nil || !vals.Has("Signature") {
		return nil, false
	}
	return vals, true
}

// V1 verifies a signature-v1 call in the order TC3 does.
func (v *Verifier) V1(r *http.Request, p url.Values) (*Signed, *Error) {
	for _, name := range []string{"SecretId", "Signature", "Timestamp", "Nonce", "Action", "Version", "Region"} {
		if p.Get(name) == "" {
			return nil, Errorf("MissingParameter", "The request is missing a required parameter `%s`.", name)
		}
	}
	var newHash func() hash.Hash
	switch m := p.Get("SignatureMethod"); m {
	case "", SigMethodSHA1:
		newHash = sha1.New
	case SigMethodSHA256:
		newHash = sha256.New
	default:
		return nil, Errorf("InvalidParameterValue", "SignatureMethod must be %s or %s, got `%s`.", SigMethodSHA1, SigMethodSHA256, m)
	}
	secretID := p.Get("SecretId")
	key, _, e := v.key(secretID, "Timestamp", p.Get("Timestamp"))
	if e != nil {
		return nil, e
	}
	got, err := base64.StdEncoding.DecodeString(p.Get("Signature"))
	valid := false
	for _, host := range signedHosts(r.Host) {
		m := hmac.New(newHash, []byte(key.SecretKey))
		m.Write([]byte(v1StringToSign(r.Method, host, r.URL.Path, p)))
		valid = valid || (err == nil && hmac.Equal(got, m.Sum(nil)))
	}
	if !valid {
		v.Failed(secretID)
		return nil, Errorf("AuthFailure.SignatureFailure", "%s", sigFailure)
	}
	if e := v.checkToken(key, p.Get("Token")); e != nil {
		return nil, e
	}
	return &Signed{SecretID: secretID, Action: p.Get("Action"), Version: p.Get("Version"),
		Region: p.Get("Region")}, nil
}

func v1StringToSign(method, host, path string, p url.Values) string {
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(method + host + path + "?")
	for i, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range p {
			if k != "Signature" && !yield(k) {
				return
			}
		}
	}) {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + p.Get(k))
	}
	return b.String()
}
