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

// flightLease is how long a flight lock outlives its last renewal. The
// holder renews it every third of that while its flight runs, however
// long the flight's calls take, so a lock whose holder died frees within
// a lease: short, so that the others fetch for themselves soon after, and
// three renewals long, so that one slow Redis answer does not lose it (a
// lost lock costs a second flight for the key, nothing worse).
const flightLease = time.Second

// unlockScript deletes the flight lock only if it is still ours: it may
// have expired and been taken by another replica.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// renewScript extends the flight lock by ARGV[2] ms if it is still ours.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// Why a replica that found another's flight lock stopped waiting on it
// (mudscf_redis_flight_waits_total's outcome label).
const (
	waitAnswered = "answered" // the other replica's answer arrived
	waitStale    = "stale"    // answered at once from its last answer, within cache.staleMaxAge
	waitFreed    = "freed"    // the lock lapsed or was released without an answer: this replica fetches
	waitMaxWait  = "maxwait"  // still held after budget.maxWait: a 429, as when the budget has no slot that soon
)

// sharedCache is the second tier behind the local Cache: the same encoded
// bytes and fetch time, in Redis for retain, so that a replica answers
// from what another fetched. A short lock per key, renewed while its
// flight runs, makes one upstream flight across replicas. Every failure
// means "not found" or "not stored": the caller carries on as without
// Redis.
type sharedCache struct {
	store   *redisstore.Store
	retain  time.Duration
	maxWait time.Duration // the longest a request waits on another replica's flight
	lookups *prometheus.CounterVec
	waits   *prometheus.CounterVec
	now     func() time.Time // the server's clock, which judges freshness and waits
}

func newSharedCache(store *redisstore.Store, retain, maxWait time.Duration, now func() time.Time, reg prometheus.Registerer) *sharedCache {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mudscf_redis_cache_requests_total", Help: "Lookups in the shared cache after a local miss, by kind (page, stats) and result (hit, miss).",
	}, []string{"kind", "result"})
	waits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mudscf_redis_flight_waits_total",
		Help: "Flights that found another replica fetching the key, by how the wait ended: answered, stale (its last answer at once), freed (its lock lapsed or was released), maxwait (budget.maxWait passed).",
	}, []string{"outcome"})
	reg.MustRegister(lookups, waits)
	for _, kind := range []string{"page", "stats"} {
		for _, result := range []string{"hit", "miss"} {
			lookups.WithLabelValues(kind, result)
		}
	}
	for _, o := range []string{waitAnswered, waitStale, waitFreed, waitMaxWait} {
		waits.WithLabelValues(o)
	}
	return &sharedCache{store: store, retain: retain, maxWait: maxWait, lookups: lookups, waits: waits, now: now}
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

func (c *sharedCache) fresh(e *cached, ttl time.Duration) bool {
	return c.now().Sub(e.fetched) < ttl
}

// claimed is what claim found: another replica's fresh answer, its last
// answer while it fetches anew, its flight still running at maxWait
// (busy), or none of these, and then maybe the key's lock.
type claimed struct {
	fresh, stale *cached
	busy         bool
	lock         *flightLock // nil: fetch without it (Redis failed)
}

// claim returns a fresh entry another replica stored. Without one it takes
// the key's flight lock: this replica fetches, the lock renewed until put
// and release. If another replica holds the lock, claim returns that
// replica's last answer if it is at most staleFor old (0: none will do),
// or else waits for its new one, at most maxWait; a lock that lapses or is
// released meanwhile is taken over. Still held at maxWait, the lock's
// holder lives (it renews the lock) and is fetching the key: a second
// flight would spend a slot of the same budget on the same answer.
func (c *sharedCache) claim(ctx context.Context, kind, key string, ttl, staleFor time.Duration) claimed {
	e, ok := c.get(ctx, key)
	if !c.store.Up() {
		return claimed{}
	}
	if ok && c.fresh(e, ttl) {
		c.lookups.WithLabelValues(kind, "hit").Inc()
		return claimed{fresh: e}
	}
	c.lookups.WithLabelValues(kind, "miss").Inc()
	got, held := c.take(ctx, key, ttl)
	switch {
	case got.fresh != nil || got.lock != nil || !held:
		return got
	case ok && staleFor > 0 && c.now().Sub(e.fetched) <= staleFor:
		c.waits.WithLabelValues(waitStale).Inc()
		return claimed{stale: e}
	}
	return c.await(ctx, key, ttl)
}

// take tries for the key's flight lock. Taken, it looks at the value once
// more: the holder before may have stored its answer and released the
// lock since the caller last looked. held says another replica holds it.
func (c *sharedCache) take(ctx context.Context, key string, ttl time.Duration) (got claimed, held bool) {
	token := rand.Text()
	rctx, cancel := c.store.OpContext(ctx)
	began := time.Now()
	ok, err := c.store.Client().SetNX(rctx, c.lockKey(key), token, flightLease).Result()
	cancel()
	if !c.store.Result("cache_lock", began, err) {
		return claimed{}, false
	}
	if !ok {
		return claimed{}, true
	}
	lock := c.hold(key, token)
	if e, found := c.get(ctx, key); found && c.fresh(e, ttl) {
		lock.release(ctx)
		return claimed{fresh: e}, false
	}
	return claimed{lock: lock}, false
}

// await polls for the other replica's answer until it appears, its lock is
// gone and this replica takes it, or maxWait passes on the server's clock
// (busy).
func (c *sharedCache) await(ctx context.Context, key string, ttl time.Duration) claimed {
	deadline := c.now().Add(c.maxWait)
	for {
		time.Sleep(sharedPoll)
		if !c.store.Usable() {
			return claimed{}
		}
		rctx, cancel := c.store.OpContext(ctx)
		began := time.Now()
		pipe := c.store.Client().Pipeline()
		val := pipe.Get(rctx, c.valueKey(key))
		exists := pipe.Exists(rctx, c.lockKey(key))
		_, err := pipe.Exec(rctx)
		cancel()
		if !c.store.Result("cache_get", began, err) {
			return claimed{}
		}
		if b, err := val.Bytes(); err == nil {
			if e, ok := decode(b); ok && c.fresh(e, ttl) {
				c.waits.WithLabelValues(waitAnswered).Inc()
				return claimed{fresh: e}
			}
		}
		if exists.Val() == 0 {
			got, held := c.take(ctx, key, ttl)
			switch {
			case got.fresh != nil:
				c.waits.WithLabelValues(waitAnswered).Inc()
				return got
			case got.lock != nil:
				c.waits.WithLabelValues(waitFreed).Inc()
				return got
			case !held: // Redis failed
				return got
			}
			// Another waiter took it first: wait on its flight instead.
		}
		if !c.now().Before(deadline) {
			c.waits.WithLabelValues(waitMaxWait).Inc()
			return claimed{busy: true}
		}
	}
}

// put stores e under key for retain, as the local cache keeps it.
func (c *sharedCache) put(ctx context.Context, e *cached, key string) {
	if !c.store.Usable() {
		return
	}
	rctx, cancel := c.store.OpContext(ctx)
	defer cancel()
	v := encode(e)
	began := time.Now()
	c.store.Result("cache_set", began, c.store.Client().Set(rctx, c.valueKey(key), v, c.retain).Err())
}

// flightLock is a key's flight lock this replica holds, renewed until
// released.
type flightLock struct {
	c          *sharedCache
	key, token string
	stop, done chan struct{}
}

func (c *sharedCache) hold(key, token string) *flightLock {
	l := &flightLock{c: c, key: key, token: token, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renew()
	return l
}

// renew extends the lease every third of it until released, or until the
// lock turns out to be lost (it lapsed, and may be another's now).
func (l *flightLock) renew() {
	defer close(l.done)
	tick := time.NewTicker(flightLease / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		s := l.c.store
		if !s.Usable() {
			continue
		}
		ctx, cancel := s.OpContext(context.Background())
		began := time.Now()
		n, err := renewScript.Run(ctx, s.Client(), []string{l.c.lockKey(l.key)}, l.token, flightLease.Milliseconds()).Int()
		cancel()
		if s.Result("cache_lock", began, err) && n == 0 {
			return
		}
	}
}

// release stops the renewals and gives up the lock, so that replicas still
// waiting take it (and fetch) at once, or find the answer put stored. A
// nil lock is none.
func (l *flightLock) release(ctx context.Context) {
	if l == nil {
		return
	}
	close(l.stop)
	<-l.done
	s := l.c.store
	if !s.Usable() {
		return
	}
	rctx, cancel := s.OpContext(ctx)
	defer cancel()
	s.Result("cache_lock", time.Now(), unlockScript.Run(rctx, s.Client(), []string{l.c.lockKey(l.key)}, l.token).Err())
}
