package budget

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
)

// semAcquireScript takes a slot of a concurrency limit, or says when to
// try again.
//
// The holders (see luaAcquire) are scored by when their lease ends, on
// Redis's clock: a replica that dies mid-call holds its slot no longer
// than the lease, which exceeds any call's life.
//
// KEYS: holders, pause, instance. ARGV after luaAcquire's: lease µs,
// member.
var semAcquireScript = redis.NewScript(luaAcquire + `
if paused > now then
  result = {0, paused - now, inst}
elseif redis.call('ZCARD', KEYS[1]) < limit - spare then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[8]), ARGV[9])
  result = {1, 0, inst}
else
  -- A holder may complete at any moment, on any replica.
  result = {0, poll, inst}
end
` + luaAcquireEnd)

// semPauseScript stops grants on every replica for ARGV[1] µs.
var semPauseScript = redis.NewScript(luaPause + `
return 1
`)

// sharedConcurrency is Concurrency's guarantee — at most limit calls in
// flight at once — across every replica sharing the Redis server: a
// semaphore whose holders have leases, behind a redisQueue whose local
// fallback is a Concurrency.
type sharedConcurrency struct {
	redisQueue
	holdersKey, pauseKey, instKey string
	lease                         time.Duration
}

// NewConcurrencyLimiter is a concurrency limit of limit calls on key (a
// CLS topic, say), with cfg's maxWait and weights: local, or shared
// through store when it is not nil.
// upstreamTimeout bounds a call, and so how long a replica that died
// mid-call can hold a slot.
func NewConcurrencyLimiter(limit int, cfg Config, store *redisstore.Store, key string, upstreamTimeout time.Duration) Limiter {
	if store == nil {
		return NewConcurrency(limit, cfg.MaxWait, cfg.Weights)
	}
	return newSharedConcurrency(store, key, limit, cfg.MaxWait, upstreamTimeout, cfg.Weights)
}

func newSharedConcurrency(store *redisstore.Store, key string, limit int, maxWait, upstreamTimeout time.Duration, weights Weights) *sharedConcurrency {
	tag := store.Key("sem:{" + redisstore.Hash(key) + "}:")
	lease := upstreamTimeout + time.Second
	return &sharedConcurrency{
		redisQueue: redisQueue{
			store: store, limit: limit, maxWait: maxWait, counted: lease, unknownRetry: BusyRetryAfter, freesOnDone: true,
			local: NewConcurrency(limit/store.Replicas(), maxWait, weights), script: "semaphore",
			waiters: waitQueue[*redisWaiter]{weights: weights}, drained: make(chan struct{}),
		},
		holdersKey: tag + "holders", pauseKey: tag + "pause", instKey: tag + "instance",
		lease: lease,
	}
}

// Acquire waits for a slot, in Redis or, while it is unreachable, in the
// local limiter.
func (b *sharedConcurrency) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	return b.acquire(ctx, b, p)
}

// try runs the acquire script once: a grant, or how long to wait.
func (b *sharedConcurrency) try(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	member := "i:" + rand.Text()
	granted, wait, err := b.run(ctx, p, semAcquireScript, []string{b.holdersKey, b.pauseKey, b.instKey},
		b.lease.Microseconds(), member)
	if !granted {
		return nil, wait, err
	}
	return &semGrant{b: b, member: member}, 0, nil
}

// etaLocked cannot tell: a slot frees when some call completes.
func (b *sharedConcurrency) etaLocked(int, time.Time) time.Time { return time.Time{} }

// waitLocked refuses at once only a pause past the deadline: a wait of a
// poll says the slots are busy, and one may free at any moment.
func (b *sharedConcurrency) waitLocked(now time.Time, wait time.Duration, deadline time.Time) bool {
	return now.Add(wait).After(deadline) && wait > redisPoll
}

func (b *sharedConcurrency) retryAfterLocked(wait time.Duration) time.Duration {
	return max(wait, BusyRetryAfter)
}

// Pause stops grants on every replica (through Redis) and locally.
func (b *sharedConcurrency) Pause(d time.Duration) {
	b.pause(d, semPauseScript, []string{b.pauseKey}, d.Microseconds())
}

// semGrant is a slot in Redis.
type semGrant struct {
	b      *sharedConcurrency
	member string
}

// Done frees the slot; a second Done removes nothing more. If Redis is
// unreachable the slot frees when its lease ends.
func (g *semGrant) Done(time.Time) {
	s := g.b.store
	if s.Usable() {
		ctx, cancel := s.OpContext(context.Background())
		s.Result("budget_done", time.Now(), s.Client().ZRem(ctx, g.b.holdersKey, g.member).Err())
		cancel()
	}
	g.b.mu.Lock()
	g.b.wakeHeadLocked()
	g.b.mu.Unlock()
}
