package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/upstream/budget"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		err     error
		want    Outcome
		failing bool // the breaker counts it against the upstream
	}{
		{nil, OK, false},
		{&APIError{Code: "RequestLimitExceeded"}, RateLimited, false},
		{&APIError{Code: "RequestLimitExceeded.UinLimitExceeded"}, RateLimited, false},
		{&APIError{Code: "AuthFailure.SignatureFailure"}, AuthFailure, false},
		{&APIError{Code: "InternalError"}, Unhealthy, true},
		{&APIError{Code: "InternalError.ES"}, Unhealthy, true},
		{&APIError{Code: "ResourceUnavailable.Function"}, Unhealthy, true},
		{&APIError{Code: "InvalidParameterValue.Offset"}, ClientError, false},
		{&APIError{Code: "ResourceNotFound.Function"}, ClientError, false},
		{&APIError{Code: "UnauthorizedOperation.CAM"}, ClientError, false},
		{&APIError{Code: "FailedOperation.TopicNotExist"}, ClientError, false},
		{&TransportError{Outcome: Timeout, Err: context.DeadlineExceeded}, Timeout, true},
		{&TransportError{Outcome: Unreachable, Err: io.EOF}, Unreachable, true},
		{&TransportError{Outcome: BadResponse, HTTPStatus: 502, Err: io.EOF}, BadResponse, true},
		{fmt.Errorf("flight: %w", context.DeadlineExceeded), Timeout, true},
		{context.Canceled, CallerGaveUp, false},
		{callerGaveUp{&TransportError{Outcome: Timeout, Err: context.Canceled}}, CallerGaveUp, false},
		{&budget.RefusedError{RetryAfter: time.Second}, BudgetRefused, false},
		{fmt.Errorf("wrapped: %w", &BreakerOpenError{RetryAfter: time.Second}), BreakerOpen, false},
		{errors.New("something else"), Unreachable, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.err), func(t *testing.T) {
			got := Classify(c.err)
			if got != c.want {
				t.Errorf("Classify = %s, want %s", got, c.want)
			}
			if got.UpstreamFailing() != c.failing {
				t.Errorf("%s: UpstreamFailing = %v, want %v", got, got.UpstreamFailing(), c.failing)
			}
		})
	}
}

// Every outcome has a name: metric labels and logs use them.
func TestOutcomeNames(t *testing.T) {
	seen := map[string]bool{}
	for o := OK; o <= BreakerOpen; o++ {
		name := o.String()
		if name == "" || seen[name] {
			t.Errorf("outcome %d is named %q", int(o), name)
		}
		seen[name] = true
	}
}
