package jwtauth

import (
	"fmt"
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
	if n := c.entries.Len(); n > 3 {
		t.Errorf("%d entries in a cache of 3", n)
	}
	if _, ok := c.get("d", time.Now()); !ok {
		t.Error("the newest entry is missing")
	}
	c.put("no-exp", Principal{Subject: "s"})
	if _, ok := c.get("no-exp", time.Now()); ok {
		t.Error("a principal without expiry was cached")
	}
}

// A token in use stays cached while a flood of distinct ones (twice the
// cache's size) passes through: the flood pushes out its own tokens, not
// the one sent between them. Over the Authenticator, with signed tokens.
func TestHotTokenSurvivesAFlood(t *testing.T) {
	secret := []byte(testJWTSecret)
	auth := NewAuthenticator(Config{Algorithms: []string{"HS256"}}, secret, nil)
	exp := time.Now().Add(time.Hour).Unix()
	sign := func(sub string) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": exp}).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hot := sign("usr_hot")
	if _, err := auth.Authenticate("Bearer " + hot); err != nil {
		t.Fatal(err)
	}
	const flood, hotEvery = 20_000, 100
	for i := range flood {
		if _, err := auth.Authenticate("Bearer " + sign(fmt.Sprintf("usr_%d", i))); err != nil {
			t.Fatal(err)
		}
		if i%hotEvery == 0 {
			if _, ok := auth.verified.get(hot, time.Now()); !ok {
				t.Fatalf("the hot token left the cache after %d distinct tokens", i+1)
			}
		}
	}
	if n := auth.verified.entries.Len(); n > 10_000 {
		t.Errorf("%d entries, over the bound of 10,000", n)
	}
}

// The cost of a request whose token is cached (run with -benchmem: a hit
// allocates nothing).
func BenchmarkAuthenticateCacheHit(b *testing.B) {
	secret := []byte(testJWTSecret)
	auth := NewAuthenticator(Config{Algorithms: []string{"HS256"}}, secret, nil)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "usr_morgan_de", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
	if err != nil {
		b.Fatal(err)
	}
	header := "Bearer " + tok
	if _, err := auth.Authenticate(header); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := auth.Authenticate(header); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
