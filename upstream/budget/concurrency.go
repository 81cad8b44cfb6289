package budget

import (
	"context"
	"slices"
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
// Waiters queue by priority, FIFO within one, and give up at their
// deadline or maxWait, whichever is first. Only a pause can be predicted,
// so only a wait past the pause's end is refused at once.
type Concurrency struct {
	maxWait time.Duration

	mu          sync.Mutex
	free        int
	pausedUntil time.Time
	waiters     [2][]*waiter
	timer       *time.Timer
}

// NewConcurrency admits limit calls at once; callers wait at most maxWait.
func NewConcurrency(limit int, maxWait time.Duration) *Concurrency {
	return &Concurrency{maxWait: maxWait, free: limit}
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
		g.c.dispatchLocked(time.Now())
	})
}

// Acquire waits for a slot and says how long it waited.
func (c *Concurrency) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(c.maxWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.mu.Lock()
	if c.queuedLocked() == 0 && c.freeLocked(start) {
		g := c.grantLocked()
		c.mu.Unlock()
		return g, 0, nil
	}
	if c.pausedUntil.After(deadline) {
		retry := c.pausedUntil.Sub(start)
		c.mu.Unlock()
		return nil, 0, &RefusedError{RetryAfter: retry}
	}
	w := &waiter{ready: make(chan struct{})}
	c.waiters[p] = append(c.waiters[p], w)
	c.mu.Unlock()

	timeout := time.NewTimer(deadline.Sub(start))
	defer timeout.Stop()
	select {
	case <-w.ready:
		return w.grant, time.Since(start), nil
	case <-ctx.Done():
	case <-timeout.C:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.granted {
		return w.grant, time.Since(start), nil
	}
	c.waiters[p] = slices.DeleteFunc(c.waiters[p], func(x *waiter) bool { return x == w })
	if err := ctx.Err(); err != nil {
		return nil, time.Since(start), err
	}
	return nil, time.Since(start), &RefusedError{RetryAfter: max(time.Until(c.pausedUntil), BusyRetryAfter)}
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
			c.dispatchLocked(time.Now())
		})
	}
}

func (c *Concurrency) queuedLocked() int {
	return len(c.waiters[Interactive]) + len(c.waiters[Background])
}

func (c *Concurrency) freeLocked(now time.Time) bool {
	return c.free > 0 && !now.Before(c.pausedUntil)
}

func (c *Concurrency) grantLocked() Grant {
	c.free--
	return concurrencyGrant{c: c, once: new(sync.Once)}
}

// dispatchLocked grants free slots to waiters, interactive first.
func (c *Concurrency) dispatchLocked(now time.Time) {
	for c.queuedLocked() > 0 && c.freeLocked(now) {
		var w *waiter
		for p := range c.waiters {
			if len(c.waiters[p]) > 0 {
				w, c.waiters[p] = c.waiters[p][0], c.waiters[p][1:]
				break
			}
		}
		w.grant, w.granted = c.grantLocked(), true
		close(w.ready)
	}
}
