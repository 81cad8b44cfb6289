package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
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

// TransportError is a call that produced no API answer.
type TransportError struct {
	// Outcome is Timeout, Unreachable or BadResponse.
	Outcome    Outcome
	HTTPStatus int // of a BadResponse, when there was one
	Err        error
}

func (e *TransportError) Error() string {
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("upstream %s (HTTP %d): %v", e.Outcome, e.HTTPStatus, e.Err)
	}
	return fmt.Sprintf("upstream %s: %v", e.Outcome, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
