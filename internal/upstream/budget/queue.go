package budget

import (
	"context"
	"slices"
	"sync"
	"time"
)

// waitQueue is one process's line of callers for a limiter: Interactive
// ahead of Background, FIFO within each. Its owner's mutex guards it.
type waitQueue[W comparable] [2][]W

func (q *waitQueue[W]) push(p Priority, w W) { q[p] = append(q[p], w) }

// remove takes w out, if still there: a waiter that gave up.
func (q *waitQueue[W]) remove(p Priority, w W) {
	q[p] = slices.DeleteFunc(q[p], func(x W) bool { return x == w })
}

func (q *waitQueue[W]) len() int { return len(q[Interactive]) + len(q[Background]) }

// ahead counts the waiters a new one of priority p queues behind.
func (q *waitQueue[W]) ahead(p Priority) int {
	n := len(q[Interactive])
	if p == Background {
		n += len(q[Background])
	}
	return n
}

// next is the priority whose first waiter is served next.
func (q *waitQueue[W]) next() (Priority, bool) {
	for p, l := range q {
		if len(l) > 0 {
			return Priority(p), true
		}
	}
	return 0, false
}

// head is the waiter served next.
func (q *waitQueue[W]) head() (W, bool) {
	p, ok := q.next()
	if !ok {
		var none W
		return none, false
	}
	return q[p][0], true
}

func (q *waitQueue[W]) pop() (W, bool) {
	w, ok := q.head()
	if ok {
		p, _ := q.next()
		q[p] = q[p][1:]
	}
	return w, ok
}

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
}

type waiter struct {
	ready   chan struct{}
	granted bool
	grant   Grant
}

// acquire is Acquire for the limiter l. A caller that arrives with nobody
// queued and a slot free goes at once; one whose expected grant is past
// its deadline is refused at once, rather than held only to be refused
// later; the others wait for serveLocked, ctx or their deadline.
func (q *localQueue) acquire(ctx context.Context, l slotKeeper, maxWait time.Duration, p Priority) (Grant, time.Duration, error) {
	start := time.Now()
	deadline := deadlineOf(ctx, start, maxWait)
	q.mu.Lock()
	if q.waiters.len() == 0 {
		if g, ok := l.takeLocked(start); ok {
			q.mu.Unlock()
			return g, 0, nil
		}
	}
	if eta := l.etaLocked(q.waiters.ahead(p), start); eta.After(deadline) {
		q.mu.Unlock()
		return nil, 0, &RefusedError{RetryAfter: eta.Sub(start)}
	}
	w := &waiter{ready: make(chan struct{})}
	q.waiters.push(p, w)
	l.armLocked(start)
	q.mu.Unlock()

	timeout := time.NewTimer(deadline.Sub(start))
	defer timeout.Stop()
	select {
	case <-w.ready:
		return w.grant, time.Since(start), nil
	case <-ctx.Done():
	case <-timeout.C:
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	// The grant may have come as the wait ended: it is the caller's.
	if w.granted {
		return w.grant, time.Since(start), nil
	}
	q.waiters.remove(p, w)
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
		w.grant, w.granted = g, true
		close(w.ready)
	}
	return false
}
