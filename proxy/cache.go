package proxy

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gocache "github.com/patrickmn/go-cache"

	"github.com/mudscf/mudscf/internal/gzipjoin"
)

// entryOverhead approximates the bytes an entry costs beyond its key and
// body (go-cache's item, our entry, map slot).
const entryOverhead = 128

// cached is an encoded response part and when it was fetched: when its
// upstream flight started, which is where a window ending now ended.
type cached struct {
	body    []byte
	fetched time.Time
	// gz is the body's compressed form, made once when the entry is
	// filled (compressPart) and never changed after; nil means answer
	// identity.
	gz *gzipjoin.Piece
	// reads counts the answers given from this entry: the demand for
	// its refresh (refresher).
	reads atomic.Int64
}

// boundedCache is go-cache with a hard bound on memory, which go-cache lacks:
// entry sizes are counted, and when the total passes the bound the oldest
// entries are evicted until it is 10% under.
type boundedCache struct {
	store    *gocache.Cache
	retain   time.Duration
	maxBytes int64
	size     atomic.Int64
	setting  sync.Mutex // makes Delete+Set one step, so no replace escapes the count
	evicting sync.Mutex
	metrics  *Metrics
}

// newCache keeps entries until retain after they were fetched (their
// freshness is judged by the caller, so stale answers stay available)
// within maxBytes. Entries never expire in go-cache itself: its Get would
// read the clock on every lookup, twice per hit, for a check the caller
// makes anyway from the entry's fetch time; sweep removes them instead.
func newCache(maxBytes int64, retain time.Duration, m *Metrics) *boundedCache {
	// No janitor of go-cache's own: its goroutine outlives the server
	// (sweep ends with it).
	c := &boundedCache{store: gocache.New(gocache.NoExpiration, 0), retain: retain, maxBytes: maxBytes, metrics: m}
	// go-cache calls this on Delete and on expiry, outside its own lock.
	c.store.OnEvicted(func(key string, v any) {
		c.size.Add(-cost(key, v.(*cached)))
		m.cacheBytes.Set(float64(c.size.Load()))
	})
	return c
}

func cost(key string, e *cached) int64 {
	n := int64(len(key) + len(e.body) + entryOverhead)
	if e.gz != nil {
		n += int64(e.gz.Len())
	}
	return n
}

// Get returns the entry under key, fresh or not.
func (c *boundedCache) Get(key string) (*cached, bool) {
	v, ok := c.store.Get(key)
	if !ok {
		return nil, false
	}
	return v.(*cached), true
}

// Set stores e under key until the cache's retention after it was
// fetched. An entry over a quarter of the bound is not cached at all: it
// would evict most of the cache for one answer.
func (c *boundedCache) Set(key string, e *cached) {
	n := cost(key, e)
	if n > c.maxBytes/4 {
		return
	}
	// Delete first: go-cache's Set replaces silently, and the replaced
	// entry's bytes must leave the count through OnEvicted.
	c.setting.Lock()
	c.store.Delete(key)
	c.store.Set(key, e, gocache.NoExpiration)
	total := c.size.Add(n)
	c.setting.Unlock()
	if total > c.maxBytes {
		c.evict()
	}
	c.metrics.cacheBytes.Set(float64(c.size.Load()))
}

// evict removes the oldest entries until the cache is 10% under its bound,
// so that evictions come in rounds rather than one per insert.
func (c *boundedCache) evict() {
	if !c.evicting.TryLock() {
		return // another goroutine is already making room
	}
	defer c.evicting.Unlock()
	c.expire(time.Now())
	target := c.maxBytes - c.maxBytes/10
	if c.size.Load() <= target {
		return
	}
	type aged struct {
		key   string
		entry *cached
	}
	items := c.store.Items()
	all := make([]aged, 0, len(items))
	for k, it := range items {
		all = append(all, aged{k, it.Object.(*cached)})
	}
	slices.SortFunc(all, func(a, b aged) int { return a.entry.fetched.Compare(b.entry.fetched) })
	for _, a := range all {
		if c.size.Load() <= target {
			return
		}
		if c.deleteIfSame(a.key, a.entry) {
			c.metrics.cacheEvictions.Inc()
		}
	}
}

// expire removes the entries fetched more than the retention before now.
func (c *boundedCache) expire(now time.Time) {
	for k, it := range c.store.Items() {
		if e := it.Object.(*cached); now.Sub(e.fetched) > c.retain {
			c.deleteIfSame(k, e)
		}
	}
}

// deleteIfSame deletes key if it still holds e: a listing is a copy, and a
// fresh entry set since must not go in its predecessor's place.
func (c *boundedCache) deleteIfSame(key string, e *cached) bool {
	c.setting.Lock()
	defer c.setting.Unlock()
	if v, ok := c.store.Get(key); !ok || v.(*cached) != e {
		return false
	}
	c.store.Delete(key)
	return true
}

// sweep removes entries past their retention every minute until ctx ends.
func (c *boundedCache) sweep(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c.expire(now)
		}
	}
}

// Bytes is the current accounted size.
func (c *boundedCache) Bytes() int64 { return c.size.Load() }

// compressPart makes the gzip piece of a part of kind (page, stats): the
// page's with the envelope's head before it, ending in a sync flush so the
// stats' can follow; the stats' with the rest of the envelope around it,
// ending the stream. The envelope pieces are constants, so a hit joins
// pieces and compresses nothing. Joined into one standard gzip member (see
// internal/gzipjoin for why not several), not one per (page, stats) pair,
// which would compress on the first hit of every pair rather than on the
// fill.
func compressPart(kind string, body []byte) *gzipjoin.Piece {
	if kind == "page" {
		return gzipjoin.Compress(false, envelopeHeadBytes, body)
	}
	return gzipjoin.Compress(true, envelopeMidBytes, body, envelopeTailBytes)
}
