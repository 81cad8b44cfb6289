package scfsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
)

const (
	tc3Algorithm    = "TC3-HMAC-SHA256"
	tc3Terminator   = "tc3_request"
	serviceName     = "scf"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

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
		return nil, errors.New("Credential is missing from the Authorization header")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 4 || parts[0] == "" || parts[3] != tc3Terminator {
		return nil, errors.New("Credential must be <SecretId>/<date>/<service>/tc3_request")
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
		return nil, errors.New("Signature is missing from the Authorization header")
	}
	b, err := hex.DecodeString(sig)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("Signature must be 64 hex digits")
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

// tc3Signature recomputes the signature of r the way Tencent's API gateway
// (and the official SDK's sendWithSignatureV3) does.
func tc3Signature(r *http.Request, body []byte, a *authorization, timestamp, secretKey string) []byte {
	query := ""
	if r.Method == http.MethodGet {
		// The SDK signs exactly the query string it sends.
		query = r.URL.RawQuery
	}
	var canonHeaders strings.Builder
	for _, name := range a.headers {
		var v string
		if name == "host" {
			v = r.Host
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
