package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// Priority orders waiters for upstream slots.
type Priority int

const (
	// Interactive is a Mudbase client waiting for its answer.
	Interactive Priority = iota
	// Background is the exporter sidecar: it yields to Interactive.
	Background
)

type priorityKey struct{}

// WithPriority marks the upstream calls made under ctx.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

func priorityOf(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityKey{}).(Priority)
	return p
}

// BudgetError is a call the budget could not fit before its deadline.
type BudgetError struct {
	// RetryAfter is when a slot is expected to be free.
	RetryAfter time.Duration
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("upstream budget exhausted; a slot frees in %s", e.RetryAfter.Round(time.Millisecond))
}

// Budget admits at most limit calls in any sliding window, the guarantee
// Tencent's "5 requests per second" needs. A token bucket cannot give it
// (a full bucket plus one refill puts limit+1 calls inside one window), so
// this is a sliding log: the times of the last limit grants, and a new
// grant only once the oldest of them has left the window. Saturated, it
// grants exactly limit per window.
//
// Waiters queue by priority, FIFO within one, and give up at their
// deadline or MaxWait, whichever is first.
type Budget struct {
	limit   int
	window  time.Duration
	maxWait time.Duration

	mu          sync.Mutex
	grants      []time.Time // ring of the last limit grants
	oldest      int         // index of the oldest grant in grants
	pausedUntil time.Time
	waiters     [2][]*waiter
	timer       *time.Timer
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// NewBudget admits limit calls per window; callers wait at most maxWait.
func NewBudget(limit int, window, maxWait time.Duration) *Budget {
	return &Budget{limit: limit, window: window, maxWait: maxWait, grants: make([]time.Time, limit)}
}

// Acquire blocks until a call may be made, and says how long it waited.
// It fails fast with a *BudgetError when the expected wait exceeds the
// deadline, rather than holding the client only to refuse it later.
func (b *Budget) Acquire(ctx context.Context, p Priority) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(b.maxWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}

	b.mu.Lock()
	if len(b.waiters[Interactive])+len(b.waiters[Background]) == 0 && !start.Before(b.nextFree()) {
		b.grant(start)
		b.mu.Unlock()
		return 0, nil
	}
	ahead := len(b.waiters[Interactive])
	if p == Background {
		ahead += len(b.waiters[Background])
	}
	eta := b.slotAfter(ahead, start)
	if eta.After(deadline) {
		b.mu.Unlock()
		return 0, &BudgetError{RetryAfter: eta.Sub(start)}
	}
	w := &waiter{ready: make(chan struct{})}
	b.waiters[p] = append(b.waiters[p], w)
	b.armLocked(start)
	b.mu.Unlock()

	timeout := time.NewTimer(deadline.Sub(start))
	defer timeout.Stop()
	select {
	case <-w.ready:
		return time.Since(start), nil
	case <-ctx.Done():
	case <-timeout.C:
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.granted {
		return time.Since(start), nil
	}
	b.waiters[p] = slices.DeleteFunc(b.waiters[p], func(x *waiter) bool { return x == w })
	if err := ctx.Err(); err != nil {
		return time.Since(start), err
	}
	return time.Since(start), &BudgetError{RetryAfter: b.slotAfter(0, time.Now()).Sub(time.Now())}
}

// Pause stops all grants for d: the upstream said RequestLimitExceeded
// although we kept count, so something else spends this account's budget.
func (b *Budget) Pause(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := time.Now().Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
}

func (b *Budget) nextFree() time.Time {
	t := b.grants[b.oldest].Add(b.window)
	if b.pausedUntil.After(t) {
		return b.pausedUntil
	}
	return t
}

func (b *Budget) grant(now time.Time) {
	b.grants[b.oldest] = now
	b.oldest = (b.oldest + 1) % b.limit
}

// slotAfter predicts when the grant after n queued ones can happen.
func (b *Budget) slotAfter(n int, now time.Time) time.Time {
	free := make([]time.Time, b.limit)
	for i := range free {
		free[i] = b.grants[(b.oldest+i)%b.limit].Add(b.window)
	}
	var t time.Time
	for j := 0; j <= n; j++ {
		t = latest(free[j%b.limit], now, b.pausedUntil)
		free[j%b.limit] = t.Add(b.window)
	}
	return t
}

func latest(ts ...time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// armLocked schedules the next dispatch for when a slot frees.
func (b *Budget) armLocked(now time.Time) {
	if b.timer != nil {
		b.timer.Stop()
	}
	b.timer = time.AfterFunc(max(b.nextFree().Sub(now), 0), b.dispatch)
}

func (b *Budget) dispatch() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for !now.Before(b.nextFree()) {
		w := b.popLocked()
		if w == nil {
			return
		}
		b.grant(now)
		w.granted = true
		close(w.ready)
	}
	if len(b.waiters[Interactive])+len(b.waiters[Background]) > 0 {
		b.armLocked(now)
	}
}

func (b *Budget) popLocked() *waiter {
	for p := range b.waiters {
		if len(b.waiters[p]) > 0 {
			w := b.waiters[p][0]
			b.waiters[p] = b.waiters[p][1:]
			return w
		}
	}
	return nil
}

// budgetedCaller spends one slot of the account's budget per call.
type budgetedCaller struct {
	next    LogsCaller
	budget  *Budget
	backoff time.Duration
	metrics *Metrics
}

func (c *budgetedCaller) GetFunctionLogs(ctx context.Context, params translate.GetFunctionLogsRequest) (translate.GetFunctionLogsResponse, error) {
	p := priorityOf(ctx)
	waited, err := c.budget.Acquire(ctx, p)
	c.metrics.budgetWait(p, waited, err)
	if err != nil {
		return translate.GetFunctionLogsResponse{}, err
	}
	resp, err := c.next.GetFunctionLogs(ctx, params)
	c.metrics.upstreamResult(err)
	var apiErr *APIError
	if errors.As(err, &apiErr) && strings.HasPrefix(apiErr.Code, "RequestLimitExceeded") {
		c.budget.Pause(c.backoff)
	}
	return resp, err
}
