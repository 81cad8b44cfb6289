package proxy

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
)

// sharedPoll is how often a replica waiting on another's flight looks for
// its answer.
const sharedPoll = 20 * time.Millisecond

// unlockScript deletes the flight lock only if it is still ours: it may
// have expired and been taken by another replica.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// sharedCache is the second tier behind the local Cache: the same encoded
// bytes and fetch time, in Redis for retain, so that a replica answers
// from what another fetched. A short lock per key makes one upstream
// flight across replicas. Every failure means "not found" or "not
// stored": the caller carries on as without Redis.
type sharedCache struct {
	store   *redisstore.Store
	retain  time.Duration
	lookups *prometheus.CounterVec
	now     func() time.Time // the server's clock, which judges freshness
}

func newSharedCache(store *redisstore.Store, retain time.Duration, now func() time.Time, reg prometheus.Registerer) *sharedCache {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mudscf_redis_cache_requests_total", Help: "Lookups in the shared cache after a local miss, by kind (page, stats) and result (hit, miss).",
	}, []string{"kind", "result"})
	reg.MustRegister(lookups)
	for _, kind := range []string{"page", "stats"} {
		for _, result := range []string{"hit", "miss"} {
			lookups.WithLabelValues(kind, result)
		}
	}
	return &sharedCache{store: store, retain: retain, lookups: lookups, now: now}
}

func (c *sharedCache) valueKey(key string) string {
	return c.store.Key("cache:" + redisstore.Hash(key))
}
func (c *sharedCache) lockKey(key string) string { return c.store.Key("lock:" + redisstore.Hash(key)) }

// encode is the fetch time (unix nanoseconds) then the body.
func encode(e *cached) []byte {
	b := make([]byte, 8, 8+len(e.body))
	binary.BigEndian.PutUint64(b, uint64(e.fetched.UnixNano()))
	return append(b, e.body...)
}

func decode(b []byte) (*cached, bool) {
	if len(b) < 8 {
		return nil, false
	}
	return &cached{body: b[8:], fetched: time.Unix(0, int64(binary.BigEndian.Uint64(b)))}, true
}

// get returns the entry under key, fresh or not.
func (c *sharedCache) get(ctx context.Context, key string) (*cached, bool) {
	if !c.store.Usable() {
		c.store.Fallback("cache")
		return nil, false
	}
	rctx, cancel := c.store.OpContext(ctx)
	defer cancel()
	began := time.Now()
	b, err := c.store.Client().Get(rctx, c.valueKey(key)).Bytes()
	if !c.store.Result("cache_get", began, err) || err != nil {
		return nil, false
	}
	return decode(b)
}

// claim returns a fresh entry another replica stored. Without one it takes
// the key's flight lock and returns its token: this replica fetches, and
// put or release frees the lock. If another replica holds the lock, claim
// waits (within wait, the flight's timeout) for that replica's answer;
// nil, "" means fetch anyway. The lock outlives the holder's flight a
// little, and no more: a replica that dies holding it delays the others by
// at most that.
func (c *sharedCache) claim(ctx context.Context, kind, key string, ttl, wait time.Duration) (e *cached, token string) {
	e, ok := c.get(ctx, key)
	if !c.store.Up() {
		return nil, ""
	}
	if ok && c.now().Sub(e.fetched) < ttl {
		c.lookups.WithLabelValues(kind, "hit").Inc()
		return e, ""
	}
	c.lookups.WithLabelValues(kind, "miss").Inc()
	token = rand.Text()
	rctx, cancel := c.store.OpContext(ctx)
	began := time.Now()
	ok, err := c.store.Client().SetNX(rctx, c.lockKey(key), token, wait+time.Second).Result()
	cancel()
	if !c.store.Result("cache_lock", began, err) {
		return nil, ""
	}
	if ok {
		return nil, token
	}
	return c.await(ctx, key, ttl, wait), ""
}

// await polls for the other replica's answer until it appears, the lock
// is gone without one (that flight failed) or wait runs out.
func (c *sharedCache) await(ctx context.Context, key string, ttl, wait time.Duration) *cached {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		time.Sleep(sharedPoll)
		if !c.store.Usable() {
			return nil
		}
		rctx, cancel := c.store.OpContext(ctx)
		began := time.Now()
		pipe := c.store.Client().Pipeline()
		val := pipe.Get(rctx, c.valueKey(key))
		held := pipe.Exists(rctx, c.lockKey(key))
		_, err := pipe.Exec(rctx)
		cancel()
		if !c.store.Result("cache_get", began, err) {
			return nil
		}
		if b, err := val.Bytes(); err == nil {
			if e, ok := decode(b); ok && c.now().Sub(e.fetched) < ttl {
				return e
			}
		}
		if held.Val() == 0 {
			return nil
		}
	}
	return nil
}

// put stores e under key for retain, as the local cache keeps it, and
// releases the flight lock, if held.
func (c *sharedCache) put(ctx context.Context, e *cached, token, key string) {
	if !c.store.Usable() {
		return
	}
	rctx, cancel := c.store.OpContext(ctx)
	defer cancel()
	v := encode(e)
	began := time.Now()
	err := c.store.Client().Set(rctx, c.valueKey(key), v, c.retain).Err()
	if c.store.Result("cache_set", began, err) {
		c.release(rctx, key, token)
	}
}

// release gives up the flight lock without an answer, so that waiting
// replicas fetch for themselves at once.
func (c *sharedCache) release(ctx context.Context, key, token string) {
	if token == "" || !c.store.Usable() {
		return
	}
	rctx, cancel := c.store.OpContext(ctx)
	defer cancel()
	c.store.Result("cache_lock", time.Now(), unlockScript.Run(rctx, c.store.Client(), []string{c.lockKey(key)}, token).Err())
}
