package exporter

import (
	"strings"

	"github.com/mudscf/mudscf/translate"
)

// Execution outcomes, the outcome label of mudscf_function_executions_total
// and the error.type of a failed execution's span.
const (
	outcomeSuccess       = "success"
	outcomeError         = "error"         // the function's own error or exception
	outcomeTimeout       = "timeout"       // it ran past its configured timeout
	outcomeOutOfMemory   = "out_of_memory" // it used more than its configured memory
	outcomePlatformError = "platform_error"
	outcomeUnfinished    = "unfinished" // returned nothing, did not run to its end
)

var outcomes = [...]string{outcomeSuccess, outcomeError, outcomeTimeout, outcomeOutOfMemory, outcomePlatformError, outcomeUnfinished}

const numOutcomes = len(outcomes)

// outcomeIndex is o's place in outcomes, or -1.
func outcomeIndex(o string) int {
	for i, v := range outcomes {
		if v == o {
			return i
		}
	}
	return -1
}

// outcomeOf classifies an execution by the return code the proxy passes on
// from Tencent (retCode), following Tencent's "Cloud Function Status Code"
// table:
//
//   - 433 TimeLimitReached: timeout; 434 MemoryLimitReached: out_of_memory;
//   - 430 "User code exception caught" and 407 (the function's response over
//     6 MB): error, the function's own;
//   - every other documented code, 400–499 (bad event, credentials, service
//     suspended, subnet, container exit, event too large, balance, resource
//     and concurrency limits, function not found, …) and 5xx: platform_error,
//     the platform did not run the code to its end;
//   - any other non-zero code is the function's own return code: error.
//
// A failure with code 0 carries no Tencent code: the proxy's "invocation did
// not finish" (InvokeFinished ≠ 1) is unfinished, Mudbase's own "Timeout" is
// timeout, anything else error.
func outcomeOf(x translate.Execution) string {
	if x.Success {
		return outcomeSuccess
	}
	switch c := x.RetCode; {
	case c == 433:
		return outcomeTimeout
	case c == 434:
		return outcomeOutOfMemory
	case c == 430 || c == 407:
		return outcomeError
	case c >= 400 && c <= 599:
		return outcomePlatformError
	case c != 0:
		return outcomeError
	}
	switch strings.TrimSpace(x.Error) {
	case translate.UnfinishedMessage:
		return outcomeUnfinished
	case "Timeout":
		return outcomeTimeout
	}
	return outcomeError
}
