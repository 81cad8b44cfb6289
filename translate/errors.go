package translate

import (
	"fmt"
	"net/http"
	"strings"
)

// Codes of the Mudbase error envelope sent by mudscf.
const (
	CodeInvalidParameter   = "INVALID_PARAMETER"
	CodeUnauthorized       = "UNAUTHORIZED"
	CodeForbidden          = "FORBIDDEN"
	CodeNotFound           = "NOT_FOUND"
	CodeFunctionNotFound   = "FUNCTION_NOT_FOUND"
	CodeRateLimited        = "RATE_LIMITED"
	CodeUpstreamAuth       = "UPSTREAM_AUTH_FAILED"
	CodeUpstreamPermission = "UPSTREAM_PERMISSION_DENIED"
	CodeUpstreamConfig     = "UPSTREAM_MISCONFIGURED"
	CodeUpstreamError      = "UPSTREAM_ERROR"
	CodeUpstreamBadReply   = "UPSTREAM_BAD_RESPONSE"
	CodeUpstreamTimeout    = "UPSTREAM_TIMEOUT"
	CodeUpstreamDown       = "UPSTREAM_UNAVAILABLE"
	CodeInternal           = "INTERNAL_ERROR"
)

// Failure is an HTTP status with the Mudbase error envelope to send.
type Failure struct {
	Status int
	Body   ErrorBody
}

// NewFailure builds a Failure raised by mudscf itself.
func NewFailure(status int, code, message string) Failure {
	return Failure{Status: status, Body: ErrorBody{Error: message, Code: code}}
}

// BadRequest is the 400 for a ValidationError.
func BadRequest(err *ValidationError) Failure {
	return NewFailure(http.StatusBadRequest, CodeInvalidParameter, err.Error())
}

// upstreamRule maps one Tencent error code, or a family of them when the
// key ends in ".", to what the client sees.
type upstreamRule struct {
	status int
	code   string
	// message is what the client reads. "%s" in it is replaced by the
	// upstream's own message where that helps the client fix its request.
	message string
}

// Every code of GetFunctionLogs' error table, the common codes the call can
// meet, RequestLimitExceeded and the AuthFailure family.
//
// The principle: what the client controls (paging, ordering, window,
// status) is a 400 with the upstream's explanation; a function missing
// upstream is a 404; everything about the proxy's own credentials, region
// or request shape is the proxy's problem, so a 502 that never blames the
// client's token (AuthFailure is never a 401).
var upstreamRules = map[string]upstreamRule{
	"AuthFailure.":                          {http.StatusBadGateway, CodeUpstreamAuth, "the upstream rejected mudscf's own Tencent Cloud credentials; an operator must fix the proxy's credentials"},
	"FailedOperation.AuthFailure":           {http.StatusBadGateway, CodeUpstreamAuth, "the upstream failed to verify mudscf's login information"},
	"UnauthorizedOperation.":                {http.StatusBadGateway, CodeUpstreamPermission, "mudscf's Tencent Cloud credentials lack permission (CAM) to read this function's logs"},
	"UnauthorizedOperation":                 {http.StatusBadGateway, CodeUpstreamPermission, "mudscf's Tencent Cloud credentials lack permission to read this function's logs"},
	"UnsupportedOperation.NotSupportRegion": {http.StatusBadGateway, CodeUpstreamConfig, "the Tencent Cloud region configured for this project does not support SCF logs"},
	"InvalidParameter.RoleCheck":            {http.StatusBadGateway, CodeUpstreamConfig, "the upstream's role check failed for this function"},
	"ResourceNotFound.RoleCheck":            {http.StatusBadGateway, CodeUpstreamConfig, "the role the upstream function needs does not exist"},
	"FailedOperation.TopicNotExist":         {http.StatusBadGateway, CodeUpstreamConfig, "the function's log topic does not exist upstream"},
	// CLS: the function's topic, configured or reported by SCF, is unknown
	// or missing; the message names the function.
	"ResourceNotFound.TopicNotExist": {http.StatusBadGateway, CodeUpstreamConfig, "the function's CLS log topic is unknown: %s"},

	"ResourceNotFound.Function":     {http.StatusNotFound, CodeFunctionNotFound, "the function does not exist upstream in the configured region and namespace"},
	"ResourceNotFound.FunctionName": {http.StatusNotFound, CodeFunctionNotFound, "the function does not exist upstream in the configured region and namespace"},

	"InvalidParameterValue.Offset":             {http.StatusBadRequest, CodeInvalidParameter, "invalid offset: %s"},
	"LimitExceeded.Offset":                     {http.StatusBadRequest, CodeInvalidParameter, "offset+limit is over the upstream's cap of 10000: %s"},
	"InvalidParameterValue.Order":              {http.StatusBadRequest, CodeInvalidParameter, "invalid order: %s"},
	"InvalidParameterValue.RetCode":            {http.StatusBadRequest, CodeInvalidParameter, "invalid status filter: %s"},
	"InvalidParameterValue.DateTime":           {http.StatusBadRequest, CodeInvalidParameter, "invalid since/until window: %s"},
	"InvalidParameterValue.StartTimeOrEndTime": {http.StatusBadRequest, CodeInvalidParameter, "since and until must both be known: %s"},
	// Bare InvalidParameterValue is also how Tencent refuses an unknown
	// region: mudscf validates every value a client controls before sending,
	// so what is left is mudscf's own configuration (region, namespace).
	"InvalidParameterValue": {http.StatusBadGateway, CodeUpstreamConfig, "the upstream rejected a value from mudscf's configuration (region or namespace?): %s"},

	"RequestLimitExceeded":  {http.StatusTooManyRequests, CodeRateLimited, "the upstream's request budget is exhausted; retry later"},
	"RequestLimitExceeded.": {http.StatusTooManyRequests, CodeRateLimited, "the upstream's request budget is exhausted; retry later"},
	// CLS: too many concurrent queries on the function's log topic.
	"LimitExceeded.LogSearch": {http.StatusTooManyRequests, CodeRateLimited, "too many concurrent queries on the function's log topic; retry later"},

	"ResourceUnavailable":  {http.StatusServiceUnavailable, CodeUpstreamDown, "the upstream service is unavailable"},
	"ResourceUnavailable.": {http.StatusServiceUnavailable, CodeUpstreamDown, "the upstream service is unavailable"},

	"InternalError":          {http.StatusBadGateway, CodeUpstreamError, "the upstream had an internal error"},
	"InternalError.":         {http.StatusBadGateway, CodeUpstreamError, "the upstream had an internal error"},
	"FailedOperation":        {http.StatusBadGateway, CodeUpstreamError, "the upstream operation failed"},
	"FailedOperation.":       {http.StatusBadGateway, CodeUpstreamError, "the upstream operation failed"},
	"InvalidParameter.":      {http.StatusBadGateway, CodeUpstreamError, "the upstream rejected the request mudscf built: %s"},
	"InvalidParameterValue.": {http.StatusBadGateway, CodeUpstreamError, "the upstream rejected a parameter mudscf built: %s"},
}

// ClassifyUpstream maps a Tencent error to the Failure a client receives.
// Codes it does not know (MissingParameter, InvalidAction, ...) mean the
// proxy spoke wrongly to the upstream: a 502 that names the code.
func ClassifyUpstream(code, message, requestID string) Failure {
	rule, ok := upstreamRules[code]
	if !ok {
		if i := strings.IndexByte(code, '.'); i > 0 {
			rule, ok = upstreamRules[code[:i+1]]
		}
	}
	if !ok {
		rule = upstreamRule{http.StatusBadGateway, CodeUpstreamError, "the upstream answered with an error mudscf does not expect"}
	}
	msg := rule.message
	if strings.Contains(msg, "%s") {
		msg = fmt.Sprintf(msg, clip(message))
	}
	return Failure{Status: rule.status, Body: ErrorBody{
		Error:        msg + " (" + clip(code) + ")",
		Code:         rule.code,
		UpstreamCode: clip(code),
		RequestID:    clip(requestID),
	}}
}

// Failures of the conversation with the upstream rather than of the API.
var (
	UpstreamTimeout     = NewFailure(http.StatusGatewayTimeout, CodeUpstreamTimeout, "the upstream did not answer in time")
	UpstreamUnavailable = NewFailure(http.StatusServiceUnavailable, CodeUpstreamDown, "the upstream could not be reached")
	UpstreamBadResponse = NewFailure(http.StatusBadGateway, CodeUpstreamBadReply, "the upstream sent a response mudscf cannot read")
)
