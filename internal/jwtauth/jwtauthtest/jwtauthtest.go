package jwtauthtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// Keys are generated once: RSA generation is the slow part of
// these tests, more so under -race.
type Keys struct {
	RSA      *rsa.PrivateKey // published as kid "rsa-1"
	RSAOther *rsa.PrivateKey // never published, except by the rotation test
	EC       *ecdsa.PrivateKey
}

var authKeys = sync.OnceValues(func() (Keys, error) {
	var k Keys
	var err error
	if k.RSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	if k.RSAOther, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	k.EC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k, err
})

// LoadKeys returns the suite's keys, generated once per test binary.
func LoadKeys(t testing.TB) Keys {
	t.Helper()
	k, err := authKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// RSAJWK is the public JWK of an RSA key, written by hand.
func RSAJWK(kid string, pub *rsa.PublicKey) map[string]string {
	return map[string]string{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64url(pub.N.Bytes()), "e": b64url(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// ECJWK is the public JWK of a P-256 key, with x and y as fixed-length
// 32-byte big-endian integers (RFC 7518 §6.2.1.2).
func ECJWK(t testing.TB, kid string, pub *ecdsa.PublicKey) map[string]string {
	t.Helper()
	point, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	if len(point) != 65 || point[0] != 4 {
		t.Fatalf("unexpected P-256 point encoding of %d bytes", len(point))
	}
	return map[string]string{
		"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
		"x": b64url(point[1:33]), "y": b64url(point[33:]),
	}
}

// JWKS serves a JWK Set that a test can change, and counts fetches.
type JWKS struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []map[string]string
	fetched atomic.Int64
}

// StartJWKS serves keys until the test ends.
func StartJWKS(t testing.TB, keys ...map[string]string) *JWKS {
	t.Helper()
	f := &JWKS{keys: keys}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.fetched.Add(1)
		f.mu.Lock()
		body, err := json.Marshal(map[string]any{"keys": f.keys})
		f.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// Add publishes one more key.
func (f *JWKS) Add(key map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
}

// Fetches counts the requests served so far.
func (f *JWKS) Fetches() int64 { return f.fetched.Load() }

// StandardJWKS serves the RSA key as rsa-1 and the EC key as ec-1.
func StandardJWKS(t testing.TB, k Keys) *JWKS {
	return StartJWKS(t, RSAJWK("rsa-1", &k.RSA.PublicKey), ECJWK(t, "ec-1", &k.EC.PublicKey))
}

// Sign signs claims with method and key; kid "" leaves the header
// without a kid.
func Sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// RSAPublicPEM is what a key-confusion attacker would use as the HMAC key.
func RSAPublicPEM(t testing.TB, pub *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// URL is where the set is served.
func (f *JWKS) URL() string { return f.srv.URL }

// Close stops serving: fetches are refused from then on.
func (f *JWKS) Close() { f.srv.Close() }

// Segment is JSON as a token segment: base64url without padding.
func Segment(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

// TamperPayload swaps a token's claims for an admin's while keeping its
// signature: a verifier must refuse the result.
func TamperPayload(tok string) string {
	parts := strings.Split(tok, ".")
	parts[1] = Segment(`{"sub":"usr_admin","exp":9999999999}`)
	return strings.Join(parts, ".")
}

// SignRaw signs header and claims, JSON exactly as given (duplicate
// members and all, which jwt.MapClaims cannot hold), with HS256 and key.
func SignRaw(t testing.TB, key []byte, header, claims string) string {
	t.Helper()
	signing := Segment(header) + "." + Segment(claims)
	sig, err := jwt.SigningMethodHS256.Sign(signing, key)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + b64url(sig)
}
