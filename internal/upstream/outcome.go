package upstream

import (
	"context"
	"errors"
	"strings"

	"github.com/mudscf/mudscf/internal/upstream/budget"
)

// Outcome is how a call to the upstream ended, in the one vocabulary the
// breaker, the budget, the metrics and the HTTP edge share.
type Outcome int

const (
	// OK: the upstream answered with data.
	OK Outcome = iota
	// RateLimited: RequestLimitExceeded (or CLS's per-topic concurrency
	// limit, TopicConcurrencyExceeded), although the budget kept count;
	// something else spends the account or runs queries on the topic.
	RateLimited
	// AuthFailure: the upstream refused mudscf's own credentials.
	AuthFailure
	// ClientError: any other API error — the upstream, healthy, said no to
	// what was asked (a parameter, a missing function, a permission).
	ClientError
	// Unhealthy: the upstream says it is broken (InternalError,
	// ResourceUnavailable).
	Unhealthy
	// Timeout: no answer before the call's deadline.
	Timeout
	// Unreachable: no HTTP answer (refused, reset, DNS, TLS), or its body
	// cut short.
	Unreachable
	// BadResponse: an HTTP answer that is not the API's (a gateway's error
	// page, a body that is not the envelope).
	BadResponse
	// CallerGaveUp: the caller's context ended first; that says nothing
	// about the upstream.
	CallerGaveUp
	// BudgetRefused: no budget slot before the deadline; never sent.
	BudgetRefused
	// BreakerOpen: refused without calling, the upstream having failed
	// repeatedly.
	BreakerOpen
)

var outcomeNames = [...]string{
	OK: "ok", RateLimited: "rate_limited", AuthFailure: "auth_failure", ClientError: "client_error",
	Unhealthy: "unhealthy", Timeout: "timeout", Unreachable: "unreachable", BadResponse: "bad_response",
	CallerGaveUp: "caller_gave_up", BudgetRefused: "budget_refused", BreakerOpen: "breaker_open",
}

func (o Outcome) String() string { return outcomeNames[o] }

// Classify is the one place an error from a call is read. A new Tencent
// code that needs its own treatment is one case here.
func Classify(err error) Outcome {
	var apiErr *APIError
	var tErr *TransportError
	var open *BreakerOpenError
	var refused *budget.RefusedError
	var gaveUp callerGaveUp
	switch {
	case err == nil:
		return OK
	case errors.As(err, &open):
		return BreakerOpen
	case errors.As(err, &refused):
		return BudgetRefused
	case errors.As(err, &gaveUp):
		return CallerGaveUp
	case errors.As(err, &apiErr):
		switch code := apiErr.Code; {
		case strings.HasPrefix(code, "RequestLimitExceeded"), code == TopicConcurrencyExceeded:
			return RateLimited
		case strings.HasPrefix(code, "AuthFailure"):
			return AuthFailure
		case strings.HasPrefix(code, "InternalError"), strings.HasPrefix(code, "ResourceUnavailable"):
			return Unhealthy
		}
		return ClientError
	case errors.As(err, &tErr):
		return tErr.Outcome
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return CallerGaveUp
	}
	return Unreachable
}

// UpstreamFailing says whether the outcome means the upstream itself is
// failing — no usable answer, or Tencent saying it is broken — which is
// what the breaker counts. What the client asked for, the account's rate
// limit and mudscf's credentials are answers from a healthy upstream.
func (o Outcome) UpstreamFailing() bool {
	switch o {
	case Unhealthy, Timeout, Unreachable, BadResponse:
		return true
	}
	return false
}

// callLabel is the result label of a call that was sent. Tencent's API
// errors other than the rate limit and authentication share "api_error",
// as they did before outcomes were told apart.
func (o Outcome) callLabel() string {
	switch o {
	case ClientError, Unhealthy:
		return "api_error"
	case CallerGaveUp:
		return "unreachable"
	}
	return o.String()
}
