package budget

import (
	"context"
	"slices"
	"time"
)

// localBudget admits at most limit calls per account in any sliding window,
// the guarantee Tencent's "5 requests per second" needs. A token bucket
// cannot give it (a full bucket plus one refill puts limit+1 calls inside
// one window), so this is a sliding log of the last limit calls.
//
// A call's place in the log is when it completed, and it holds its slot
// while in flight: the upstream counts a call when it arrives, which is
// somewhere between our send and its answer. Counting from the answer makes
// the guarantee hold whatever the network or the scheduler delays; the
// price is that a saturated account runs at limit per (window + latency).
//
// Waiters queue by project and priority (see waitQueue), and give up at
// their deadline or maxWait, whichever is first.
type localBudget struct {
	window  time.Duration
	maxWait time.Duration

	localQueue
	slots       []slot
	pausedUntil time.Time
	// probing, after a Pause, admits one call at a time until one
	// completes after the pause: a storm of RequestLimitExceeded answers
	// then costs one call per backoff, not one per slot.
	probing bool
	timer   *time.Timer
}

type slot struct {
	at         time.Time // completion of its last call
	inFlight   bool
	generation uint64
}

// newLocal admits limit calls per window; callers wait at most maxWait,
// and the projects waiting share the slots by their weights.
func newLocal(limit int, window, maxWait time.Duration, weights Weights) *localBudget {
	b := &localBudget{window: window, maxWait: maxWait, slots: make([]slot, limit)}
	b.waiters.weights = weights
	return b
}

// localGrant is one admitted call.
type localGrant struct {
	b          *localBudget
	index      int
	generation uint64
}

// Done records when the call completed (its answer arrived or it was
// abandoned) and frees its slot one window later.
func (g localGrant) Done(at time.Time) {
	g.b.mu.Lock()
	defer g.b.mu.Unlock()
	s := &g.b.slots[g.index]
	if s.generation != g.generation || !s.inFlight {
		return
	}
	s.at, s.inFlight = at, false
	if g.b.probing && !at.Before(g.b.pausedUntil) {
		g.b.probing = false
	}
	if g.b.waiters.len() > 0 {
		g.b.armLocked(time.Now())
	}
}

// Acquire blocks until a call may be made, and says how long it waited.
func (b *localBudget) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	return b.acquire(ctx, b, b.maxWait, p)
}

// Pause stops all grants for d: the upstream said RequestLimitExceeded
// although we kept count, so something else spends this account's budget.
func (b *localBudget) Pause(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := time.Now().Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	b.probing = true
}

// probeOutLocked says a probe call is in flight, so no other may start.
func (b *localBudget) probeOutLocked() bool {
	return b.probing && slices.ContainsFunc(b.slots, func(s slot) bool { return s.inFlight })
}

func (b *localBudget) takeLocked(now time.Time) (Grant, bool) {
	if i := b.freeSlotLocked(now); i >= 0 {
		return b.grantLocked(i), true
	}
	return nil, false
}

func (b *localBudget) etaLocked(ahead int, now time.Time) time.Time {
	return b.slotAfterLocked(ahead, now)
}

func (b *localBudget) retryAfterLocked(now time.Time) time.Duration {
	return b.slotAfterLocked(0, now).Sub(now)
}

// freeSlotLocked returns a slot whose call completed a window ago, or -1.
func (b *localBudget) freeSlotLocked(now time.Time) int {
	if now.Before(b.pausedUntil) || b.probeOutLocked() {
		return -1
	}
	for i, s := range b.slots {
		if !s.inFlight && !now.Before(s.at.Add(b.window)) {
			return i
		}
	}
	return -1
}

func (b *localBudget) grantLocked(i int) Grant {
	s := &b.slots[i]
	s.inFlight = true
	s.generation++
	return localGrant{b: b, index: i, generation: s.generation}
}

// slotAfterLocked predicts when the grant after n queued ones can happen,
// assuming calls in flight complete now.
func (b *localBudget) slotAfterLocked(n int, now time.Time) time.Time {
	free := make([]time.Time, len(b.slots))
	for i, s := range b.slots {
		free[i] = s.at.Add(b.window)
		if s.inFlight {
			free[i] = now.Add(b.window)
		}
	}
	slices.SortFunc(free, time.Time.Compare)
	var t time.Time
	for j := 0; j <= n; j++ {
		k := j % len(free)
		t = latest(free[k], now, b.pausedUntil)
		free[k] = t.Add(b.window)
	}
	return t
}

// armLocked schedules a dispatch for when the next slot frees. With every
// slot in flight there is nothing to wait for: Done re-arms.
func (b *localBudget) armLocked(now time.Time) {
	if b.probeOutLocked() {
		return // the probe's Done re-arms
	}
	next, ok := time.Time{}, false
	for _, s := range b.slots {
		if !s.inFlight && (!ok || s.at.Before(next)) {
			next, ok = s.at, true
		}
	}
	if !ok {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	wake := latest(next.Add(b.window), b.pausedUntil)
	b.timer = time.AfterFunc(max(wake.Sub(now), 0), b.dispatch)
}

func (b *localBudget) dispatch() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.serveLocked(b, now) {
		b.armLocked(now)
	}
}
