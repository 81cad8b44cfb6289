package jwtauth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth/jwtauthtest"
)

// FuzzAuthenticate feeds arbitrary Authorization values to the verifier:
// it never panics, refuses with an *AuthError, and accepts only a token the
// test signed, byte for byte.
func FuzzAuthenticate(f *testing.F) {
	cfg := Config{Algorithms: []string{"HS256"}, Leeway: 30 * time.Second, RolesClaim: "roles", ProjectsClaim: "projects"}
	auth := NewAuthenticator(cfg, []byte(testJWTSecret), nil)
	// Fixed times make the token, and so the committed corpus, stable.
	issued, expires := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	signed, err := MintToken([]byte(testJWTSecret), cfg, TokenClaims{Subject: "usr_morgan_de", Roles: []string{"admin"}, TTL: expires.Sub(issued)}, issued)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer " + signed)
	f.Add("bearer   " + signed + " \t")
	f.Add("Bearer " + signed + "." + signed)
	f.Add("Bearer " + jwtauthtest.TamperPayload(signed))
	// Well signed, refused for a duplicate member or a crit header: the
	// fuzzer starts from the JSON those checks read.
	exp := fmt.Sprint(expires.Unix())
	f.Add("Bearer " + jwtauthtest.SignRaw(f, []byte(testJWTSecret), `{"alg":"HS256","typ":"JWT"}`,
		`{"sub":"usr_morgan_de","exp":`+exp+`,"roles":[{"r":"admin","r":"ops"}],"sub":"usr_admin"}`))
	f.Add("Bearer " + jwtauthtest.SignRaw(f, []byte(testJWTSecret), `{"alg":"HS256","crit":["b64"],"b64":false}`,
		`{"sub":"usr_morgan_de","exp":`+exp+`}`))
	f.Fuzz(func(t *testing.T, header string) {
		p, err := auth.Authenticate(header)
		if err != nil {
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("%T %v, want an *AuthError", err, err)
			}
			suiteWitness.SeeErr("a FuzzAuthenticate error", err)
			return
		}
		_, raw, _ := strings.Cut(header, " ")
		if strings.TrimSpace(raw) != signed || p.Subject != "usr_morgan_de" {
			t.Fatalf("accepted %q as %+v: not the token the test signed", header, p)
		}
	})
}
