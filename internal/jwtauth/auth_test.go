package jwtauth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mudscf/mudscf/internal/jwtauth/jwtauthtest"
)

var authTestJWT = Config{
	Algorithms: []string{"HS256", "RS256", "ES256"}, Leeway: 30 * time.Second,
	RolesClaim: "roles", ProjectsClaim: "projects",
}

// jwksAuthenticator builds an Authenticator whose JWKS (and its unknown-kid
// rate limiter) is fresh, fetching url once before returning.
func jwksAuthenticator(t *testing.T, cfg Config, secret []byte, url string) *Authenticator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	jwks, err := newJWKS(ctx, url, testLogger("the JWKS log"))
	if err != nil {
		t.Fatal(err)
	}
	return NewAuthenticator(cfg, secret, jwks)
}

// authClaims are valid claims expiring in an hour, at whole seconds.
func authClaims(sub string, exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": sub, "iat": time.Now().Unix(), "exp": exp.Unix(),
		"roles": []string{"admin", "ops"}, "projects": []string{testProject},
	}
}

// wantAuthError asserts err is an *AuthError whose reason contains reason.
func wantAuthError(t *testing.T, err error, reason string) {
	t.Helper()
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v (%T), want an *AuthError", err, err)
	}
	if !strings.Contains(ae.Reason, reason) {
		t.Errorf("reason %q does not contain %q", ae.Reason, reason)
	}
}

func TestAuthJWKSTokens(t *testing.T) {
	k := jwtauthtest.LoadKeys(t)
	jwks := jwtauthtest.StandardJWKS(t, k)
	auth := jwksAuthenticator(t, authTestJWT, []byte(testJWTSecret), jwks.URL())
	if n := jwks.Fetches(); n != 1 {
		t.Fatalf("newJWKS fetched the set %d times, want 1", n)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	claims := authClaims("usr_morgan_de", exp)
	// The no-kid token is signed with the RSA key. With no kid, keyfunc
	// hands golang-jwt the whole set (jwt.VerificationKeySet) and the
	// signature is tried against every key: the EC key fails on type, the
	// RSA key verifies, so it is accepted, without a refetch.
	cases := []struct {
		name   string
		token  string
		reason string // "" accepted
	}{
		{"RS256 known kid", jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", claims), ""},
		{"ES256 known kid", jwtauthtest.Sign(t, jwt.SigningMethodES256, k.EC, "ec-1", claims), ""},
		{"RS256 without kid tries the whole set", jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "", claims), ""},
		{"HS256 keyed with the RSA public key PEM", jwtauthtest.Sign(t, jwt.SigningMethodHS256, jwtauthtest.RSAPublicPEM(t, &k.RSA.PublicKey), "rsa-1", claims), "bad signature"},
		{"HS256 keyed with the RSA public key PEM, no kid", jwtauthtest.Sign(t, jwt.SigningMethodHS256, jwtauthtest.RSAPublicPEM(t, &k.RSA.PublicKey), "", claims), "bad signature"},
		{"RS256 by another key under the known kid", jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSAOther, "rsa-1", claims), "bad signature"},
		{"RS256 by another key without kid", jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSAOther, "", claims), "bad signature"},
		{"ES256 under the RSA kid", jwtauthtest.Sign(t, jwt.SigningMethodES256, k.EC, "rsa-1", claims), "signing key unavailable"},
		{"RS256 under the EC kid", jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "ec-1", claims), "signing key unavailable"},
		{"alg none", jwtauthtest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa-1", claims), "bad signature or algorithm not allowed"},
		{"RS512 not allowed", jwtauthtest.Sign(t, jwt.SigningMethodRS512, k.RSA, "rsa-1", claims), "bad signature or algorithm not allowed"},
		// Without a kid the JWK's "alg" is not compared: only the allow-list
		// stops an RS512 signature by the published key.
		{"RS512 not allowed, no kid", jwtauthtest.Sign(t, jwt.SigningMethodRS512, k.RSA, "", claims), "bad signature or algorithm not allowed"},
		{"RS256 expired beyond leeway", jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", authClaims("usr_morgan_de", time.Now().Add(-time.Minute))), "expired"},
		{"RS256 expired within leeway", jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", authClaims("usr_morgan_de", time.Now().Add(-10*time.Second))), ""},
		{"HS256 with the secret", jwtauthtest.Sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "", claims), ""},
		{"HS256 with the secret and an RSA kid", jwtauthtest.Sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "rsa-1", claims), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := auth.Authenticate("Bearer " + c.token)
			if c.reason != "" {
				wantAuthError(t, err, c.reason)
				if p.Subject != "" {
					t.Errorf("a rejected token yielded principal %+v", p)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if p.Subject != "usr_morgan_de" || !slices.Equal(p.Roles, []string{"admin", "ops"}) ||
				!slices.Equal(p.Projects, []string{testProject}) || p.Background {
				t.Errorf("principal %+v", p)
			}
		})
	}
	// Every kid above is known (or absent, or not a JWKS algorithm): none
	// of them made keyfunc refetch the set.
	if n := jwks.Fetches(); n != 1 {
		t.Errorf("the JWKS was fetched %d times, want 1", n)
	}

	p, err := auth.Authenticate("Bearer " + cases[0].token)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Expires.Equal(exp) {
		t.Errorf("Expires %v, want %v", p.Expires, exp)
	}
}

// A token naming an unknown kid makes keyfunc refetch the set. The refetch
// is rate limited (1/s), and a request waits at most 250ms for the
// limiter: a second unknown kid within the second is refused quickly,
// without another fetch, so random kids cannot hold requests.
func TestAuthJWKSUnknownKIDRefreshes(t *testing.T) {
	k := jwtauthtest.LoadKeys(t)
	jwks := jwtauthtest.StandardJWKS(t, k)
	auth := jwksAuthenticator(t, authTestJWT, []byte(testJWTSecret), jwks.URL())
	claims := authClaims("usr_morgan_de", time.Now().Add(time.Hour))

	_, err := auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "nobody-1", claims))
	wantAuthError(t, err, "signing key unavailable")
	if n := jwks.Fetches(); n != 2 {
		t.Fatalf("after an unknown kid the JWKS was fetched %d times, want 2 (startup + refresh)", n)
	}

	start := time.Now()
	_, err = auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "nobody-2", claims))
	waited := time.Since(start)
	wantAuthError(t, err, "signing key unavailable")
	if n := jwks.Fetches(); n != 2 {
		t.Errorf("a second unknown kid within the second fetched the JWKS again (%d fetches, want 2)", n)
	}
	if waited > 700*time.Millisecond {
		t.Errorf("the second unknown kid was held %v; the wait is bounded at 250ms", waited)
	}

	// A known kid still answers, without a fetch.
	if _, err := auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", claims)); err != nil {
		t.Fatal(err)
	}
	if n := jwks.Fetches(); n != 2 {
		t.Errorf("a known kid caused a fetch (%d fetches)", n)
	}
}

// A key added to the served set is found by the unknown-kid refresh. A
// token without a kid never triggers a refresh: signed with the new key,
// it fails until something else has refreshed the set.
func TestAuthJWKSKeyRotation(t *testing.T) {
	k := jwtauthtest.LoadKeys(t)
	jwks := jwtauthtest.StandardJWKS(t, k)
	auth := jwksAuthenticator(t, authTestJWT, []byte(testJWTSecret), jwks.URL())
	claims := authClaims("usr_morgan_de", time.Now().Add(time.Hour))
	jwks.Add(jwtauthtest.RSAJWK("rsa-2", &k.RSAOther.PublicKey))

	noKID := "Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSAOther, "", claims)
	_, err := auth.Authenticate(noKID)
	wantAuthError(t, err, "bad signature")
	if n := jwks.Fetches(); n != 1 {
		t.Fatalf("a token without kid fetched the JWKS (%d fetches)", n)
	}

	p, err := auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSAOther, "rsa-2", claims))
	if err != nil {
		t.Fatalf("the rotated-in key was rejected: %v", err)
	}
	if p.Subject != "usr_morgan_de" {
		t.Errorf("principal %+v", p)
	}
	if n := jwks.Fetches(); n != 2 {
		t.Errorf("the JWKS was fetched %d times, want 2", n)
	}

	if _, err := auth.Authenticate(noKID); err != nil {
		t.Errorf("after the refresh, the no-kid token by the new key is still rejected: %v", err)
	}
	// The old key stays valid: it is still in the set.
	if _, err := auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", claims)); err != nil {
		t.Errorf("the old key after rotation: %v", err)
	}
}

// newJWKS fails only on a URL it cannot parse. An unreachable endpoint at
// startup is not an error (keyfunc's NoErrorReturnFirstHTTPReq): the set
// starts empty, every public-key token is refused, and the next unknown
// kid retries the fetch.
func TestAuthJWKSStartup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := newJWKS(ctx, "not a URL", testLogger("the JWKS log")); err == nil {
		t.Error("newJWKS accepted an unparsable URL")
	}

	k := jwtauthtest.LoadKeys(t)
	jwks := jwtauthtest.StandardJWKS(t, k)
	jwks.Close() // refuse connections
	auth := jwksAuthenticator(t, authTestJWT, []byte(testJWTSecret), jwks.URL())
	claims := authClaims("usr_morgan_de", time.Now().Add(time.Hour))
	_, err := auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", claims))
	wantAuthError(t, err, "signing key unavailable")
	_, err = auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "", claims))
	wantAuthError(t, err, "signing key unavailable") // an empty key set
	if _, err := auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "", claims)); err != nil {
		t.Errorf("HS256 while the JWKS is down: %v", err)
	}
}

func TestAuthAlgorithmAllowList(t *testing.T) {
	k := jwtauthtest.LoadKeys(t)
	jwks := jwtauthtest.StandardJWKS(t, k)
	claims := authClaims("usr_morgan_de", time.Now().Add(time.Hour))
	hs := jwtauthtest.Sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "", claims)
	rs := jwtauthtest.Sign(t, jwt.SigningMethodRS256, k.RSA, "rsa-1", claims)
	es := jwtauthtest.Sign(t, jwt.SigningMethodES256, k.EC, "ec-1", claims)
	withAlgs := func(algs ...string) Config { c := authTestJWT; c.Algorithms = algs; return c }

	cases := []struct {
		name   string
		cfg    Config
		secret []byte
		jwks   bool
		token  string
		reason string
	}{
		{"RS256 only: HS256 rejected", withAlgs("RS256"), nil, true, hs, "bad signature or algorithm not allowed"},
		{"RS256 only: ES256 rejected", withAlgs("RS256"), nil, true, es, "bad signature or algorithm not allowed"},
		{"RS256 only: RS256 accepted", withAlgs("RS256"), nil, true, rs, ""},
		{"HS256 allowed without a secret", withAlgs("RS256", "HS256"), nil, true, hs, "signing key unavailable"},
		{"RS256 allowed without JWKS", withAlgs("HS256", "RS256"), []byte(testJWTSecret), false, rs, "signing key unavailable"},
		{"HS256 only: RS256 rejected", withAlgs("HS256"), []byte(testJWTSecret), false, rs, "bad signature or algorithm not allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var auth *Authenticator
			if c.jwks {
				auth = jwksAuthenticator(t, c.cfg, c.secret, jwks.URL())
			} else {
				auth = NewAuthenticator(c.cfg, c.secret, nil)
			}
			p, err := auth.Authenticate("Bearer " + c.token)
			if c.reason == "" {
				if err != nil || p.Subject != "usr_morgan_de" {
					t.Fatalf("got %+v, %v", p, err)
				}
				return
			}
			wantAuthError(t, err, c.reason)
		})
	}
}

func TestAuthenticateHeaderParsing(t *testing.T) {
	auth := NewAuthenticator(Config{Algorithms: []string{"HS256"}, Leeway: 30 * time.Second, RolesClaim: "roles", ProjectsClaim: "projects"},
		[]byte(testJWTSecret), nil)
	tok := jwtauthtest.Sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "", authClaims("usr_morgan_de", time.Now().Add(time.Hour)))
	cases := []struct {
		name   string
		header string
		reason string // "" accepted
	}{
		{"well formed", "Bearer " + tok, ""},
		{"extra spaces after the scheme are trimmed", "Bearer    " + tok, ""},
		{"trailing whitespace is trimmed", "Bearer " + tok + "  \t", ""},
		{"no header", "", "authentication required"},
		{"scheme alone", "Bearer", "must be Bearer <JWT>"},
		{"no space after the scheme", "Bearer" + tok, "must be Bearer <JWT>"},
		{"lowercase scheme (RFC 7235: case-insensitive)", "bearer " + tok, ""},
		{"uppercase scheme", "BEARER " + tok, ""},
		{"leading space", " Bearer " + tok, "must be Bearer <JWT>"},
		{"tab after the scheme", "Bearer\t" + tok, "must be Bearer <JWT>"},
		{"another scheme", "Basic dXNyOnB3", "must be Bearer <JWT>"},
		{"empty token", "Bearer ", "malformed"},
		{"two tokens", "Bearer " + tok + " " + tok, "malformed"},
		{"token with junk appended", "Bearer " + tok + "x", "bad signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := auth.Authenticate(c.header)
			if c.reason == "" {
				if err != nil || p.Subject != "usr_morgan_de" {
					t.Fatalf("got %+v, %v", p, err)
				}
				return
			}
			wantAuthError(t, err, c.reason)
		})
	}
}

// The size bound applies before parsing: a validly signed token just over
// it is refused for its size, one at most that long is verified.
func TestAuthTokenSizeLimit(t *testing.T) {
	cfg := Config{Algorithms: []string{"HS256"}, Leeway: 30 * time.Second, RolesClaim: "roles", ProjectsClaim: "projects"}
	auth := NewAuthenticator(cfg, []byte(testJWTSecret), nil)
	exp := time.Now().Add(time.Hour)
	var fits, over string
	for pad := MaxTokenBytes*3/4 - 200; over == ""; pad++ {
		claims := authClaims("usr_morgan_de", exp)
		claims["pad"] = strings.Repeat("p", pad)
		tok := jwtauthtest.Sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "", claims)
		if len(tok) <= MaxTokenBytes {
			fits = tok
		} else {
			over = tok
		}
	}
	if fits == "" || len(fits) < MaxTokenBytes-8 {
		t.Fatalf("no token close to the limit: %d bytes", len(fits))
	}
	if _, err := auth.Authenticate("Bearer " + fits); err != nil {
		t.Errorf("a %d-byte token (limit %d): %v", len(fits), MaxTokenBytes, err)
	}
	_, err := auth.Authenticate("Bearer " + over)
	wantAuthError(t, err, "longer than 8192 bytes")
	// Padding whitespace does not count.
	if _, err := auth.Authenticate("Bearer " + fits + strings.Repeat(" ", 64)); err != nil {
		t.Errorf("trailing spaces counted toward the limit: %v", err)
	}
}

func TestAuthClaimsToPrincipal(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	cases := []struct {
		name          string
		projectsClaim string
		claims        jwt.MapClaims
		roles         []string
		projects      []string
		background    bool
	}{
		{"roles as a list", "projects", jwt.MapClaims{"roles": []any{"admin", "ops"}}, []string{"admin", "ops"}, nil, false},
		{"roles as a space-separated string", "projects", jwt.MapClaims{"roles": "admin ops"}, []string{"admin", "ops"}, nil, false},
		{"roles as a comma-separated string", "projects", jwt.MapClaims{"roles": "admin,ops, x"}, []string{"admin", "ops", "x"}, nil, false},
		{"non-strings in the list are dropped", "projects", jwt.MapClaims{"roles": []any{"admin", 7, true, "ops"}}, []string{"admin", "ops"}, nil, false},
		{"roles of another type", "projects", jwt.MapClaims{"roles": 42}, nil, nil, false},
		{"projects claim", "projects", jwt.MapClaims{"projects": []any{testProject}}, nil, []string{testProject}, false},
		{"renamed projects claim", "mb_projects", jwt.MapClaims{"mb_projects": testProject, "projects": "proj_other"}, nil, []string{testProject}, false},
		{"projects claim disabled", "-", jwt.MapClaims{"projects": []any{testProject}, "-": testProject}, nil, nil, false},
		{"background role", "projects", jwt.MapClaims{"roles": "viewer mudscf-exporter"}, []string{"viewer", "mudscf-exporter"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Algorithms: []string{"HS256"}, Leeway: 30 * time.Second, RolesClaim: "roles",
				ProjectsClaim: c.projectsClaim, BackgroundRole: "mudscf-exporter"}
			auth := NewAuthenticator(cfg, []byte(testJWTSecret), nil)
			claims := jwt.MapClaims{"sub": "usr_x", "exp": exp.Unix()}
			for k, v := range c.claims {
				claims[k] = v
			}
			p, err := auth.Authenticate("Bearer " + jwtauthtest.Sign(t, jwt.SigningMethodHS256, []byte(testJWTSecret), "", claims))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Roles, c.roles) || !slices.Equal(p.Projects, c.projects) || p.Background != c.background {
				t.Errorf("principal %+v, want roles %q projects %q background %v", p, c.roles, c.projects, c.background)
			}
		})
	}
}

func TestPrincipalCanRead(t *testing.T) {
	readers := Readers{Subjects: []string{"usr_morgan_de"}, Roles: []string{"admin", "auditor"}}
	withEmpty := Readers{Subjects: []string{""}, Roles: []string{""}}
	cases := []struct {
		name    string
		p       Principal
		readers Readers
		want    bool
	}{
		{"listed subject", Principal{Subject: "usr_morgan_de"}, readers, true},
		{"unlisted subject", Principal{Subject: "usr_stranger"}, readers, false},
		{"listed role", Principal{Subject: "usr_stranger", Roles: []string{"viewer", "auditor"}}, readers, true},
		{"unlisted roles", Principal{Subject: "usr_stranger", Roles: []string{"viewer"}}, readers, false},
		{"projects claim names the project", Principal{Subject: "svc", Projects: []string{"proj_other", testProject}}, readers, true},
		{"projects claim names another project", Principal{Subject: "svc", Projects: []string{"proj_other"}}, readers, false},
		{"projects claim without readers", Principal{Projects: []string{testProject}}, Readers{}, true},
		{"nothing", Principal{}, readers, false},
		{"no readers", Principal{Subject: "usr_morgan_de", Roles: []string{"admin"}}, Readers{}, false},
		{"empty subject never matches", Principal{}, withEmpty, false},
		{"role names are case-sensitive", Principal{Roles: []string{"Admin"}}, readers, false},
		{"a subject is not a role", Principal{Subject: "admin"}, readers, false},
		{"a role is not a subject", Principal{Roles: []string{"usr_morgan_de"}}, readers, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.CanRead(testProject, c.readers); got != c.want {
				t.Errorf("CanRead = %v, want %v", got, c.want)
			}
		})
	}
}

func TestMintTokenRoundTrip(t *testing.T) {
	cfg := Config{Algorithms: []string{"HS256"}, Issuer: "https://auth.mudbase.example", Audience: "mudscf",
		Leeway: 30 * time.Second, RolesClaim: "grants", ProjectsClaim: "mb_projects", BackgroundRole: "mudscf-exporter"}
	secret := []byte(testJWTSecret)
	now := time.Now()
	tok, err := MintToken(secret, cfg, TokenClaims{
		Subject: "svc_reporting", Projects: []string{testProject}, Roles: []string{"mudscf-exporter", "ops"},
		Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: 90 * time.Minute,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewAuthenticator(cfg, secret, nil).Authenticate("Bearer " + tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "svc_reporting" || !slices.Equal(p.Projects, []string{testProject}) ||
		!slices.Equal(p.Roles, []string{"mudscf-exporter", "ops"}) || !p.Background {
		t.Errorf("principal %+v", p)
	}
	if want := now.Add(90 * time.Minute).Truncate(time.Second); !p.Expires.Equal(want) {
		t.Errorf("Expires %v, want %v", p.Expires, want)
	}

	// The claims as written, names from the config.
	var claims jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != cfg.Issuer || claims["aud"] != cfg.Audience || claims["iat"] != float64(now.Unix()) {
		t.Errorf("claims %v", claims)
	}
	if _, ok := claims["mb_projects"]; !ok {
		t.Errorf("no mb_projects claim: %v", claims)
	}
	if _, ok := claims["projects"]; ok {
		t.Errorf("projects claim written under the default name: %v", claims)
	}

	// Issuer and audience are enforced.
	for name, c := range map[string]TokenClaims{
		"wrong issuer":   {Subject: "s", Issuer: "https://evil.example", Audience: cfg.Audience, TTL: time.Hour},
		"wrong audience": {Subject: "s", Issuer: cfg.Issuer, Audience: "other", TTL: time.Hour},
		"no issuer":      {Subject: "s", Audience: cfg.Audience, TTL: time.Hour},
	} {
		tok, err := MintToken(secret, cfg, c, now)
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewAuthenticator(cfg, secret, nil).Authenticate("Bearer " + tok)
		var ae *AuthError
		if !errors.As(err, &ae) {
			t.Errorf("%s: accepted", name)
		}
	}

	// With the projects claim off, no projects are written.
	off := cfg
	off.ProjectsClaim = "-"
	tok, err = MintToken(secret, off, TokenClaims{Subject: "s", Projects: []string{testProject}, TTL: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	claims = jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
		t.Fatal(err)
	}
	if len(claims) != 3 { // sub, iat, exp
		t.Errorf("claims %v, want only sub, iat and exp", claims)
	}
}

func TestMintTokenRejects(t *testing.T) {
	cfg := Config{RolesClaim: "roles", ProjectsClaim: "projects"}
	for name, c := range map[string]TokenClaims{
		"empty subject": {TTL: time.Hour},
		"zero TTL":      {Subject: "s"},
		"negative TTL":  {Subject: "s", TTL: -time.Second},
	} {
		if tok, err := MintToken([]byte(testJWTSecret), cfg, c, time.Now()); err == nil || tok != "" {
			t.Errorf("%s: got %q, %v", name, tok, err)
		}
	}
}

// HS keys must be long enough and not a pattern: a file of NUL bytes or one
// character repeated passes a length check and has no entropy.
func TestCheckHMACKey(t *testing.T) {
	cases := []struct {
		name string
		key  string
		ok   bool
	}{
		{"the suite's secret", testJWTSecret, true},
		{"48 random bytes as base64", "q3Zt9Yv1Qd0mW8pXr2LkC7uE5sB4aH6jN1fG0oT3iR8yV2eU9wPzKxJ5lM7nS4cD", true},
		{"64 random bytes as hex", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", true},
		{"too short", "short-but-random-Qx7", false},
		{"all NUL", strings.Repeat("\x00", 64), false},
		{"one character", strings.Repeat("a", 64), false},
		{"a short pattern", strings.Repeat("abc123", 8), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkHMACKey([]byte(c.key))
			if (err == nil) != c.ok {
				t.Fatalf("checkHMACKey = %v, want ok %v", err, c.ok)
			}
		})
	}
}

// A secret file of 64 NUL bytes passed the old length check and made a
// valid HS256 key; New refuses it, and a real key in the same place works.
func TestNewRefusesAnAllNULSecretFile(t *testing.T) {
	dir := t.TempDir()
	weak := filepath.Join(dir, "weak")
	if err := os.WriteFile(weak, make([]byte, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Algorithms: []string{"HS256"}, SecretFile: weak}
	cfg.ApplyDefaults()
	if _, err := New(context.Background(), cfg, testLogger("New")); err == nil || !strings.Contains(err.Error(), "entropy") {
		t.Fatalf("an all-NUL secret file: %v, want a refusal for its lack of entropy", err)
	}
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte(testJWTSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.SecretFile = good
	if _, err := New(context.Background(), cfg, testLogger("New")); err != nil {
		t.Fatal(err)
	}
}
