package jwtauth

import (
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// tokenCache remembers tokens that verified, so that a client sending the
// same token on every request pays for its signature check once. Keys are
// SHA-256 digests, so a cached token costs 32 bytes whatever its size.
//
// It is a least-recently-used cache of at most maxEntries: a flood of
// distinct tokens pushes out the ones nobody sends again, not the hot
// ones, and costs only their re-verification. Each entry is served until
// its own exp, checked against the caller's clock on every read; an
// expired one is dropped when read, or pushed out unread like any cold
// entry. (golang-lru's expirable cache would give every entry one TTL,
// read the wall clock on every Get, and start a goroutine that never
// ends.)
type tokenCache struct {
	entries *lru.Cache[[sha256.Size]byte, Principal]
}

func newTokenCache(maxEntries int) *tokenCache {
	entries, err := lru.New[[sha256.Size]byte, Principal](maxEntries)
	if err != nil {
		panic(err) // only for a size under 1, which no caller passes
	}
	return &tokenCache{entries: entries}
}

// tokenKey hashes raw through a buffer on the stack: converting a token
// (typically a few hundred bytes) to []byte would allocate on every
// request.
func tokenKey(raw string) [sha256.Size]byte {
	var buf [1024]byte
	if len(raw) <= len(buf) {
		return sha256.Sum256(append(buf[:0], raw...))
	}
	return sha256.Sum256([]byte(raw))
}

func (c *tokenCache) get(raw string, now time.Time) (Principal, bool) {
	key := tokenKey(raw)
	p, ok := c.entries.Get(key)
	if !ok {
		return Principal{}, false
	}
	if !now.Before(p.Expires) {
		c.entries.Remove(key)
		return Principal{}, false
	}
	return p, true
}

func (c *tokenCache) put(raw string, p Principal) {
	if p.Expires.IsZero() {
		return // exp is required, but never cache a token without one
	}
	c.entries.Add(tokenKey(raw), p)
}
