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

// redisPoll caps how long the replica's first waiter sleeps between two
// tries: slots held by calls in flight free when those calls complete, on
// any replica, and only a new try can see that.
const redisPoll = 50 * time.Millisecond

// acquireScript takes a slot of the account, or says when one frees.
//
// The slots are a sorted set scored by when each frees, on Redis's clock:
// a call in flight ("i:" member) frees at grant+lease+window, so that a
// replica dying mid-call cannot hold it forever, and since the lease
// exceeds any call's life the window still starts after its answer; a
// completed call ("d:") frees one window after its answer; a reserve
// ("r:") covers calls Redis cannot know of (see shared).
//
// While the probe key exists (pauseScript sets it) the account is probing:
// one call at a time, the probe, whose member the key then holds, until a
// completion after the pause's end (doneScript) deletes the key.
//
// KEYS: slots, pause, instance, probe.
// ARGV: limit, spare, window µs, lease µs, member, expected instance (""
// on first use), new instance, reserve count, reserve µs, poll µs, probe
// memory µs. Times are in microseconds: whole milliseconds would free a
// slot up to 1ms early.
// Returns {1, 0, instance} for a grant, {0, µs until a slot frees, instance}.
var acquireScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, spare = tonumber(ARGV[1]), tonumber(ARGV[2])
local window, lease = tonumber(ARGV[3]), tonumber(ARGV[4])

local inst = redis.call('GET', KEYS[3])
if not inst then
  inst = ARGV[7]
  redis.call('SET', KEYS[3], inst)
end
local reserve = tonumber(ARGV[8])
if ARGV[6] ~= '' and ARGV[6] ~= inst then
  -- The data went (a restart without persistence): calls granted
  -- before are forgotten, so the whole account is reserved.
  reserve = limit
end
local horizon = now + tonumber(ARGV[9])
for i = 1, reserve do
  local s = redis.call('ZSCORE', KEYS[1], 'r:' .. i)
  if not s or tonumber(s) < horizon then
    redis.call('ZADD', KEYS[1], horizon, 'r:' .. i)
  end
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
local used = redis.call('ZCARD', KEYS[1])
local cap = limit - spare
local probe = redis.call('GET', KEYS[4])
local probeOut = probe and probe ~= '' and redis.call('ZSCORE', KEYS[1], 'i:' .. probe)
local result
if paused <= now and used < cap and not probeOut then
  redis.call('ZADD', KEYS[1], now + lease + window, 'i:' .. ARGV[5])
  if probe then
    redis.call('SET', KEYS[4], ARGV[5], 'PX', math.ceil(tonumber(ARGV[11]) / 1000))
  end
  result = {1, 0, inst}
else
  local at = paused
  -- The probe may be answered at any moment, on any replica.
  if probeOut and at < now + tonumber(ARGV[10]) then at = now + tonumber(ARGV[10]) end
  if used >= cap then
    local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
    local free = {}
    for i = 1, #all, 2 do
      local f = tonumber(all[i + 1])
      -- A call in flight may complete at any moment.
      if string.sub(all[i], 1, 2) == 'i:' and f > now + window then f = now + window end
      free[#free + 1] = f
    end
    table.sort(free)
    if free[used - cap + 1] > at then at = free[used - cap + 1] end
  end
  result = {0, math.max(at - now, 1000), inst}
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(last[2]) - now) / 1000) + 1000) end
return result
`)

// doneScript moves a call from in flight to completed, now on Redis's
// clock (after the answer arrived). It adds the completed entry even if
// the lease already ran out: counting a call twice only costs capacity.
// A completion after the pause's end ends probing; one during the pause
// (the call whose RequestLimitExceeded started it) does not.
//
// KEYS: slots, pause, probe. ARGV: member, window µs.
var doneScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREM', KEYS[1], 'i:' .. ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), 'd:' .. ARGV[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') <= now then
  redis.call('DEL', KEYS[3])
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(last[2]) - now) / 1000) + 1000)
return 1
`)

// pauseScript stops grants on every replica for ARGV[1] µs, on Redis's
// clock, and starts probing (see acquireScript). A probe already in flight
// stays the probe.
//
// KEYS: pause, probe. ARGV: µs, probe memory µs.
var pauseScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local till = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if till > paused then
  redis.call('SET', KEYS[1], till, 'PX', math.ceil(tonumber(ARGV[1]) / 1000))
else
  till = paused
end
redis.call('SET', KEYS[2], '', 'NX')
local keep = math.ceil((till - now + tonumber(ARGV[2])) / 1000)
if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
return 1
`)

// shared is localBudget's guarantee — at most limit calls per account in
// any sliding window, each counted from its answer and holding its slot
// while in flight — across every replica sharing the Redis server.
//
// While Redis is unreachable each replica falls back to a local Budget of
// floor(limit/replicas) slots, so that the replicas together stay within
// limit. Both transitions must not forget calls:
//   - going local, the local budget first waits lease+window, by which time
//     every call Redis granted to any replica has completed and aged out;
//   - back on Redis (or on finding its data gone), the replica reserves the
//     slots the replicas may have spent locally (replicas*floor(limit/
//     replicas), or all of them after data loss) until every replica must
//     have noticed Redis is back and its local calls have aged out.
//
// One waiter per replica and account tries Redis at a time, interactive
// before background, FIFO within each; background calls also leave one
// slot spare for the other replicas' interactive ones.
//
// After a pause, as in Budget, one call at a time goes out, on whichever
// replica, until one completes after the pause.
type shared struct {
	store                                 *redisstore.Store
	slotsKey, pauseKey, instKey, probeKey string
	limit                                 int
	window, lease, maxWait                time.Duration
	local                                 *localBudget

	mu         sync.Mutex
	queue      [2][]*redisWaiter
	nextFreeAt time.Time
	instance   string // the Redis data set this replica has been using
	seenDowns  uint64 // store.downs when the budget last used Redis
	localDowns uint64 // store.downs when the local budget last started over
}

// redisWaiter is a place in the queue; turn wakes it when it may be first.
type redisWaiter struct{ turn chan struct{} }

// newShared shares the budget of account (its SecretId). A call's lease is the
// upstream timeout plus a second of scheduling slack.
func newShared(store *redisstore.Store, account string, limit int, window, maxWait, upstreamTimeout time.Duration) *shared {
	tag := store.Key("budget:{" + redisstore.Hash(account) + "}:")
	return &shared{
		store: store, slotsKey: tag + "slots", pauseKey: tag + "pause", instKey: tag + "instance", probeKey: tag + "probe",
		limit: limit, window: window, lease: upstreamTimeout + time.Second, maxWait: maxWait,
		local: newLocal(limit/store.Replicas(), window, maxWait),
	}
}

// Acquire waits for a slot, in Redis or, while it is unreachable, in the
// local budget.
func (b *shared) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(b.maxWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	wasUp := b.store.Up()
	if !b.store.Usable() {
		return b.acquireLocal(ctx, p, start, deadline)
	}
	// Redis down but usable: this call is the interval's probe, and tries
	// Redis although the store says down.
	probe := !wasUp
	w := &redisWaiter{turn: make(chan struct{}, 1)}
	b.mu.Lock()
	if ahead := b.aheadLocked(p); ahead > 0 {
		if eta := latest(b.nextFreeAt, start).Add(time.Duration(ahead/b.limit) * b.window); eta.After(deadline) {
			b.mu.Unlock()
			return nil, 0, &RefusedError{RetryAfter: eta.Sub(start)}
		}
	}
	b.queue[p] = append(b.queue[p], w)
	b.mu.Unlock()
	defer b.leave(p, w)

	timeout := time.NewTimer(deadline.Sub(start))
	defer timeout.Stop()
	for {
		b.mu.Lock()
		head := b.headLocked() == w
		b.mu.Unlock()
		if head {
			if !probe && !b.store.Up() {
				b.leave(p, w) // so that the next waiter goes local too, now
				return b.acquireLocal(ctx, p, start, deadline)
			}
			probe = false
			g, wait, err := b.try(ctx, p)
			if err != nil {
				b.store.Failed("budget_acquire", err)
				if b.store.Up() {
					// One failure is not yet a lost Redis, and the local
					// budget may only start after one: refuse this call.
					return nil, time.Since(start), &RefusedError{RetryAfter: b.window}
				}
				b.leave(p, w)
				return b.acquireLocal(ctx, p, start, deadline)
			}
			if g != nil {
				return g, time.Since(start), nil
			}
			now := time.Now()
			b.mu.Lock()
			b.nextFreeAt = now.Add(wait)
			b.mu.Unlock()
			if now.Add(wait).After(deadline) {
				return nil, time.Since(start), &RefusedError{RetryAfter: wait}
			}
			// The first waiter polls: a slot may free on another replica.
			if err := b.sleep(ctx, timeout, min(wait, redisPoll)); err != nil {
				return nil, time.Since(start), err
			}
			continue
		}
		select {
		case <-w.turn:
		case <-timeout.C:
			return nil, time.Since(start), &RefusedError{RetryAfter: b.retryAfter()}
		case <-ctx.Done():
			return nil, time.Since(start), ctx.Err()
		}
	}
}

// sleep waits d, unless the deadline or ctx ends first.
func (b *shared) sleep(ctx context.Context, deadline *time.Timer, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-deadline.C:
		return &RefusedError{RetryAfter: b.retryAfter()}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// try runs the acquire script once: a grant, or how long until a slot
// frees.
func (b *shared) try(ctx context.Context, p Priority) (Grant, time.Duration, error) {
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
	res, err := acquireScript.Run(rctx, b.store.Client(), []string{b.slotsKey, b.pauseKey, b.instKey, b.probeKey},
		b.limit, spare, b.window.Microseconds(), b.lease.Microseconds(), id, expected, rand.Text(),
		reserve, b.reserveFor().Microseconds(), redisPoll.Microseconds(), b.probeMemory().Microseconds()).Slice()
	if err != nil {
		return nil, 0, err
	}
	if len(res) != 3 {
		return nil, 0, errors.New("redis: unexpected answer from the budget script")
	}
	granted, okG := res[0].(int64)
	wait, okW := res[1].(int64)
	instance, okI := res[2].(string)
	if !okG || !okW || !okI {
		return nil, 0, errors.New("redis: unexpected answer from the budget script")
	}
	b.store.Succeeded(began)
	b.mu.Lock()
	b.instance, b.seenDowns = instance, downs
	b.mu.Unlock()
	if granted == 1 {
		return sharedGrant{b: b, id: id}, 0, nil
	}
	return nil, time.Duration(wait) * time.Microsecond, nil
}

// reserveFor is how long a rejoining replica reserves the local shares.
// Another replica may still grant locally until it has probed Redis again
// (a probe interval after its last failure, which may have waited a dial
// and an operation timeout) and its local queue has drained (maxWait);
// that last call completes within a lease and counts for a window.
func (b *shared) reserveFor() time.Duration {
	return redisstore.ProbeInterval + b.store.DialTimeout() + b.store.OpTimeout() + b.maxWait + b.lease + b.window
}

// probeMemory is how long probing outlives the pause, or the last probe's
// grant, with no probe in flight: by then every waiter that queued behind
// the pause or the probe has given up, and with it the storm probing is
// there to prevent. The key must expire: accounts come and go.
func (b *shared) probeMemory() time.Duration {
	return b.lease + b.window + b.maxWait
}

// acquireLocal is the fallback. The local budget starts over after each
// loss of Redis with a pause of lease+window, as if every slot had been
// used just now: other replicas' calls that Redis granted may still be in
// flight.
func (b *shared) acquireLocal(ctx context.Context, p Priority, start, deadline time.Time) (Grant, time.Duration, error) {
	b.store.Fallback("budget")
	b.mu.Lock()
	if downs := b.store.Downs(); downs != b.localDowns {
		b.localDowns = downs
		b.local.Pause(b.lease + b.window)
	}
	b.mu.Unlock()
	lctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	g, _, err := b.local.Acquire(lctx, p)
	switch {
	case err == nil:
		return g, time.Since(start), nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		// Our own deadline, not the caller's: a budget refusal.
		return nil, time.Since(start), &RefusedError{RetryAfter: b.window}
	}
	return nil, time.Since(start), err
}

// Pause stops grants on every replica (through Redis) and locally.
func (b *shared) Pause(d time.Duration) {
	b.local.Pause(d)
	if !b.store.Usable() {
		return
	}
	ctx, cancel := b.store.OpContext(context.Background())
	defer cancel()
	b.store.Result("budget_pause", time.Now(), pauseScript.Run(ctx, b.store.Client(), []string{b.pauseKey, b.probeKey}, d.Microseconds(), b.probeMemory().Microseconds()).Err())
}

func (b *shared) retryAfter() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d := time.Until(b.nextFreeAt); d > 0 {
		return d
	}
	return b.window
}

func (b *shared) aheadLocked(p Priority) int {
	n := len(b.queue[Interactive])
	if p == Background {
		n += len(b.queue[Background])
	}
	return n
}

func (b *shared) headLocked() *redisWaiter {
	for _, q := range b.queue {
		if len(q) > 0 {
			return q[0]
		}
	}
	return nil
}

// leave removes w from the queue (if still there) and wakes the waiter now
// first, only it: the others have nothing to do.
func (b *shared) leave(p Priority, w *redisWaiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queue[p] = slices.DeleteFunc(b.queue[p], func(x *redisWaiter) bool { return x == w })
	if h := b.headLocked(); h != nil {
		select {
		case h.turn <- struct{}{}:
		default: // already woken
		}
	}
}

// sharedGrant is a slot in Redis.
type sharedGrant struct {
	b  *shared
	id string
}

// Done records the completion on Redis's clock, which is after the answer
// arrived. If Redis is unreachable the slot frees when its lease runs out.
func (g sharedGrant) Done(time.Time) {
	s := g.b.store
	if !s.Usable() {
		return
	}
	ctx, cancel := s.OpContext(context.Background())
	defer cancel()
	s.Result("budget_done", time.Now(), doneScript.Run(ctx, s.Client(), []string{g.b.slotsKey, g.b.pauseKey, g.b.probeKey}, g.id, g.b.window.Microseconds()).Err())
}
