package budget

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
)

// acquireScript takes a slot of the account, or says when one frees.
//
// The slots (see luaAcquire) free on Redis's clock: a call in flight
// ("i:" member) frees at grant+lease+window, so that a replica dying
// mid-call cannot hold it forever, and since the lease exceeds any call's
// life the window still starts after its answer; a completed call ("d:")
// frees one window after its answer.
//
// While the probe key exists (pauseScript sets it) the account is probing:
// one call at a time, the probe, whose member the key then holds, until a
// completion after the pause's end (doneScript) deletes the key.
//
// KEYS: slots, pause, instance, probe. ARGV after luaAcquire's: window µs,
// lease µs, member, probe memory µs.
var acquireScript = redis.NewScript(luaAcquire + `
local window, lease = tonumber(ARGV[8]), tonumber(ARGV[9])
local used = redis.call('ZCARD', KEYS[1])
local cap = limit - spare
local probe = redis.call('GET', KEYS[4])
local probeOut = probe and probe ~= '' and redis.call('ZSCORE', KEYS[1], 'i:' .. probe)
if paused <= now and used < cap and not probeOut then
  redis.call('ZADD', KEYS[1], now + lease + window, 'i:' .. ARGV[10])
  if probe then
    redis.call('SET', KEYS[4], ARGV[10], 'PX', math.ceil(tonumber(ARGV[11]) / 1000))
  end
  result = {1, 0, inst}
else
  local at = paused
  -- The probe may be answered at any moment, on any replica.
  if probeOut and at < now + poll then at = now + poll end
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
` + luaAcquireEnd)

// doneScript moves a call from in flight to completed, now on Redis's
// clock (after the answer arrived). It adds the completed entry even if
// the lease already ran out: counting a call twice only costs capacity.
// A completion after the pause's end ends probing; one during the pause
// (the call whose RequestLimitExceeded started it) does not.
//
// KEYS: slots, pause, probe. ARGV: member, window µs.
var doneScript = redis.NewScript(luaNow + `
redis.call('ZREM', KEYS[1], 'i:' .. ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), 'd:' .. ARGV[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') <= now then
  redis.call('DEL', KEYS[3])
end
` + luaExpire + `
return 1
`)

// pauseScript stops grants on every replica for ARGV[1] µs, on Redis's
// clock, and starts probing (see acquireScript). A probe already in flight
// stays the probe.
//
// KEYS: pause, probe. ARGV: µs, probe memory µs.
var pauseScript = redis.NewScript(luaPause + `
redis.call('SET', KEYS[2], '', 'NX')
local keep = math.ceil((till - now + tonumber(ARGV[2])) / 1000)
if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
return 1
`)

// shared is localBudget's guarantee — at most limit calls per account in
// any sliding window, each counted from its answer and holding its slot
// while in flight — across every replica sharing the Redis server, behind
// a redisQueue whose local fallback is a localBudget.
//
// After a pause, as in localBudget, one call at a time goes out, on
// whichever replica, until one completes after the pause.
type shared struct {
	redisQueue
	slotsKey, pauseKey, instKey, probeKey string
	window, lease                         time.Duration
	nextFreeAt                            time.Time // guarded by mu
}

// newShared shares the budget of account (its SecretId). A call's lease is the
// upstream timeout plus a second of scheduling slack.
func newShared(store *redisstore.Store, account string, limit int, window, maxWait, upstreamTimeout time.Duration, weights Weights) *shared {
	tag := store.Key("budget:{" + redisstore.Hash(account) + "}:")
	lease := upstreamTimeout + time.Second
	return &shared{
		redisQueue: redisQueue{
			store: store, limit: limit, maxWait: maxWait, counted: lease + window, unknownRetry: window,
			local: newLocal(limit/store.Replicas(), window, maxWait, weights), script: "budget",
			waiters: waitQueue[*redisWaiter]{weights: weights}, drained: make(chan struct{}),
		},
		slotsKey: tag + "slots", pauseKey: tag + "pause", instKey: tag + "instance", probeKey: tag + "probe",
		window: window, lease: lease,
	}
}

// Acquire waits for a slot, in Redis or, while it is unreachable, in the
// local budget.
func (b *shared) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	return b.acquire(ctx, b, p)
}

// try runs the acquire script once: a grant, or how long until a slot
// frees.
func (b *shared) try(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	id := rand.Text()
	granted, wait, err := b.run(ctx, p, acquireScript, []string{b.slotsKey, b.pauseKey, b.instKey, b.probeKey},
		b.window.Microseconds(), b.lease.Microseconds(), id, b.probeMemory().Microseconds())
	if !granted {
		return nil, wait, err
	}
	return sharedGrant{b: b, id: id}, 0, nil
}

// etaLocked counts a window for every limit waiters ahead, after the slot
// the first one last heard of.
func (b *shared) etaLocked(ahead int, now time.Time) time.Time {
	if ahead == 0 {
		return time.Time{}
	}
	return latest(b.nextFreeAt, now).Add(time.Duration(ahead/b.limit) * b.window)
}

// waitLocked: the script's wait is when a slot frees, unless one on
// another replica completes earlier.
func (b *shared) waitLocked(now time.Time, wait time.Duration, deadline time.Time) bool {
	b.nextFreeAt = now.Add(wait)
	return b.nextFreeAt.After(deadline)
}

func (b *shared) retryAfterLocked(time.Duration) time.Duration {
	if d := time.Until(b.nextFreeAt); d > 0 {
		return d
	}
	return b.window
}

// probeMemory is how long probing outlives the pause, or the last probe's
// grant, with no probe in flight: by then every waiter that queued behind
// the pause or the probe has given up, and with it the storm probing is
// there to prevent. The key must expire: accounts come and go.
func (b *shared) probeMemory() time.Duration {
	return b.lease + b.window + b.maxWait
}

// Pause stops grants on every replica (through Redis) and locally.
func (b *shared) Pause(d time.Duration) {
	b.pause(d, pauseScript, []string{b.pauseKey, b.probeKey}, d.Microseconds(), b.probeMemory().Microseconds())
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
