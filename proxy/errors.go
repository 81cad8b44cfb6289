package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/mudscf/mudscf/translate"
)

// APIError is an answer from the upstream API saying no: a Tencent error
// code with its message and the RequestId to quote to Tencent support.
type APIError struct {
	Code      string
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("tencent cloud %s (RequestId %s): %s", e.Code, e.RequestID, e.Message)
}

// TransportFailure says why no usable answer arrived.
type TransportFailure int

const (
	// Unreachable: no HTTP response (refused, reset, DNS, TLS).
	Unreachable TransportFailure = iota + 1
	// TimedOut: the call's deadline passed first.
	TimedOut
	// BadResponse: an HTTP response that is not an API 3.0 answer (an HTTP
	// error status from a gateway, or a body that is not the envelope).
	BadResponse
)

func (f TransportFailure) String() string {
	switch f {
	case Unreachable:
		return "unreachable"
	case TimedOut:
		return "timeout"
	case BadResponse:
		return "bad response"
	}
	return "unknown"
}

// TransportError is a call that produced no API answer.
type TransportError struct {
	Failure    TransportFailure
	HTTPStatus int // of a BadResponse, when there was one
	Err        error
}

func (e *TransportError) Error() string {
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("upstream %s (HTTP %d): %v", e.Failure, e.HTTPStatus, e.Err)
	}
	return fmt.Sprintf("upstream %s: %v", e.Failure, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// FailureOf maps an error from a LogSource to what the client receives.
func FailureOf(err error) translate.Failure {
	var apiErr *APIError
	var tErr *TransportError
	var openErr *BreakerOpenError
	switch {
	case errors.As(err, &openErr):
		return breakerFailure
	case errors.As(err, &apiErr):
		return translate.ClassifyUpstream(apiErr.Code, apiErr.Message, apiErr.RequestID)
	case errors.As(err, &tErr) && tErr.Failure == TimedOut, errors.Is(err, context.DeadlineExceeded):
		return translate.UpstreamTimeout
	case errors.As(err, &tErr) && tErr.Failure == BadResponse:
		return translate.UpstreamBadResponse
	default:
		return translate.UpstreamUnavailable
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
