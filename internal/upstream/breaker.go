package upstream

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerOpenError is a call refused without reaching the upstream: the
// upstream failed repeatedly and its circuit breaker is open.
type BreakerOpenError struct {
	// RetryAfter is when the breaker lets a probe call through.
	RetryAfter time.Duration
}

func (e *BreakerOpenError) Error() string {
	return fmt.Sprintf("upstream circuit breaker open after repeated upstream failures; the next probe is in %s",
		e.RetryAfter.Round(time.Millisecond))
}

// breaker stops calling an upstream that keeps failing. It is the first
// step of every call (see Caller.Call), before the budgets, so that refused
// calls spend no slot; after openFor it lets one probe call through, and
// the probe's success closes it again. There is one per account, region
// and API, and for SearchLog one per log topic: as fine as the failures it
// tracks, so that a slow topic or a failing API shuts out no other, while
// every project on the account still stops calling what fails.
type breaker struct {
	cb *gobreaker.CircuitBreaker[struct{}]
	// probeAt is when the open breaker turns half-open (unix ns).
	probeAt atomic.Int64
}

func newBreaker(cfg BreakerConfig, labels breakerLabels, metrics *Metrics) *breaker {
	c := &breaker{}
	metrics.newBreaker(labels)
	c.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		MaxRequests: 1, // one probe when half-open
		Timeout:     cfg.OpenFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool { return counts.ConsecutiveFailures >= uint32(cfg.Failures) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				c.probeAt.Store(time.Now().Add(cfg.OpenFor).UnixNano())
			}
			metrics.breakerStateChanged(labels, from, to)
		},
		IsSuccessful: func(err error) bool { return !Classify(err).UpstreamFailing() },
		// Calls that never reached the upstream, or that the caller cut
		// short, count neither way.
		IsExcluded: func(err error) bool {
			o := Classify(err)
			return o == BudgetRefused || o == CallerGaveUp || o == Draining
		},
	})
	return c
}

// do makes call unless the breaker is open.
func (c *breaker) do(ctx context.Context, call func() error) error {
	_, err := c.cb.Execute(func() (struct{}, error) {
		err := call()
		if err != nil && ctx.Err() != nil {
			// The caller's deadline or cancellation cut the call short:
			// that says nothing about the upstream.
			return struct{}{}, callerGaveUp{err}
		}
		return struct{}{}, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		// ErrTooManyRequests: half-open with its probe already out.
		wait := time.Until(time.Unix(0, c.probeAt.Load()))
		return &BreakerOpenError{RetryAfter: max(wait, time.Second)}
	}
	var gaveUp callerGaveUp
	if errors.As(err, &gaveUp) {
		return gaveUp.err
	}
	return err
}

// callerGaveUp marks an error of a call whose context ended, so the
// breaker neither counts it as the upstream's failure nor as its success.
type callerGaveUp struct{ err error }

func (e callerGaveUp) Error() string { return e.err.Error() }
func (e callerGaveUp) Unwrap() error { return e.err }
