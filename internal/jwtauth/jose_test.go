package jwtauth

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth/jwtauthtest"
)

// A token whose header or claims name a member twice, at any depth, or
// whose header has a crit parameter, is refused although its signature is
// good; the same token without the duplicate or the crit is accepted, so
// only that rule refuses it. The reason names the rule, never the token.
func TestAuthDuplicateMembersAndCrit(t *testing.T) {
	auth := NewAuthenticator(Config{Algorithms: []string{"HS256"}, Leeway: 30 * time.Second, RolesClaim: "roles", ProjectsClaim: "projects"},
		[]byte(testJWTSecret), nil)
	exp := time.Now().Add(time.Hour).Unix()
	const hdr = `{"alg":"HS256","typ":"JWT"}`
	claims := func(extra string) string { return fmt.Sprintf(`{"sub":"usr_morgan_de","exp":%d%s}`, exp, extra) }
	const (
		duplicate = "invalid token: a member name appears twice in the header or the claims"
		critical  = "invalid token: the header names critical extensions (crit), and none is supported"
		malformed = "invalid token: malformed"
	)
	cases := []struct {
		name           string
		header, claims string // refused with reason
		okHeader       string // accepted, with okClaims: the token without the fault
		okClaims       string
		reason         string
	}{
		{"sub twice", hdr, claims(`,"sub":"usr_admin"`), hdr, claims(""), duplicate},
		{"sub twice, the same value", hdr, claims(`,"sub":"usr_morgan_de"`), hdr, claims(""), duplicate},
		{"sub twice, once escaped", hdr, claims(`,"s\u0075b":"usr_admin"`), hdr, claims(`,"s\u0075b2":"usr_admin"`), duplicate},
		{"exp twice", hdr, claims(`,"exp":9999999999`), hdr, claims(""), duplicate},
		{"twice in a nested object", hdr, claims(`,"ctx":{"tier":1,"org":{"id":"a","id":"b"}}`), hdr, claims(`,"ctx":{"tier":1,"org":{"id":"a","od":"b"}}`), duplicate},
		{"twice in an object in a list", hdr, claims(`,"roles":["ops",{"r":1,"r":2}]`), hdr, claims(`,"roles":["ops",{"r":1,"q":2}]`), duplicate},
		{"one name in two objects is no duplicate", hdr, claims(`,"a":{"x":1},"b":{"x":[{"x":1}]},"x":2`), hdr, claims(""), ""},
		{"alg twice in the header", `{"alg":"HS256","typ":"JWT","alg":"HS256"}`, claims(""), hdr, claims(""), duplicate},
		{"alg none, then HS256", `{"alg":"none","alg":"HS256"}`, claims(""), `{"alg":"HS256"}`, claims(""), duplicate},
		{"twice in a nested header object", `{"alg":"HS256","jwk":{"kty":"oct","kty":"oct"}}`, claims(""), `{"alg":"HS256","jwk":{"kty":"oct"}}`, claims(""), duplicate},
		{"crit naming a claim", `{"alg":"HS256","crit":["exp"],"exp":1}`, claims(""), `{"alg":"HS256","exp":1}`, claims(""), critical},
		{"crit naming an extension", `{"alg":"HS256","crit":["b64"],"b64":false}`, claims(""), `{"alg":"HS256","b64":false}`, claims(""), critical},
		{"crit empty", `{"alg":"HS256","crit":[]}`, claims(""), hdr, claims(""), critical},
		{"crit not a list", `{"alg":"HS256","crit":"exp"}`, claims(""), hdr, claims(""), critical},
		{"crit not strings", `{"alg":"HS256","crit":[1]}`, claims(""), hdr, claims(""), critical},
		{"crit null", `{"alg":"HS256","crit":null}`, claims(""), hdr, claims(""), critical},
		{"crit in the claims is a claim", hdr, claims(`,"crit":["exp"]`), hdr, claims(`,"crit":["exp"]`), ""},
		{"claims not an object", hdr, `["usr_morgan_de"]`, hdr, claims(""), malformed},
		{"data after the claims", hdr, claims("") + ` {}`, hdr, claims(""), malformed},
		{"header not JSON", `{"alg":"HS256"`, claims(""), hdr, claims(""), malformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok := jwtauthtest.SignRaw(t, []byte(testJWTSecret), c.okHeader, c.okClaims)
			if p, err := auth.Authenticate("Bearer " + ok); err != nil || p.Subject != "usr_morgan_de" {
				t.Fatalf("the token without the fault: %+v, %v", p, err)
			}
			tok := jwtauthtest.SignRaw(t, []byte(testJWTSecret), c.header, c.claims)
			p, err := auth.Authenticate("Bearer " + tok)
			if c.reason == "" {
				if err != nil || p.Subject != "usr_morgan_de" {
					t.Fatalf("got %+v, %v", p, err)
				}
				return
			}
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Reason != c.reason {
				t.Fatalf("got %+v, %v; want the reason %q", p, err, c.reason)
			}
			suiteWitness.SeeErr(t.Name(), err)
		})
	}
}

// The verified-token cache answers without decoding the token again: a
// hit allocates nothing.
func TestAuthCacheHitDoesNotDecode(t *testing.T) {
	auth := NewAuthenticator(Config{Algorithms: []string{"HS256"}, RolesClaim: "roles", ProjectsClaim: "projects"}, []byte(testJWTSecret), nil)
	header := "Bearer " + jwtauthtest.SignRaw(t, []byte(testJWTSecret), `{"alg":"HS256"}`,
		fmt.Sprintf(`{"sub":"usr_morgan_de","exp":%d,"roles":["admin"]}`, time.Now().Add(time.Hour).Unix()))
	if _, err := auth.Authenticate(header); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := auth.Authenticate(header); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a cache hit allocates %v times", n)
	}
}
