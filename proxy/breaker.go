package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/mudscf/mudscf/translate"
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

// breakerFailure is what the client receives while the breaker is open.
var breakerFailure = translate.NewFailure(http.StatusServiceUnavailable, translate.CodeUpstreamDown,
	"the upstream is failing, so mudscf stopped calling it for a few seconds; retry after the Retry-After delay")

// breakerCaller stops calling an upstream that keeps failing. It sits
// before the budget, so that refused calls spend no slot; after openFor it
// lets one probe call through, and the probe's success closes it again.
type breakerCaller struct {
	next LogsCaller
	cb   *gobreaker.CircuitBreaker[translate.GetFunctionLogsResponse]
	// probeAt is when the open breaker turns half-open (unix ns).
	probeAt atomic.Int64
}

func newBreakerCaller(next LogsCaller, cfg BreakerConfig, metrics *Metrics) *breakerCaller {
	c := &breakerCaller{next: next}
	metrics.breakerStateChanged(nil, gobreaker.StateClosed)
	c.cb = gobreaker.NewCircuitBreaker[translate.GetFunctionLogsResponse](gobreaker.Settings{
		MaxRequests: 1, // one probe when half-open
		Timeout:     cfg.OpenFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool { return counts.ConsecutiveFailures >= uint32(cfg.Failures) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				c.probeAt.Store(time.Now().Add(cfg.OpenFor).UnixNano())
			}
			metrics.breakerStateChanged(&from, to)
		},
		IsSuccessful: func(err error) bool { return !upstreamUnhealthy(err) },
		IsExcluded:   notUpstreamVerdict,
	})
	return c
}

func (c *breakerCaller) GetFunctionLogs(ctx context.Context, params translate.GetFunctionLogsRequest) (translate.GetFunctionLogsResponse, error) {
	resp, err := c.cb.Execute(func() (translate.GetFunctionLogsResponse, error) {
		resp, err := c.next.GetFunctionLogs(ctx, params)
		if err != nil && ctx.Err() != nil {
			// The caller's deadline or cancellation cut the call short:
			// that says nothing about the upstream.
			return resp, callerGaveUp{err}
		}
		return resp, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		// ErrTooManyRequests: half-open with its probe already out.
		wait := time.Until(time.Unix(0, c.probeAt.Load()))
		return resp, &BreakerOpenError{RetryAfter: max(wait, time.Second)}
	}
	var gaveUp callerGaveUp
	if errors.As(err, &gaveUp) {
		return resp, gaveUp.err
	}
	return resp, err
}

// callerGaveUp marks an error of a call whose context ended, so the
// breaker neither counts it as the upstream's failure nor as its success.
type callerGaveUp struct{ err error }

func (e callerGaveUp) Error() string { return e.err.Error() }
func (e callerGaveUp) Unwrap() error { return e.err }

// upstreamUnhealthy says whether err means the upstream itself is failing:
// no usable answer (unreachable, reset, timed out, a gateway's error page,
// an unreadable body) or Tencent saying it is broken or unavailable. What
// the client asked for (InvalidParameter*, ResourceNotFound*) and
// RequestLimitExceeded (the budget's business) are answers from a healthy
// upstream.
func upstreamUnhealthy(err error) bool {
	var tErr *TransportError
	var apiErr *APIError
	switch {
	case errors.As(err, &tErr):
		return true
	case errors.As(err, &apiErr):
		return strings.HasPrefix(apiErr.Code, "InternalError") || strings.HasPrefix(apiErr.Code, "ResourceUnavailable")
	}
	return false
}

// notUpstreamVerdict picks the errors that never reached the upstream or
// were cut short by the caller: they count neither way.
func notUpstreamVerdict(err error) bool {
	var be *BudgetError
	var gaveUp callerGaveUp
	return errors.As(err, &be) || errors.As(err, &gaveUp)
}
