package jwtauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenCache remembers tokens that verified, until they expire, so that a
// client sending the same token on every request pays for its signature
// check once. Keys are SHA-256 digests, so a cached token costs 32 bytes
// whatever its size; the cache holds at most maxEntries and starts over
// when full (a flood of distinct tokens only costs re-verification).
type tokenCache struct {
	mu         sync.RWMutex
	entries    map[[sha256.Size]byte]Principal
	maxEntries int
}

func newTokenCache(maxEntries int) *tokenCache {
	return &tokenCache{entries: map[[sha256.Size]byte]Principal{}, maxEntries: maxEntries}
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
	c.mu.RLock()
	p, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(p.Expires) {
		return Principal{}, false
	}
	return p, true
}

func (c *tokenCache) put(raw string, p Principal) {
	if p.Expires.IsZero() {
		return // exp is required, but never cache a token without one
	}
	key := tokenKey(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.maxEntries {
		clear(c.entries)
	}
	c.entries[key] = p
}
