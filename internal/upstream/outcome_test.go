package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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
		{&APIError{Code: "LimitExceeded.LogSearch"}, TopicBusy, false},
		{&APIError{Code: "InternalError"}, InternalError, true},
		{&APIError{Code: "InternalError.ES"}, InternalError, true},
		{&APIError{Code: "ResourceUnavailable.Function"}, Unavailable, true},
		{&APIError{Code: "InvalidParameterValue.Offset"}, InvalidRequest, false},
		{&APIError{Code: "ResourceNotFound.Function"}, NotFound, false},
		{&APIError{Code: "UnauthorizedOperation.CAM"}, PermissionDenied, false},
		{&APIError{Code: "FailedOperation.TopicNotExist"}, Misconfigured, false},
		{&APIError{Code: "FailedOperation.QueryError"}, Rejected, false},
		{&APIError{Code: "InvalidAction"}, Rejected, false},
		{&TransportError{Outcome: Timeout, Err: context.DeadlineExceeded}, Timeout, true},
		{&TransportError{Outcome: Unreachable, Err: io.EOF}, Unreachable, true},
		{&TransportError{Outcome: BadResponse, HTTPStatus: 502, Err: io.EOF}, BadResponse, true},
		{fmt.Errorf("flight: %w", context.DeadlineExceeded), Timeout, true},
		{context.Canceled, CallerGaveUp, false},
		{callerGaveUp{&TransportError{Outcome: Timeout, Err: context.Canceled}}, CallerGaveUp, false},
		{&budget.RefusedError{RetryAfter: time.Second}, BudgetRefused, false},
		{fmt.Errorf("wrapped: %w", &BreakerOpenError{RetryAfter: time.Second}), BreakerOpen, false},
		{fmt.Errorf("wrapped: %w", budget.ErrDraining), Draining, false},
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
	for o := OK; o <= Draining; o++ {
		name := o.String()
		if name == "" || seen[name] {
			t.Errorf("outcome %d is named %q", int(o), name)
		}
		seen[name] = true
	}
}

// Every code of the seed's error table, the CLS codes, RequestLimitExceeded
// and the AuthFailure family have a deliberate outcome; none falls through
// to the catch-all, and AuthFailure's explanation never quotes the
// upstream's message.
func TestCodeRules(t *testing.T) {
	cases := []struct {
		code string
		want Outcome
	}{
		{"FailedOperation", Rejected},
		{"FailedOperation.AuthFailure", AuthFailure},
		{"FailedOperation.QueryError", Rejected},
		{"FailedOperation.SyntaxError", Rejected},
		{"FailedOperation.TopicNotExist", Misconfigured},
		{"InternalError", InternalError},
		{"InternalError.ES", InternalError},
		{"InternalError.Exception", InternalError},
		{"InternalError.System", InternalError},
		{"InvalidParameter.Cls", Rejected},
		{"InvalidParameter.ParamError", Rejected},
		{"InvalidParameter.Payload", Rejected},
		{"InvalidParameter.RoleCheck", Misconfigured},
		{"InvalidParameterValue", Misconfigured}, // e.g. an unknown region
		{"InvalidParameterValue.DateTime", InvalidRequest},
		{"InvalidParameterValue.FunctionType", Rejected},
		{"InvalidParameterValue.ImageType", Rejected},
		{"InvalidParameterValue.Offset", InvalidRequest},
		{"InvalidParameterValue.Order", InvalidRequest},
		{"InvalidParameterValue.OrderBy", Rejected},
		{"InvalidParameterValue.RetCode", InvalidRequest},
		{"InvalidParameterValue.StartTimeOrEndTime", InvalidRequest},
		{"LimitExceeded.Offset", InvalidRequest},
		{"LimitExceeded.LogSearch", TopicBusy},
		{"ResourceNotFound.Function", NotFound},
		{"ResourceNotFound.FunctionName", NotFound},
		{"ResourceNotFound.RoleCheck", Misconfigured},
		{"ResourceNotFound.TopicNotExist", Misconfigured},
		{"UnauthorizedOperation", PermissionDenied},
		{"UnauthorizedOperation.CAM", PermissionDenied},
		{"UnsupportedOperation.NotSupportRegion", Misconfigured},
		{"RequestLimitExceeded", RateLimited},
		{"RequestLimitExceeded.UinLimitExceeded", RateLimited},
		{"AuthFailure.SignatureFailure", AuthFailure},
		{"AuthFailure.SecretIdNotFound", AuthFailure},
		{"AuthFailure.SignatureExpire", AuthFailure},
		{"AuthFailure.TokenFailure", AuthFailure},
		{"AuthFailure.InvalidAuthorization", AuthFailure},
		{"AuthFailure.UnauthorizedOperation", AuthFailure},
		{"ResourceUnavailable", Unavailable},
		{"ResourceUnavailable.Function", Unavailable},
		{"InvalidAction", Rejected},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			err := &APIError{Code: c.code, Message: "Offset is -1"}
			if got := Classify(err); got != c.want {
				t.Errorf("Classify = %s, want %s", got, c.want)
			}
			msg := err.Explain()
			if c.code != "InvalidAction" && msg == unexpectedCode.explanation {
				t.Errorf("%s fell through to the catch-all", c.code)
			}
			if c.want == AuthFailure && strings.Contains(msg, "Offset is -1") {
				t.Errorf("upstream auth messages are not for clients: %q", msg)
			}
		})
	}
}

// Explain quotes the upstream's message where it helps the client, and
// clips it.
func TestExplain(t *testing.T) {
	long := strings.Repeat("x", 200)
	got := (&APIError{Code: "InvalidParameterValue.Offset", Message: long}).Explain()
	if !strings.HasPrefix(got, "invalid offset: xxx") || len(got) > len("invalid offset: ")+64+3 {
		t.Errorf("Explain = %q", got)
	}
	if got := (&APIError{Code: "InternalError", Message: "secret detail"}).Explain(); strings.Contains(got, "secret detail") {
		t.Errorf("Explain = %q quotes a message it has no place for", got)
	}
}
