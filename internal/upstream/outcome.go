package upstream

import (
	"context"
	"errors"
	"strings"

	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// Outcome is how a call to the upstream ended, in the one vocabulary the
// breaker, the budgets, the metrics and the HTTP edge share.
type Outcome int

const (
	// OK: the upstream answered with data.
	OK Outcome = iota
	// RateLimited: the account's limit of calls per second for the API
	// (RequestLimitExceeded), although its budget kept count: something
	// else spends the account.
	RateLimited
	// TopicBusy: a CLS log topic's limit of concurrent queries
	// (LimitExceeded.LogSearch), although its budget kept count: the
	// console, dashboards or alarms query the topic too.
	TopicBusy
	// AuthFailure: the upstream refused mudscf's own credentials.
	AuthFailure
	// PermissionDenied: the credentials lack a permission (CAM).
	PermissionDenied
	// Misconfigured: mudscf's configuration names something the upstream
	// does not have or allow (a region, a role, a log topic).
	Misconfigured
	// NotFound: the function does not exist upstream.
	NotFound
	// InvalidRequest: the upstream refused a value the client chose
	// (paging, order, window, status).
	InvalidRequest
	// Rejected: any other API error — the upstream, healthy, refused what
	// mudscf built.
	Rejected
	// InternalError: the upstream says it failed (InternalError).
	InternalError
	// Unavailable: the upstream says it is unavailable
	// (ResourceUnavailable).
	Unavailable
	// Timeout: no answer before the call's deadline.
	Timeout
	// Unreachable: no HTTP answer (refused, reset, DNS, TLS), or its body
	// cut short.
	Unreachable
	// BadResponse: an HTTP answer that is not the API's (a gateway's error
	// page, a body that is not the envelope or that mudscf cannot read).
	BadResponse
	// CallerGaveUp: the caller's context ended first; that says nothing
	// about the upstream.
	CallerGaveUp
	// BudgetRefused: no budget slot before the deadline; never sent.
	BudgetRefused
	// BreakerOpen: refused without calling, the upstream having failed
	// repeatedly.
	BreakerOpen
	// Draining: refused without calling, the process shutting down (see
	// budget.ErrDraining).
	Draining
)

var outcomeNames = [...]string{
	OK: "ok", RateLimited: "rate_limited", TopicBusy: "topic_busy", AuthFailure: "auth_failure",
	PermissionDenied: "permission_denied", Misconfigured: "misconfigured", NotFound: "not_found",
	InvalidRequest: "invalid_request", Rejected: "rejected", InternalError: "internal_error",
	Unavailable: "unavailable", Timeout: "timeout", Unreachable: "unreachable", BadResponse: "bad_response",
	CallerGaveUp: "caller_gave_up", BudgetRefused: "budget_refused", BreakerOpen: "breaker_open",
	Draining: "draining",
}

func (o Outcome) String() string { return outcomeNames[o] }

// codeRule is what one Tencent error code, or a family of them when the key
// ends in ".", means.
type codeRule struct {
	outcome Outcome
	// explanation is what the code means for a reader of mudscf's answer;
	// "%s" in it stands for the upstream's own message, where that helps
	// the client fix its request.
	explanation string
}

// codeRules hold every code of GetFunctionLogs' error table, the common
// codes a call can meet, RequestLimitExceeded, the AuthFailure family and
// CLS's codes.
//
// The principle: what the client controls (paging, ordering, window,
// status) is InvalidRequest, with the upstream's explanation; a function
// missing upstream is NotFound; everything about the proxy's own
// credentials, region or request shape is the proxy's problem, never
// blamed on the client's token.
var codeRules = map[string]codeRule{
	"AuthFailure.":                          {AuthFailure, "the upstream rejected mudscf's own Tencent Cloud credentials; an operator must fix the proxy's credentials"},
	"FailedOperation.AuthFailure":           {AuthFailure, "the upstream failed to verify mudscf's login information"},
	"UnauthorizedOperation.":                {PermissionDenied, "mudscf's Tencent Cloud credentials lack permission (CAM) to read this function's logs"},
	"UnauthorizedOperation":                 {PermissionDenied, "mudscf's Tencent Cloud credentials lack permission to read this function's logs"},
	"UnsupportedOperation.NotSupportRegion": {Misconfigured, "the Tencent Cloud region configured for this project does not support SCF logs"},
	"InvalidParameter.RoleCheck":            {Misconfigured, "the upstream's role check failed for this function"},
	"ResourceNotFound.RoleCheck":            {Misconfigured, "the role the upstream function needs does not exist"},
	"FailedOperation.TopicNotExist":         {Misconfigured, "the function's log topic does not exist upstream"},
	// CLS: the function's topic, configured or reported by SCF, is unknown
	// or missing; the message names the function.
	TopicNotFound:                    {Misconfigured, "the function's CLS log topic is unknown: %s"},
	"ResourceNotFound.IndexNotExist": {Misconfigured, "the function's CLS log topic has no index"},
	// CLS lists it only for DescribeTopics; should SearchLog ever send it,
	// it says what mudscf check finds from DescribeIndex: statistics off.
	"OperationDenied.AnalysisSwitchClose": {Misconfigured, "statistics (analysis) are off on a field of the function's CLS log topic that mudscf's SQL reads: %s"},

	"ResourceNotFound.Function":     {NotFound, "the function does not exist upstream in the configured region and namespace"},
	"ResourceNotFound.FunctionName": {NotFound, "the function does not exist upstream in the configured region and namespace"},

	"InvalidParameterValue.Offset":             {InvalidRequest, "invalid offset: %s"},
	"LimitExceeded.Offset":                     {InvalidRequest, "offset+limit is over the upstream's cap of 10000: %s"},
	"InvalidParameterValue.Order":              {InvalidRequest, "invalid order: %s"},
	"InvalidParameterValue.RetCode":            {InvalidRequest, "invalid status filter: %s"},
	"InvalidParameterValue.DateTime":           {InvalidRequest, "invalid since/until window: %s"},
	"InvalidParameterValue.StartTimeOrEndTime": {InvalidRequest, "since and until must both be known: %s"},
	// Bare InvalidParameterValue is also how Tencent refuses an unknown
	// region: mudscf validates every value a client controls before sending,
	// so what is left is mudscf's own configuration (region, namespace).
	"InvalidParameterValue": {Misconfigured, "the upstream rejected a value from mudscf's configuration (region or namespace?): %s"},

	"RequestLimitExceeded":   {RateLimited, "the upstream's request budget is exhausted; retry later"},
	"RequestLimitExceeded.":  {RateLimited, "the upstream's request budget is exhausted; retry later"},
	TopicConcurrencyExceeded: {TopicBusy, "too many concurrent queries on the function's log topic; retry later"},

	"ResourceUnavailable":  {Unavailable, "the upstream service is unavailable"},
	"ResourceUnavailable.": {Unavailable, "the upstream service is unavailable"},

	"InternalError":          {InternalError, "the upstream had an internal error"},
	"InternalError.":         {InternalError, "the upstream had an internal error"},
	"FailedOperation":        {Rejected, "the upstream operation failed"},
	"FailedOperation.":       {Rejected, "the upstream operation failed"},
	"InvalidParameter.":      {Rejected, "the upstream rejected the request mudscf built: %s"},
	"InvalidParameterValue.": {Rejected, "the upstream rejected a parameter mudscf built: %s"},
}

// unexpectedCode is the rule of a code mudscf does not know
// (MissingParameter, InvalidAction, ...): mudscf spoke wrongly to the
// upstream.
var unexpectedCode = codeRule{Rejected, "the upstream answered with an error mudscf does not expect"}

// Codes mudscf tells apart beyond their family.
const (
	// TopicConcurrencyExceeded is CLS's error for a query beyond a topic's
	// concurrency limit.
	TopicConcurrencyExceeded = "LimitExceeded.LogSearch"
	// TopicNotFound is the code of a function without a CLS topic, whether
	// SCF reports none or CLS does not know the one reported.
	TopicNotFound = "ResourceNotFound.TopicNotExist"
)

// ruleFor is the one place a Tencent error code is read: the code itself,
// else its family (the part up to its first dot).
func ruleFor(code string) codeRule {
	if r, ok := codeRules[code]; ok {
		return r
	}
	if i := strings.IndexByte(code, '.'); i > 0 {
		if r, ok := codeRules[code[:i+1]]; ok {
			return r
		}
	}
	return unexpectedCode
}

// Classify is how err, from a call, ended.
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
	case errors.Is(err, budget.ErrDraining):
		return Draining
	case errors.As(err, &gaveUp):
		return CallerGaveUp
	case errors.As(err, &apiErr):
		return ruleFor(apiErr.Code).outcome
	case errors.As(err, &tErr):
		return tErr.Outcome
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return CallerGaveUp
	}
	return Unreachable
}

// Explain is what an API error's code means for a reader of mudscf's
// answer, with the upstream's message where it helps the client.
func (e *APIError) Explain() string {
	msg := ruleFor(e.Code).explanation
	return strings.Replace(msg, "%s", translate.Clip(e.Message), 1)
}

// UpstreamFailing says whether the outcome means the upstream itself is
// failing — no usable answer, or Tencent saying it is broken — which is
// what the breaker counts. What the client asked for, the limits and
// mudscf's credentials are answers from a healthy upstream.
func (o Outcome) UpstreamFailing() bool {
	switch o {
	case InternalError, Unavailable, Timeout, Unreachable, BadResponse:
		return true
	}
	return false
}

// sentOutcomes are the outcomes a call that was sent can end in: the
// results mudscf_upstream_calls_total counts, under each outcome's own
// name. Refusals before sending (BudgetRefused, BreakerOpen) are the
// budget's and the breaker's metrics.
var sentOutcomes = []Outcome{
	OK, RateLimited, TopicBusy, AuthFailure, PermissionDenied, Misconfigured, NotFound, InvalidRequest,
	Rejected, InternalError, Unavailable, Timeout, Unreachable, BadResponse, CallerGaveUp,
}
