package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// Every upstream outcome maps to a deliberate status and Mudbase code,
// once: API errors with their explanation, code and RequestId; AuthFailure
// never reaches the client as a 401.
func TestFailureForUpstreamErrors(t *testing.T) {
	cases := []struct {
		err        error
		status     int
		code       string
		retryAfter time.Duration
	}{
		{&upstream.APIError{Code: "FailedOperation"}, 502, translate.CodeUpstreamError, 0},
		{&upstream.APIError{Code: "FailedOperation.AuthFailure"}, 502, translate.CodeUpstreamAuth, 0},
		{&upstream.APIError{Code: "FailedOperation.QueryError"}, 502, translate.CodeUpstreamError, 0},
		{&upstream.APIError{Code: "FailedOperation.TopicNotExist"}, 502, translate.CodeUpstreamConfig, 0},
		{&upstream.APIError{Code: "InternalError.System"}, 502, translate.CodeUpstreamError, 0},
		{&upstream.APIError{Code: "InvalidParameter.RoleCheck"}, 502, translate.CodeUpstreamConfig, 0},
		{&upstream.APIError{Code: "InvalidParameterValue"}, 502, translate.CodeUpstreamConfig, 0},
		{&upstream.APIError{Code: "InvalidParameterValue.DateTime"}, 400, translate.CodeInvalidParameter, 0},
		{&upstream.APIError{Code: "InvalidParameterValue.OrderBy"}, 502, translate.CodeUpstreamError, 0},
		{&upstream.APIError{Code: "LimitExceeded.Offset"}, 400, translate.CodeInvalidParameter, 0},
		{&upstream.APIError{Code: "LimitExceeded.LogSearch"}, 429, translate.CodeRateLimited, 0},
		{&upstream.APIError{Code: "ResourceNotFound.Function"}, 404, translate.CodeFunctionNotFound, 0},
		{&upstream.APIError{Code: "ResourceNotFound.TopicNotExist"}, 502, translate.CodeUpstreamConfig, 0},
		{&upstream.APIError{Code: "UnauthorizedOperation.CAM"}, 502, translate.CodeUpstreamPermission, 0},
		{&upstream.APIError{Code: "UnsupportedOperation.NotSupportRegion"}, 502, translate.CodeUpstreamConfig, 0},
		{&upstream.APIError{Code: "RequestLimitExceeded"}, 429, translate.CodeRateLimited, 0},
		{&upstream.APIError{Code: "AuthFailure.SignatureFailure"}, 502, translate.CodeUpstreamAuth, 0},
		{&upstream.APIError{Code: "ResourceUnavailable"}, 503, translate.CodeUpstreamDown, 0},
		{&upstream.APIError{Code: "InvalidAction"}, 502, translate.CodeUpstreamError, 0},
		{&upstream.TransportError{Outcome: upstream.Timeout, Err: context.DeadlineExceeded}, 504, translate.CodeUpstreamTimeout, 0},
		{&upstream.TransportError{Outcome: upstream.BadResponse, Err: io.EOF}, 502, translate.CodeUpstreamBadReply, 0},
		{&upstream.TransportError{Outcome: upstream.Unreachable, Err: io.EOF}, 503, translate.CodeUpstreamDown, 0},
		{&upstream.BreakerOpenError{RetryAfter: 3 * time.Second}, 503, translate.CodeUpstreamDown, 3 * time.Second},
		{&budget.RefusedError{RetryAfter: 2 * time.Second}, 429, translate.CodeRateLimited, 2 * time.Second},
		{errDraining, 503, translate.CodeUpstreamDown, time.Second},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			f, retryAfter := failureFor(c.err)
			if f.Status != c.status || f.Body.Code != c.code || retryAfter != c.retryAfter {
				t.Errorf("got %d %s after %s, want %d %s after %s", f.Status, f.Body.Code, retryAfter, c.status, c.code, c.retryAfter)
			}
			if f.Body.Success || f.Body.Error == "" {
				t.Errorf("envelope %+v", f.Body)
			}
			var apiErr *upstream.APIError
			if errors.As(c.err, &apiErr) {
				if f.Body.UpstreamCode != apiErr.Code || !strings.Contains(f.Body.Error, apiErr.Code) {
					t.Errorf("envelope %+v does not name %s", f.Body, apiErr.Code)
				}
				if c.code != translate.CodeUpstreamError && strings.Contains(f.Body.Error, "does not expect") {
					t.Errorf("%s fell through to the catch-all", apiErr.Code)
				}
			}
		})
	}
}

func FuzzUpstreamFailure(f *testing.F) {
	f.Add("AuthFailure.SignatureFailure", "The provided credentials could not be validated.", "e2571ff3-da04-4c53-8438-f58bf057ce4a")
	f.Add("InvalidParameterValue.Offset", "Offset is -1", "")
	f.Fuzz(func(t *testing.T, code, message, requestID string) {
		fl, _ := failureFor(&upstream.APIError{Code: code, Message: message, RequestID: requestID})
		switch fl.Status {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable:
		default:
			t.Fatalf("%q mapped to %d", code, fl.Status)
		}
		if fl.Body.Success || fl.Body.Code == "" || fl.Body.Error == "" {
			t.Fatalf("envelope %+v", fl.Body)
		}
		if len(fl.Body.UpstreamCode) > 70 || len(fl.Body.RequestID) > 70 {
			t.Fatalf("upstream text not clipped: %+v", fl.Body)
		}
		if _, err := json.Marshal(fl.Body); err != nil {
			t.Fatal(err)
		}
	})
}

// The access log writes a request's duration in seconds, as a float. In a
// synctest bubble the request takes exactly the upstream's injected
// latency.
func TestAccessLogDurationInSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := startProxyOn(t, simulateInBubble(t, 1), nil, Options{})
		env.sim.SetFaults(tencentsim.Faults{Latency: 1500 * time.Millisecond})
		if r := env.get(t, logsPath+"?stats=false", env.token(t, "usr_morgan_de")); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var line map[string]any
		for l := range strings.Lines(env.logs.String()) {
			if strings.Contains(l, `"msg":"request"`) {
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, ok := line["duration"]; ok || line["duration_seconds"] != 1.5 {
			t.Errorf("access log line %v: want duration_seconds 1.5 and no duration", line)
		}
		synctest.Wait()
	})
}
