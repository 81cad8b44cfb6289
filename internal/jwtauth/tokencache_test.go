package jwtauth

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A verified token is served from the cache only until it expires, and a
// token differing in any byte is verified afresh. The clock is synctest's:
// the token expires without the test waiting for it.
func TestVerifiedTokenCache(t *testing.T) { synctest.Test(t, testVerifiedTokenCache) }

func testVerifiedTokenCache(t *testing.T) {
	secret := []byte(testJWTSecret)
	auth := NewAuthenticator(Config{Algorithms: []string{"HS256"}, RolesClaim: "roles", ProjectsClaim: "projects"}, secret, nil)
	exp := time.Now().Add(1100 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "usr_morgan_de", "exp": exp.Unix()}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if p, err := auth.Authenticate("Bearer " + tok); err != nil || p.Subject != "usr_morgan_de" {
			t.Fatalf("%+v %v", p, err)
		}
	}
	if _, ok := auth.verified.get(tok, time.Now()); !ok {
		t.Error("a verified token was not cached")
	}
	tampered := tok[:len(tok)-2] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, tok[len(tok)-2:])
	if _, err := auth.Authenticate("Bearer " + tampered); err == nil {
		t.Error("a token differing from a cached one in its signature was accepted")
	}
	time.Sleep(time.Until(exp) - time.Nanosecond)
	if _, err := auth.Authenticate("Bearer " + tok); err != nil {
		t.Errorf("a token a nanosecond before its exp was refused: %v", err)
	}
	time.Sleep(time.Nanosecond)
	if _, err := auth.Authenticate("Bearer " + tok); err == nil {
		t.Error("an expired token was accepted from the cache")
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	c := newTokenCache(3)
	p := Principal{Subject: "s", Expires: time.Now().Add(time.Hour)}
	for _, tok := range []string{"a", "b", "c", "d"} {
		c.put(tok, p)
	}
	if len(c.entries) > 3 {
		t.Errorf("%d entries in a cache of 3", len(c.entries))
	}
	if _, ok := c.get("d", time.Now()); !ok {
		t.Error("the newest entry is missing")
	}
	c.put("no-exp", Principal{Subject: "s"})
	if _, ok := c.get("no-exp", time.Now()); ok {
		t.Error("a principal without expiry was cached")
	}
}
