package proxy

import (
	"bytes"
	"compress/flate"
	"context"
	"hash/crc32"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gocache "github.com/patrickmn/go-cache"
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
	gz *gzipForm
	// reads counts the answers given from this entry: the demand for
	// its refresh (refresher).
	reads atomic.Int64
}

// boundedCache is go-cache with a hard bound on memory, which go-cache lacks:
// entry sizes are counted, and when the total passes the bound the oldest
// entries are evicted until it is 10% under.
type boundedCache struct {
	store    *gocache.Cache
	maxBytes int64
	size     atomic.Int64
	setting  sync.Mutex // makes Delete+Set one step, so no replace escapes the count
	evicting sync.Mutex
	metrics  *Metrics
}

// newCache keeps entries for retain (their freshness is judged by the
// caller, so stale answers stay available) within maxBytes.
func newCache(maxBytes int64, retain time.Duration, m *Metrics) *boundedCache {
	// No janitor of go-cache's own: its goroutine outlives the server
	// (sweep ends with it).
	c := &boundedCache{store: gocache.New(retain, 0), maxBytes: maxBytes, metrics: m}
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
		n += int64(len(e.gz.deflate))
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

// Set stores e under key for the cache's retention. An entry over a
// quarter of the bound is not cached at all: it would evict most of the
// cache for one answer.
func (c *boundedCache) Set(key string, e *cached) { c.setFor(key, e, gocache.DefaultExpiration) }

// setFor is Set with its own retention, for entries that are of no use
// once fresh.
func (c *boundedCache) setFor(key string, e *cached, retain time.Duration) {
	n := cost(key, e)
	if n > c.maxBytes/4 {
		return
	}
	// Delete first: go-cache's Set replaces silently, and the replaced
	// entry's bytes must leave the count through OnEvicted.
	c.setting.Lock()
	c.store.Delete(key)
	c.store.Set(key, e, retain)
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
	c.store.DeleteExpired()
	target := c.maxBytes - c.maxBytes/10
	if c.size.Load() <= target {
		return
	}
	type aged struct {
		key     string
		fetched time.Time
	}
	items := c.store.Items()
	all := make([]aged, 0, len(items))
	for k, it := range items {
		all = append(all, aged{k, it.Object.(*cached).fetched})
	}
	slices.SortFunc(all, func(a, b aged) int { return a.fetched.Compare(b.fetched) })
	for _, a := range all {
		if c.size.Load() <= target {
			return
		}
		c.store.Delete(a.key)
		c.metrics.cacheEvictions.Inc()
	}
}

// sweep removes expired entries every minute until ctx ends.
func (c *boundedCache) sweep(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.store.DeleteExpired()
		}
	}
}

// Bytes is the current accounted size.
func (c *boundedCache) Bytes() int64 { return c.size.Load() }

// gzipForm is one half of a gzip response as raw DEFLATE blocks, with the
// CRC-32 and length of the bytes it encodes. A response is one standard
// gzip member (RFC 1952) made of a fixed header, the page's form (the
// envelope's head and the page, ending in a sync flush so that the next
// blocks can follow on a byte boundary), the stats' form (the envelope's
// middle, the stats and its tail, ending in the final block) and a
// trailer whose CRC is combined from the two halves' (crc32Combine). This
// is how pigz joins blocks compressed apart. Joining gzip members
// instead would be simpler, but a multi-member stream is decoded only by
// some clients (Go and zlib's gunzip do; several HTTP stacks stop at the
// first member and so silently truncate), and compressing each
// (page, stats) pair whole would put compression on the first hit of
// every pair rather than on the fill.
type gzipForm struct {
	deflate []byte
	crc     uint32
	n       int64 // bytes it decodes to
}

// compressPart makes the gzip form of a part of kind (page, stats): the
// page's with the envelope's head before it, the stats' with the rest of
// the envelope around it. The envelope pieces are constants, so a hit
// joins forms and compresses nothing.
func compressPart(kind string, body []byte) *gzipForm {
	var pieces [][]byte
	if kind == "page" {
		pieces = [][]byte{envelopeHeadBytes, body}
	} else {
		pieces = [][]byte{envelopeMidBytes, body, envelopeTailBytes}
	}
	var buf bytes.Buffer
	buf.Grow(len(body)/4 + 64)
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression) // the level is valid
	crc := uint32(0)
	n := 0
	for _, p := range pieces {
		_, _ = w.Write(p) // writes to a bytes.Buffer do not fail
		crc = crc32.Update(crc, crc32.IEEETable, p)
		n += len(p)
	}
	if kind == "page" {
		_ = w.Flush() // sync flush: more blocks follow
	} else {
		_ = w.Close() // the final block
	}
	return &gzipForm{deflate: bytes.Clone(buf.Bytes()), crc: crc, n: int64(n)}
}

// crc32Combine is the CRC-32 (IEEE) of A then B from crc1 = CRC(A),
// crc2 = CRC(B) and len2 = len(B), without reading either: zlib's
// crc32_combine, which multiplies crc1 by x^(8·len2) modulo the
// polynomial by repeated squaring of the one-zero-bit operator. Go's
// hash/crc32 has no such function. Its cost grows with log(len2), and the
// stats half it is called with is small.
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1
	}
	var even, odd [32]uint32
	odd[0] = crc32.IEEE // the operator for one zero bit
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four
	for {
		gf2Square(&even, &odd) // the first pass: one zero byte
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range mat {
		square[n] = gf2Times(mat, mat[n])
	}
}
