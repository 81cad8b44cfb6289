package budget

import (
	"context"
	"sync"
	"time"
)

// BusyRetryAfter is the Retry-After of a caller refused because every
// slot of a concurrency limit stayed busy until its deadline: a slot frees
// when some query completes, which cannot be predicted, and queries take
// about a second.
const BusyRetryAfter = time.Second

// Concurrency admits at most limit calls in flight at once, the guarantee
// a limit such as CLS's "at most 15 concurrent queries per log topic"
// needs. A call holds its slot from its grant until Done: the upstream
// runs the query somewhere in between, and may still be running it until
// its answer arrives.
//
// Waiters queue by project and priority (see waitQueue), and give up at
// their deadline or maxWait, whichever is first. Only a pause can be predicted,
// so only a wait past the pause's end is refused at once.
type Concurrency struct {
	maxWait time.Duration

	localQueue
	free        int
	pausedUntil time.Time
	timer       *time.Timer
}

// NewConcurrency admits limit calls at once; callers wait at most maxWait,
// and the projects waiting share the slots by their weights.
func NewConcurrency(limit int, maxWait time.Duration, weights Weights) *Concurrency {
	c := &Concurrency{maxWait: maxWait, free: limit}
	c.waiters.weights = weights
	return c
}

// concurrencyGrant is one admitted call; Done frees its slot once.
type concurrencyGrant struct {
	c    *Concurrency
	once *sync.Once
}

func (g concurrencyGrant) Done(time.Time) {
	g.once.Do(func() {
		g.c.mu.Lock()
		defer g.c.mu.Unlock()
		g.c.free++
		g.c.serveLocked(g.c, time.Now())
	})
}

// Acquire waits for a slot and says how long it waited.
func (c *Concurrency) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	return c.acquire(ctx, c, c.maxWait, p)
}

// Pause stops all grants for d: the upstream said its limit was exceeded
// although we kept count, so something else runs queries there.
func (c *Concurrency) Pause(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if until := now.Add(d); until.After(c.pausedUntil) {
		c.pausedUntil = until
		if c.timer != nil {
			c.timer.Stop()
		}
		c.timer = time.AfterFunc(d, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.serveLocked(c, time.Now())
		})
	}
}

func (c *Concurrency) takeLocked(now time.Time) (Grant, bool) {
	if c.free == 0 || now.Before(c.pausedUntil) {
		return nil, false
	}
	c.free--
	return concurrencyGrant{c: c, once: new(sync.Once)}, true
}

// etaLocked can only tell a pause's end: a slot frees when some call
// completes.
func (c *Concurrency) etaLocked(int, time.Time) time.Time { return c.pausedUntil }

// armLocked has nothing to schedule: Done serves the queue when a slot
// frees, and Pause's timer when the pause ends.
func (c *Concurrency) armLocked(time.Time) {}

func (c *Concurrency) retryAfterLocked(now time.Time) time.Duration {
	return max(c.pausedUntil.Sub(now), BusyRetryAfter)
}
