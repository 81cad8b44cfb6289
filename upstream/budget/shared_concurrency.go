package budget

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
)

// semAcquireScript takes a slot of a concurrency limit, or says when to
// try again.
//
// The holders are a sorted set scored by when their lease ends, on Redis's
// clock: a replica that dies mid-call holds its slot no longer than the
// lease, which exceeds any call's life. Reserves ("r:") cover calls Redis
// cannot know of (see sharedConcurrency), as in acquireScript.
//
// KEYS: holders, pause, instance. ARGV: limit, spare, lease µs, member,
// expected instance ("" on first use), new instance, reserve count,
// reserve µs, poll µs. Returns {1, 0, instance} for a grant, {0, µs to
// wait, instance}.
var semAcquireScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, spare, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local inst = redis.call('GET', KEYS[3])
if not inst then
  inst = ARGV[6]
  redis.call('SET', KEYS[3], inst)
end
local reserve = tonumber(ARGV[7])
if ARGV[5] ~= '' and ARGV[5] ~= inst then
  reserve = limit
end
local horizon = now + tonumber(ARGV[8])
for i = 1, reserve do
  local s = redis.call('ZSCORE', KEYS[1], 'r:' .. i)
  if not s or tonumber(s) < horizon then
    redis.call('ZADD', KEYS[1], horizon, 'r:' .. i)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
local result
if paused > now then
  result = {0, paused - now, inst}
elseif redis.call('ZCARD', KEYS[1]) < limit - spare then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[4])
  result = {1, 0, inst}
else
  -- A holder may complete at any moment, on any replica.
  result = {0, tonumber(ARGV[9]), inst}
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(last[2]) - now) / 1000) + 1000) end
return result
`)

// semPauseScript stops grants on every replica for ARGV[1] µs.
var semPauseScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local till = now + tonumber(ARGV[1])
if till > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], till, 'PX', math.ceil(tonumber(ARGV[1]) / 1000))
end
return 1
`)

// sharedConcurrency is Concurrency's guarantee — at most limit calls in
// flight at once — across every replica sharing the Redis server: a
// semaphore whose holders have leases.
//
// While Redis is unreachable each replica falls back to a local
// Concurrency of floor(limit/replicas) slots. The transitions keep the
// count, as the shared rate budget's do: going local, the local limiter
// first waits a lease, by which time every call Redis granted has ended;
// back on Redis (or on finding its data gone), the replica reserves the
// slots the replicas may be using locally until every replica must have
// noticed Redis is back and its local calls have ended.
//
// One waiter per replica and key tries Redis at a time, interactive
// before background, FIFO within each; background calls leave one slot
// spare for the other replicas' interactive ones.
type sharedConcurrency struct {
	store                     *redisstore.Store
	holdersKey, pauseKey, key string
	instKey                   string
	limit                     int
	lease, maxWait            time.Duration
	local                     *Concurrency

	mu         sync.Mutex
	queue      [2][]*redisWaiter
	instance   string
	seenDowns  uint64
	localDowns uint64
}

// NewConcurrencyLimiter is a concurrency limit of limit calls on key (a
// CLS topic, say): local, or shared through store when it is not nil.
// upstreamTimeout bounds a call, and so how long a replica that died
// mid-call can hold a slot.
func NewConcurrencyLimiter(limit int, maxWait time.Duration, store *redisstore.Store, key string, upstreamTimeout time.Duration) Limiter {
	if store == nil {
		return NewConcurrency(limit, maxWait)
	}
	return newSharedConcurrency(store, key, limit, maxWait, upstreamTimeout)
}

func newSharedConcurrency(store *redisstore.Store, key string, limit int, maxWait, upstreamTimeout time.Duration) *sharedConcurrency {
	tag := store.Key("sem:{" + redisstore.Hash(key) + "}:")
	return &sharedConcurrency{
		store: store, holdersKey: tag + "holders", pauseKey: tag + "pause", instKey: tag + "instance", key: key,
		limit: limit, lease: upstreamTimeout + time.Second, maxWait: maxWait,
		local: NewConcurrency(limit/store.Replicas(), maxWait),
	}
}

// Acquire waits for a slot, in Redis or, while it is unreachable, in the
// local limiter.
func (b *sharedConcurrency) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(b.maxWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	wasUp := b.store.Up()
	if !b.store.Usable() {
		return b.acquireLocal(ctx, p, start, deadline)
	}
	probe := !wasUp
	w := &redisWaiter{turn: make(chan struct{}, 1)}
	b.mu.Lock()
	b.queue[p] = append(b.queue[p], w)
	b.mu.Unlock()
	defer b.leave(p, w)

	timeout := time.NewTimer(deadline.Sub(start))
	defer timeout.Stop()
	for {
		b.mu.Lock()
		head := b.headLocked() == w
		b.mu.Unlock()
		if !head {
			select {
			case <-w.turn:
				continue
			case <-timeout.C:
				return nil, time.Since(start), &RefusedError{RetryAfter: BusyRetryAfter}
			case <-ctx.Done():
				return nil, time.Since(start), ctx.Err()
			}
		}
		if !probe && !b.store.Up() {
			b.leave(p, w)
			return b.acquireLocal(ctx, p, start, deadline)
		}
		probe = false
		g, wait, err := b.try(ctx, p)
		if err != nil {
			b.store.Failed("budget_acquire", err)
			if b.store.Up() {
				return nil, time.Since(start), &RefusedError{RetryAfter: BusyRetryAfter}
			}
			b.leave(p, w)
			return b.acquireLocal(ctx, p, start, deadline)
		}
		if g != nil {
			return g, time.Since(start), nil
		}
		if time.Now().Add(wait).After(deadline) && wait > redisPoll {
			// Paused past the deadline.
			return nil, time.Since(start), &RefusedError{RetryAfter: wait}
		}
		t := time.NewTimer(min(wait, redisPoll))
		select {
		case <-t.C:
		case <-w.turn: // a slot freed on this replica
			t.Stop()
		case <-timeout.C:
			t.Stop()
			return nil, time.Since(start), &RefusedError{RetryAfter: max(wait, BusyRetryAfter)}
		case <-ctx.Done():
			t.Stop()
			return nil, time.Since(start), ctx.Err()
		}
	}
}

// try runs the acquire script once: a grant, or how long to wait.
func (b *sharedConcurrency) try(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	downs := b.store.Downs()
	b.mu.Lock()
	expected, rejoin := b.instance, downs != b.seenDowns
	b.mu.Unlock()
	reserve := 0
	if rejoin {
		reserve = b.store.Replicas() * (b.limit / b.store.Replicas())
	}
	spare := 0
	if p == Background && b.limit > 1 {
		spare = 1
	}
	id := rand.Text()
	rctx, cancel := b.store.OpContext(ctx)
	defer cancel()
	began := time.Now()
	res, err := semAcquireScript.Run(rctx, b.store.Client(), []string{b.holdersKey, b.pauseKey, b.instKey},
		b.limit, spare, b.lease.Microseconds(), "i:"+id, expected, rand.Text(),
		reserve, b.reserveFor().Microseconds(), redisPoll.Microseconds()).Slice()
	if err != nil {
		return nil, 0, err
	}
	if len(res) != 3 {
		return nil, 0, errors.New("redis: unexpected answer from the semaphore script")
	}
	granted, okG := res[0].(int64)
	wait, okW := res[1].(int64)
	instance, okI := res[2].(string)
	if !okG || !okW || !okI {
		return nil, 0, errors.New("redis: unexpected answer from the semaphore script")
	}
	b.store.Succeeded(began)
	b.mu.Lock()
	b.instance, b.seenDowns = instance, downs
	b.mu.Unlock()
	if granted == 1 {
		return &semGrant{b: b, member: "i:" + id}, 0, nil
	}
	return nil, time.Duration(wait) * time.Microsecond, nil
}

// reserveFor is how long a rejoining replica reserves the local shares:
// until every other replica has probed Redis again and its local calls
// have ended (see shared.reserveFor).
func (b *sharedConcurrency) reserveFor() time.Duration {
	return redisstore.ProbeInterval + b.store.DialTimeout() + b.store.OpTimeout() + b.maxWait + b.lease
}

// acquireLocal is the fallback; after each loss of Redis the local limiter
// starts with a pause of a lease: calls Redis granted may still run.
func (b *sharedConcurrency) acquireLocal(ctx context.Context, p Priority, start, deadline time.Time) (Grant, time.Duration, error) {
	b.store.Fallback("budget")
	b.mu.Lock()
	if downs := b.store.Downs(); downs != b.localDowns {
		b.localDowns = downs
		b.local.Pause(b.lease)
	}
	b.mu.Unlock()
	lctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	g, _, err := b.local.Acquire(lctx, p)
	switch {
	case err == nil:
		return g, time.Since(start), nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return nil, time.Since(start), &RefusedError{RetryAfter: BusyRetryAfter}
	}
	return nil, time.Since(start), err
}

// Pause stops grants on every replica (through Redis) and locally.
func (b *sharedConcurrency) Pause(d time.Duration) {
	b.local.Pause(d)
	if !b.store.Usable() {
		return
	}
	ctx, cancel := b.store.OpContext(context.Background())
	defer cancel()
	b.store.Result("budget_pause", time.Now(), semPauseScript.Run(ctx, b.store.Client(), []string{b.pauseKey}, d.Microseconds()).Err())
}

func (b *sharedConcurrency) headLocked() *redisWaiter {
	for _, q := range b.queue {
		if len(q) > 0 {
			return q[0]
		}
	}
	return nil
}

// leave removes w from the queue (if still there) and wakes the waiter now
// first.
func (b *sharedConcurrency) leave(p Priority, w *redisWaiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queue[p] = slices.DeleteFunc(b.queue[p], func(x *redisWaiter) bool { return x == w })
	b.wakeHeadLocked()
}

func (b *sharedConcurrency) wakeHeadLocked() {
	if h := b.headLocked(); h != nil {
		select {
		case h.turn <- struct{}{}:
		default:
		}
	}
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
