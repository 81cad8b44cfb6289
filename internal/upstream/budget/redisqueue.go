package budget

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
)

// redisPoll caps how long the replica's first waiter sleeps between two
// tries: slots held by calls in flight free when those calls complete, on
// any replica, and only a new try can see that.
const redisPoll = 50 * time.Millisecond

// luaNow opens every script: times are Redis's, the one clock all
// replicas share. They are in microseconds: whole milliseconds would free
// a slot up to 1ms early.
const luaNow = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`

// luaAcquire opens an acquire script, which then sets result to {1, 0,
// instance} for a grant or {0, µs to wait, instance}, and ends with
// luaAcquireEnd.
//
// KEYS[1] is a sorted set of what holds a slot, scored by when it frees;
// KEYS[2] the pause's end; KEYS[3] the instance, which names the data set.
// ARGV 1-7: limit, spare, expected instance ("" on first use), new
// instance, reserve count, reserve µs, poll µs; the script's own follow.
//
// Reserves ("r:" members) stand for calls Redis cannot know of: those the
// replicas may have made locally while it was unreachable (see
// redisQueue).
const luaAcquire = luaNow + `
local limit, spare, poll = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[7])
local inst = redis.call('GET', KEYS[3])
if not inst then
  inst = ARGV[4]
  redis.call('SET', KEYS[3], inst)
end
local reserve = tonumber(ARGV[5])
if ARGV[3] ~= '' and ARGV[3] ~= inst then
  -- The data went (a restart without persistence): calls granted
  -- before are forgotten, so the whole limit is reserved.
  reserve = limit
end
local horizon = now + tonumber(ARGV[6])
for i = 1, reserve do
  local s = redis.call('ZSCORE', KEYS[1], 'r:' .. i)
  if not s or tonumber(s) < horizon then
    redis.call('ZADD', KEYS[1], horizon, 'r:' .. i)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
local result
`

// luaExpire keeps the set KEYS[1] only as long as its last member: the
// accounts and topics keyed come and go.
const luaExpire = `
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(last[2]) - now) / 1000) + 1000) end
`

const luaAcquireEnd = luaExpire + `
return result
`

// luaPause stops grants on every replica until till, ARGV[1] µs from
// now, unless a pause already lasts longer; till is then its end.
//
// KEYS[1]: pause.
const luaPause = luaNow + `
local till = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if till > paused then
  redis.call('SET', KEYS[1], till, 'PX', math.ceil(tonumber(ARGV[1]) / 1000))
else
  till = paused
end
`

// redisLimiter is what a limiter kept in Redis knows that its redisQueue
// does not: its script, and what a wait the script says means. The queue
// calls the Locked methods with its mutex held.
type redisLimiter interface {
	// try runs the acquire script once: a grant, or how long to wait.
	try(ctx context.Context, p Priority) (Grant, time.Duration, error)
	// etaLocked is when a caller with ahead waiters before it on this
	// replica expects its grant; the zero time when that cannot be told.
	etaLocked(ahead int, now time.Time) time.Time
	// waitLocked takes a try's wait, answered at now, and says whether it
	// outlasts deadline: a refusal at once rather than at the deadline.
	waitLocked(now time.Time, wait time.Duration, deadline time.Time) bool
	// retryAfterLocked is the Retry-After of a caller refused at its
	// deadline; wait is the last a try told it, 0 if it was not first.
	retryAfterLocked(wait time.Duration) time.Duration
}

// redisQueue is one replica's line in front of a limit kept in Redis,
// with the local fallback the replica uses while Redis is unreachable: a
// limiter of floor(limit/replicas) slots, so that the replicas together
// stay within limit. Both transitions must not forget calls:
//   - going local, the local limiter first waits counted, by which time
//     every call Redis granted to any replica no longer counts;
//   - back on Redis (or on finding its data gone), the replica reserves the
//     slots the replicas may have spent locally (replicas*floor(limit/
//     replicas), or all of them after data loss) until every replica must
//     have noticed Redis is back and its local calls no longer count.
//
// One waiter per replica and limit tries Redis at a time, the replica's
// waiters taking turns by project and by priority inside each (see
// waitQueue), so that waiters do not flood Redis with tries; background
// calls also leave one slot spare for the other replicas' interactive
// ones. The turns are the replica's own: across replicas, each replica's
// first waiter competes for a slot in Redis as it frees, whatever its
// project (see docs/operations.md, "Fairness across replicas").
type redisQueue struct {
	store   *redisstore.Store
	limit   int
	maxWait time.Duration
	// counted is how long a call Redis granted may still count against
	// the limit: its lease, which exceeds any call's life, and for a rate
	// the window after it.
	counted time.Duration
	// unknownRetry is the Retry-After of a refusal that cannot tell when
	// a slot frees.
	unknownRetry time.Duration
	// freesOnDone: a slot frees the moment a call on this replica is done
	// (a semaphore's), and the first waiter is woken to try at once
	// rather than at its next poll.
	freesOnDone bool
	local       Limiter
	script      string // its name, in errors

	mu         sync.Mutex
	waiters    waitQueue[*redisWaiter]
	drained    chan struct{} // closed by Drain
	instance   string        // the Redis data set this replica has been using
	seenDowns  uint64        // store.downs when the limiter last used Redis
	localDowns uint64        // store.downs when the local limiter last started over
}

// redisWaiter is a place in the queue; turn wakes it when it may be first.
type redisWaiter struct{ turn chan struct{} }

// acquire is Acquire for the limiter l: in Redis or, while it is
// unreachable, in the local limiter.
func (q *redisQueue) acquire(ctx context.Context, l redisLimiter, p Priority) (Grant, time.Duration, error) {
	start := time.Now()
	deadline := deadlineOf(ctx, start, q.maxWait)
	at := place{project: ProjectOf(ctx), prio: p}
	if q.isDrained() {
		return nil, 0, ErrDraining
	}
	wasUp := q.store.Up()
	if !q.store.Usable() {
		return q.acquireLocal(ctx, p, start, deadline)
	}
	// Redis down but usable: this call is the interval's probe, and tries
	// Redis although the store says down.
	probe := !wasUp
	w := &redisWaiter{turn: make(chan struct{}, 1)}
	q.mu.Lock()
	if eta := l.etaLocked(q.waiters.ahead(at), start); eta.After(deadline) {
		q.mu.Unlock()
		return nil, 0, &RefusedError{RetryAfter: eta.Sub(start)}
	}
	q.waiters.push(at, w)
	q.mu.Unlock()
	defer q.leave(at, w)

	timeout := time.NewTimer(deadline.Sub(start))
	defer timeout.Stop()
	for {
		q.mu.Lock()
		head, _ := q.waiters.head()
		q.mu.Unlock()
		if head != w {
			select {
			case <-w.turn:
				continue
			case <-timeout.C:
				return nil, time.Since(start), &RefusedError{RetryAfter: q.retryAfter(l, 0)}
			case <-ctx.Done():
				return nil, time.Since(start), ctx.Err()
			case <-q.drained:
				return nil, time.Since(start), ErrDraining
			}
		}
		if !probe && !q.store.Up() {
			q.leave(at, w) // so that the next waiter goes local too, now
			return q.acquireLocal(ctx, p, start, deadline)
		}
		probe = false
		g, wait, err := l.try(ctx, p)
		if err != nil {
			q.store.Failed("budget_acquire", err)
			if q.store.Up() {
				// One failure is not yet a lost Redis, and the local
				// limiter may only start after one: refuse this call.
				return nil, time.Since(start), &RefusedError{RetryAfter: q.unknownRetry}
			}
			q.leave(at, w)
			return q.acquireLocal(ctx, p, start, deadline)
		}
		if g != nil {
			if q.isDrained() {
				// Drained while the try was out: the slot goes back unused.
				g.Done(time.Now())
				return nil, time.Since(start), ErrDraining
			}
			q.mu.Lock()
			q.waiters.served(at, w)
			q.mu.Unlock()
			return g, time.Since(start), nil
		}
		q.mu.Lock()
		late := l.waitLocked(time.Now(), wait, deadline)
		q.mu.Unlock()
		if late {
			return nil, time.Since(start), &RefusedError{RetryAfter: wait}
		}
		// The first waiter polls: a slot may free on another replica.
		if err := q.sleep(ctx, l, w, timeout, wait); err != nil {
			return nil, time.Since(start), err
		}
	}
}

// sleep waits until the next try, unless the deadline or ctx ends first.
func (q *redisQueue) sleep(ctx context.Context, l redisLimiter, w *redisWaiter, deadline *time.Timer, wait time.Duration) error {
	var freed chan struct{} // nil, so a rate budget sleeps its poll out: its slots free a window after Done
	if q.freesOnDone {
		freed = w.turn
	}
	t := time.NewTimer(min(wait, redisPoll))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-freed:
		return nil
	case <-deadline.C:
		return &RefusedError{RetryAfter: q.retryAfter(l, wait)}
	case <-ctx.Done():
		return ctx.Err()
	case <-q.drained:
		return ErrDraining
	}
}

// Drain refuses every waiter with ErrDraining, and every caller from now
// on, here and in the local fallback.
func (q *redisQueue) Drain() {
	q.mu.Lock()
	if !q.isDrained() {
		close(q.drained)
	}
	q.mu.Unlock()
	q.local.Drain()
}

func (q *redisQueue) isDrained() bool {
	select {
	case <-q.drained:
		return true
	default:
		return false
	}
}

func (q *redisQueue) retryAfter(l redisLimiter, wait time.Duration) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	return l.retryAfterLocked(wait)
}

// run runs an acquire script (see luaAcquire) once, with the queue's
// ARGV followed by own: whether it granted, or how long to wait.
func (q *redisQueue) run(ctx context.Context, p Priority, script *redis.Script, keys []string, own ...any) (bool, time.Duration, error) {
	downs := q.store.Downs()
	q.mu.Lock()
	expected, rejoin := q.instance, downs != q.seenDowns
	q.mu.Unlock()
	reserve := 0
	if rejoin {
		reserve = q.store.Replicas() * (q.limit / q.store.Replicas())
	}
	spare := 0
	if p == Background && q.limit > 1 {
		spare = 1
	}
	args := append([]any{q.limit, spare, expected, rand.Text(), reserve, q.reserveFor().Microseconds(), redisPoll.Microseconds()}, own...)
	rctx, cancel := q.store.OpContext(ctx)
	defer cancel()
	began := time.Now()
	res, err := script.Run(rctx, q.store.Client(), keys, args...).Slice()
	if err != nil {
		return false, 0, err
	}
	unexpected := errors.New("redis: unexpected answer from the " + q.script + " script")
	if len(res) != 3 {
		return false, 0, unexpected
	}
	granted, okG := res[0].(int64)
	wait, okW := res[1].(int64)
	instance, okI := res[2].(string)
	if !okG || !okW || !okI {
		return false, 0, unexpected
	}
	q.store.Succeeded(began)
	q.mu.Lock()
	q.instance, q.seenDowns = instance, downs
	q.mu.Unlock()
	return granted == 1, time.Duration(wait) * time.Microsecond, nil
}

// reserveFor is how long a rejoining replica reserves the local shares.
// Another replica may still grant locally until it has probed Redis again
// (a probe interval after its last failure, which may have waited a dial
// and an operation timeout) and its local queue has drained (maxWait);
// that last call counts for counted.
func (q *redisQueue) reserveFor() time.Duration {
	return redisstore.ProbeInterval + q.store.DialTimeout() + q.store.OpTimeout() + q.maxWait + q.counted
}

// acquireLocal is the fallback. The local limiter starts over after each
// loss of Redis with a pause of counted, as if every slot had been used
// just now: other replicas' calls that Redis granted may still count.
func (q *redisQueue) acquireLocal(ctx context.Context, p Priority, start, deadline time.Time) (Grant, time.Duration, error) {
	q.store.Fallback("budget")
	q.mu.Lock()
	if downs := q.store.Downs(); downs != q.localDowns {
		q.localDowns = downs
		q.local.Pause(q.counted)
	}
	q.mu.Unlock()
	lctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	g, _, err := q.local.Acquire(lctx, p)
	switch {
	case err == nil:
		return g, time.Since(start), nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		// Our own deadline, not the caller's: a refusal.
		return nil, time.Since(start), &RefusedError{RetryAfter: q.unknownRetry}
	}
	return nil, time.Since(start), err
}

// pause stops grants locally and, through script, on every replica.
func (q *redisQueue) pause(d time.Duration, script *redis.Script, keys []string, args ...any) {
	q.local.Pause(d)
	if !q.store.Usable() {
		return
	}
	ctx, cancel := q.store.OpContext(context.Background())
	defer cancel()
	q.store.Result("budget_pause", time.Now(), script.Run(ctx, q.store.Client(), keys, args...).Err())
}

// leave removes w from the queue (if still there) and wakes the waiter now
// first, only it: the others have nothing to do.
func (q *redisQueue) leave(at place, w *redisWaiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.waiters.remove(at, w)
	q.wakeHeadLocked()
}

func (q *redisQueue) wakeHeadLocked() {
	if h, ok := q.waiters.head(); ok {
		select {
		case h.turn <- struct{}{}:
		default: // already woken
		}
	}
}
