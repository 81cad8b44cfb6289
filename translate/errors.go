package translate

import "net/http"

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
