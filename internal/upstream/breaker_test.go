package upstream

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mudscf/mudscf/internal/upstream/budget"
)

// Only an unhealthy upstream counts toward opening the breaker.
func TestBreakerCountsOnlyUpstreamHealth(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name  string
		err   error
		ctx   context.Context
		opens bool
	}{
		{"unreachable", &TransportError{Outcome: Unreachable, Err: io.EOF}, context.Background(), true},
		{"timed out", &TransportError{Outcome: Timeout, Err: context.DeadlineExceeded}, context.Background(), true},
		{"bad gateway page", &TransportError{Outcome: BadResponse, HTTPStatus: 502, Err: io.EOF}, context.Background(), true},
		{"InternalError.System", &APIError{Code: "InternalError.System"}, context.Background(), true},
		{"ResourceUnavailable.Function", &APIError{Code: "ResourceUnavailable.Function"}, context.Background(), true},
		{"InvalidParameterValue.Offset", &APIError{Code: "InvalidParameterValue.Offset"}, context.Background(), false},
		{"ResourceNotFound.Function", &APIError{Code: "ResourceNotFound.Function"}, context.Background(), false},
		{"RequestLimitExceeded", &APIError{Code: "RequestLimitExceeded"}, context.Background(), false},
		{"budget exhausted", &budget.RefusedError{RetryAfter: time.Second}, context.Background(), false},
		{"the caller gave up", &TransportError{Outcome: Timeout, Err: context.Canceled}, ctx, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			b := newBreaker(BreakerConfig{Failures: 2, OpenFor: time.Minute}, breakerLabels{"test", "ap-guangzhou", "GetFunctionLogs"}, NewMetrics(prometheus.NewRegistry()))
			for range 3 {
				_ = b.do(c.ctx, func() error {
					calls++
					return c.err
				})
			}
			if opened := calls == 2; opened != c.opens {
				t.Errorf("3 calls made %d upstream calls; opens %v, want %v", calls, opened, c.opens)
			}
		})
	}
}
