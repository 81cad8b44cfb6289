package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/jwtauth/jwtauthtest"
	"github.com/mudscf/mudscf/translate"
)

// unsignedToken is a token with the given header and claims and an empty
// or junk signature, as an attacker writes it.
func unsignedToken(header, claims, sig string) string {
	return jwtauthtest.Segment(header) + "." + jwtauthtest.Segment(claims) + "." + sig
}

// respellLastChar changes the unused low bits of the signature's last
// base64url character: lenient decoding reads the same signature.
func respellLastChar(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[i^1])
}

// A corpus of hostile tokens, each answered 401 with the envelope and
// WWW-Authenticate, by a proxy that accepts HS256 (the shared secret) and
// RS256 (a JWKS), with an issuer and an audience. The valid tokens of both
// kinds are accepted, so the refusals are the tokens' doing.
func TestHostileTokens(t *testing.T) {
	forEachSource(t, testHostileTokens)
}

func testHostileTokens(t *testing.T, src logSource) {
	k := jwtauthtest.LoadKeys(t)
	jwks := jwtauthtest.StandardJWKS(t, k)
	const iss, aud = "https://auth.mudbase.example", "mudscf"
	env := src.start(t, func(c *Config) {
		c.JWT.Algorithms = []string{"HS256", "RS256"}
		c.JWT.JWKSURL = jwks.URL()
		c.JWT.Issuer, c.JWT.Audience = iss, aud
	})
	now := time.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "usr_morgan_de", "iss": iss, "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims { c := good(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := good(); delete(c, k); return c }
	hs := []byte(testJWTSecret)
	hsTok := jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", good())
	rsTok := jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", good())
	// One pinned window: the default one moves every 10 s, and a move between
	// the two requests would cost three more upstream calls.
	pinned := logsPath + "?limit=10" + fixedWindow()
	for _, valid := range []string{hsTok, rsTok} {
		if r := env.get(t, pinned, valid); r.status != http.StatusOK {
			t.Fatalf("a valid token got %d: %s", r.status, r.body)
		}
	}
	claimsJSON, _ := json.Marshal(good())
	pem := jwtauthtest.RSAPublicPEM(t, &k.RSA.PublicKey)

	cases := []struct {
		name   string
		values []string // Authorization header values; none: no header
	}{
		{"missing", nil},
		{"another scheme", []string{"Basic dXNyOnB3"}},
		{"scheme alone", []string{"Bearer"}},
		{"empty bearer", []string{"Bearer "}},
		{"bearer and spaces only", []string{"Bearer      "}},
		{"extra spaces around garbage", []string{"Bearer    not.a.jwt   "}},
		{"scheme glued to the token", []string{"Bearer" + hsTok}},
		{"alg none", []string{"Bearer " + unsignedToken(`{"alg":"none","typ":"JWT"}`, string(claimsJSON), "")}},
		{"alg None", []string{"Bearer " + unsignedToken(`{"alg":"None","typ":"JWT"}`, string(claimsJSON), "")}},
		{"alg NONE", []string{"Bearer " + unsignedToken(`{"alg":"NONE","typ":"JWT"}`, string(claimsJSON), "")}},
		{"alg nOnE with a junk signature", []string{"Bearer " + unsignedToken(`{"alg":"nOnE"}`, string(claimsJSON), "c2ln")}},
		{"alg none by golang-jwt", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", good())}},
		{"alg missing", []string{"Bearer " + unsignedToken(`{"typ":"JWT"}`, string(claimsJSON), "c2ln")}},
		{"alg not a string", []string{"Bearer " + unsignedToken(`{"alg":["HS256"]}`, string(claimsJSON), "c2ln")}},
		{"HS256 keyed with the RSA public key PEM", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, pem, "rsa-1", good())}},
		{"HS256 keyed with the RSA public key PEM, no kid", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, pem, "", good())}},
		{"wrong kid", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "nobody", good())}},
		{"another key under the known kid", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSAOther, "rsa-1", good())}},
		{"published but not allowed ES256", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodES256, k.EC, "ec-1", good())}},
		{"not allowed HS512", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS512, hs, "", good())}},
		{"bad HMAC key", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes!!"), "", good())}},
		{"expired", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", with("exp", now.Add(-time.Hour).Unix()))}},
		{"exp missing", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", without("exp"))}},
		{"exp a string", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", with("exp", "9999999999"))}},
		{"nbf in the future", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", with("nbf", now.Add(time.Hour).Unix()))}},
		{"iat in the future", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", with("iat", now.Add(time.Hour).Unix()))}},
		{"wrong iss", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", with("iss", "https://evil.example"))}},
		{"iss missing", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", without("iss"))}},
		{"wrong aud", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", with("aud", "another-service"))}},
		{"aud missing", []string{"Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, hs, "", without("aud"))}},
		{"tampered payload", []string{"Bearer " + jwtauthtest.TamperPayload(hsTok)}},
		{"signature with other spare bits", []string{"Bearer " + respellLastChar(hsTok)}},
		{"signature stripped", []string{"Bearer " + hsTok[:strings.LastIndex(hsTok, ".")+1]}},
		{"two segments", []string{"Bearer " + hsTok[:strings.LastIndex(hsTok, ".")]}},
		{"four segments", []string{"Bearer " + hsTok + ".c2ln"}},
		{"non-base64 segments", []string{"Bearer e!y$J.h%b&G.c*i("}},
		{"non-JSON segments", []string{"Bearer Zm9v.YmFy.YmF6"}},
		{"JSON array header", []string{"Bearer " + unsignedToken(`["HS256"]`, string(claimsJSON), "c2ln")}},
		{"over the 8 KiB limit", []string{"Bearer " + strings.Repeat("a", jwtauth.MaxTokenBytes+1)}},
		{"1 MB", []string{"Bearer " + strings.Repeat("eyJh", 1<<18)}},
		{"two tokens in one header", []string{"Bearer " + hsTok + " " + hsTok}},
		{"duplicate headers, both valid", []string{"Bearer " + hsTok, "Bearer " + rsTok}},
		{"duplicate headers, valid then junk", []string{"Bearer " + hsTok, "Bearer junk"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, env.url+logsPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range c.values {
				req.Header.Add("Authorization", v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assertEnvelope(t, response{resp.StatusCode, resp.Header, body}, http.StatusUnauthorized, translate.CodeUnauthorized)
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if got := src.calls(env); got != src.missCalls {
		t.Errorf("%d upstream calls, want the valid tokens' %d: a hostile token reached the upstream", got, src.missCalls)
	}
}

// Oversized requests are refused before any work, with the envelope
// wherever mudscf answers; net/http itself refuses request headers over
// MaxHeaderBytes with its own plain-text 431.
func TestOversizedRequests(t *testing.T) {
	forEachSource(t, testOversizedRequests)
}

func testOversizedRequests(t *testing.T, src logSource) {
	env := src.start(t, nil)
	base := serve(t, env)
	tok := env.token(t, "usr_morgan_de")
	cases := []struct {
		name     string
		url      string
		header   string // a large X-Pad header
		body     string
		status   int
		envelope bool
	}{
		{"query over 8 KiB", base + logsPath + "?pad=" + strings.Repeat("q", maxRequestURIBytes), "", "", http.StatusRequestURITooLong, true},
		{"path over 8 KiB", base + "/api/functions/projects/" + strings.Repeat("p", maxRequestURIBytes) + "/functions/f/logs", "", "", http.StatusRequestURITooLong, true},
		{"body on a GET", base + logsPath, "", strings.Repeat("b", 4096), http.StatusRequestEntityTooLarge, true},
		{"headers over MaxHeaderBytes", base + logsPath, strings.Repeat("h", 128<<10), "", http.StatusRequestHeaderFieldsTooLarge, false},
		{"under every bound", base + logsPath + "?limit=1&pad=" + strings.Repeat("q", 1000), strings.Repeat("h", 1000), "", http.StatusOK, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(http.MethodGet, c.url, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			if c.header != "" {
				req.Header.Set("X-Pad", c.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := response{resp.StatusCode, resp.Header, b}
			if c.envelope {
				assertEnvelope(t, r, c.status, "REQUEST_TOO_LARGE")
			} else if r.status != c.status {
				t.Errorf("status %d, want %d: %s", r.status, c.status, b)
			}
		})
	}
}

// fuzzProxy is a proxy before a simulator for the fuzzers, with a budget
// that refuses rather than waits so that iterations stay fast.
func fuzzProxy(f *testing.F) (http.Handler, string) {
	env := startProxy(f, func(c *Config) { c.Budget.MaxWait = 5 * time.Millisecond })
	return env.proxy.Handler(), env.token(f, "usr_morgan_de")
}

// FuzzHTTPEdge sends requests with fuzzed path segments, raw query and
// one header through the real handler. Whatever the input: no panic, no
// 5xx but the upstream's, every error the JSON envelope, no secret in the
// answer (the witness also reads every log line).
func FuzzHTTPEdge(f *testing.F) {
	handler, tok := fuzzProxy(f)
	f.Add(testProject, testFunction, "limit=2&stats=false", "X-Request-Id", "abc")
	f.Add(testProject, testFunction, "limit=-1&offset=%zz", "Accept", "*/*")
	f.Add("proj.bad", "..", "since=yesterday&until=2024-01-13T10:00:00Z", "Authorization", "Bearer x")
	f.Add(testProject, "fn_unknown", "requestId=%3Cscript%3E&qualifier=a%2Fb", "Content-Length", "5000")
	f.Fuzz(func(t *testing.T, project, function, rawQuery, headerName, headerValue string) {
		raw := "GET /api/functions/projects/" + project + "/functions/" + function + "/logs"
		if rawQuery != "" {
			raw += "?" + rawQuery
		}
		raw += " HTTP/1.1\r\nHost: mudscf\r\nAuthorization: Bearer " + tok + "\r\n"
		if headerName != "" {
			raw += headerName + ": " + headerValue + "\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
		if err != nil {
			return // net/http's server answers 400 before any handler runs
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		var head bytes.Buffer
		_ = rec.Header().Write(&head)
		suiteWitness.See("a FuzzHTTPEdge response", append(head.Bytes(), rec.Body.Bytes()...))
		if rec.Code < 400 {
			return
		}
		var body translate.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Success || body.Code == "" || body.Error == "" {
			t.Fatalf("%d is not the envelope: %q (%v)", rec.Code, rec.Body.String(), err)
		}
		if rec.Code >= 500 && !strings.HasPrefix(body.Code, "UPSTREAM_") {
			t.Fatalf("%d %s for %q", rec.Code, rec.Body.String(), raw)
		}
	})
}
