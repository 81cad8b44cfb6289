package budget

import (
	"context"
	"sync"
	"time"
)

// deadlineOf is when a caller that came at start gives up: at ctx's
// deadline or after maxWait, whichever is first.
func deadlineOf(ctx context.Context, start time.Time, maxWait time.Duration) time.Time {
	deadline := start.Add(maxWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return deadline
}

// slotKeeper is what an in-process limiter knows that its localQueue does
// not: what a slot is and when one frees. The queue calls it with its
// mutex held.
type slotKeeper interface {
	// takeLocked grants a slot free at now, if there is one.
	takeLocked(now time.Time) (Grant, bool)
	// etaLocked is when the grant after ahead queued ones is expected;
	// a time before any deadline when it cannot be told.
	etaLocked(ahead int, now time.Time) time.Time
	// armLocked makes sure the queue is served when a slot may free.
	armLocked(now time.Time)
	// retryAfterLocked is the Retry-After of a caller that waited until
	// its deadline.
	retryAfterLocked(now time.Time) time.Duration
}

// localQueue is where the callers of an in-process limiter wait. Its
// mutex also guards the limiter's own state, so that a slot freeing and
// the waiter it goes to are one step.
type localQueue struct {
	mu      sync.Mutex
	waiters waitQueue[*waiter]
	// drained: Drain refused every waiter, and refuses every caller since.
	drained bool
}

// waiter is a place in the queue; ready closes when it is settled: granted,
// or refused with err.
type waiter struct {
	ready   chan struct{}
	settled bool
	grant   Grant
	err     error
}

// acquire is Acquire for the limiter l. A caller that arrives with nobody
// queued and a slot free goes at once; one whose expected grant is past
// its deadline is refused at once, rather than held only to be refused
// later; the others wait for serveLocked, ctx or their deadline.
func (q *localQueue) acquire(ctx context.Context, l slotKeeper, maxWait time.Duration, p Priority) (Grant, time.Duration, error) {
	start := time.Now()
	deadline := deadlineOf(ctx, start, maxWait)
	at := place{project: ProjectOf(ctx), prio: p}
	q.mu.Lock()
	if q.drained {
		q.mu.Unlock()
		return nil, 0, ErrDraining
	}
	if q.waiters.len() == 0 {
		if g, ok := l.takeLocked(start); ok {
			q.mu.Unlock()
			return g, 0, nil
		}
	}
	if eta := l.etaLocked(q.waiters.ahead(at), start); eta.After(deadline) {
		q.mu.Unlock()
		return nil, 0, &RefusedError{RetryAfter: eta.Sub(start)}
	}
	w := &waiter{ready: make(chan struct{})}
	q.waiters.push(at, w)
	l.armLocked(start)
	q.mu.Unlock()

	timeout := time.NewTimer(deadline.Sub(start))
	defer timeout.Stop()
	select {
	case <-w.ready:
		return w.grant, time.Since(start), w.err
	case <-ctx.Done():
	case <-timeout.C:
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	// The grant (or the drain) may have come as the wait ended: it is the
	// caller's.
	if w.settled {
		return w.grant, time.Since(start), w.err
	}
	q.waiters.remove(at, w)
	if err := ctx.Err(); err != nil {
		return nil, time.Since(start), err
	}
	return nil, time.Since(start), &RefusedError{RetryAfter: l.retryAfterLocked(time.Now())}
}

// serveLocked hands free slots to the waiters in order, and says whether
// some are left waiting for a slot.
func (q *localQueue) serveLocked(l slotKeeper, now time.Time) (starved bool) {
	for q.waiters.len() > 0 {
		g, ok := l.takeLocked(now)
		if !ok {
			return true
		}
		w, _ := q.waiters.pop()
		w.grant, w.settled = g, true
		close(w.ready)
	}
	return false
}

// Drain refuses every waiter with ErrDraining, and every caller from now
// on: the process is shutting down and must start no upstream call.
func (q *localQueue) Drain() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.drained = true
	for {
		w, ok := q.waiters.pop()
		if !ok {
			return
		}
		w.err, w.settled = ErrDraining, true
		close(w.ready)
	}
}
