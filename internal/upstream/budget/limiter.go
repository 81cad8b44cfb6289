package budget

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mudscf/mudscf/internal/redisstore"
)

// Priority orders waiters for upstream slots.
type Priority int

const (
	// Interactive is a Mudbase client waiting for its answer.
	Interactive Priority = iota
	// Background is the exporter sidecar: it yields to Interactive.
	Background
)

func (p Priority) String() string {
	if p == Background {
		return "background"
	}
	return "interactive"
}

type priorityKey struct{}

// WithPriority marks the upstream calls made under ctx.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityOf is the priority WithPriority put on ctx; Interactive if none.
func PriorityOf(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityKey{}).(Priority)
	return p
}

// RefusedError is a call the budget could not fit before its deadline.
type RefusedError struct {
	// RetryAfter is when a slot is expected to be free.
	RetryAfter time.Duration
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("upstream budget exhausted; a slot frees in %s", e.RetryAfter.Round(time.Millisecond))
}

// ErrDraining is the answer of a drained budget: the process is shutting
// down, and the call was never made.
var ErrDraining = errors.New("upstream budget drained: the process is shutting down and starts no upstream call")

// Limiter is one account's budget.
type Limiter interface {
	// Acquire waits for a slot and says how long it waited. Waiters are
	// served by turns across the projects ProjectOf(ctx) names (see
	// waitQueue), by priority inside each. It fails with a *RefusedError
	// when no slot can be had before ctx's deadline or the budget's
	// maxWait, with ErrDraining once the budget is drained, or with ctx's
	// error.
	Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error)
	// Pause stops all grants for d: the upstream said its limit was
	// exceeded although we kept count.
	Pause(d time.Duration)
	// Drain refuses, with ErrDraining, every caller waiting now and every
	// caller after: calls granted before go on.
	Drain()
}

// Grant is one admitted call. Done must be called once it completed (its
// answer arrived or it was abandoned), with the time it did.
type Grant interface {
	Done(at time.Time)
}

// New is the budget of one account (account being its SecretId): local,
// or shared through store when it is not nil. upstreamTimeout bounds a
// call, and so how long a replica that died mid-call can hold a slot.
func New(cfg Config, store *redisstore.Store, account string, upstreamTimeout time.Duration) Limiter {
	window := time.Second + cfg.Margin
	if store == nil {
		return newLocal(cfg.RequestsPerSecond, window, cfg.MaxWait, cfg.Weights)
	}
	return newShared(store, account, cfg.RequestsPerSecond, window, cfg.MaxWait, upstreamTimeout, cfg.Weights)
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
