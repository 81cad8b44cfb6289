package scf

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// requestRunning is GetRequestStatus's RetCode of an invocation still
// running.
const requestRunning = 1

// ServesByRequestID says whether GetRequestStatus can answer q's page on
// t: q asks for one request ID, and names no qualifier, which
// GetRequestStatus does not take (nor may t's configuration).
func ServesByRequestID(q translate.Query, t translate.Target) bool {
	return q.RequestID != "" && q.QualifierFor(t) == ""
}

// RequestStatusRequest is the GetRequestStatus call for q's request ID in
// q's window.
func RequestStatusRequest(q translate.Query, t translate.Target, loc *time.Location) GetRequestStatusRequest {
	return GetRequestStatusRequest{
		FunctionName: t.FunctionName, Namespace: t.Namespace, FunctionRequestId: q.RequestID,
		StartTime: FormatTime(q.Since, loc), EndTime: FormatTime(q.Until, loc),
	}
}

// RequestStatusPage reads GetRequestStatus's answer as the page
// GetFunctionLogs would answer for q: finished invocations only, with exactly q's
// request ID, filtered by q's status and paged by its offset and limit.
//
// The answer carries no billed duration and no log text (left out, as for
// CLS), and its RetCode says only success (0) or failure (-1): a failed
// execution's retCode is -1 where GetFunctionLogs has the function's own.
func RequestStatusPage(answer json.RawMessage, q translate.Query, loc *time.Location) (translate.Page, error) {
	var resp GetRequestStatusResponse
	if err := json.Unmarshal(answer, &resp); err != nil {
		return translate.Page{}, fmt.Errorf("GetRequestStatus answer: %w", err)
	}
	var matched []translate.Execution
	for _, r := range resp.Data {
		if r.RetCode == requestRunning || r.RequestId != q.RequestID {
			continue
		}
		start, _ := ParseTime(r.StartTime, loc)
		x := translate.NewExecution(translate.Invocation{
			RequestID: r.RequestId, FunctionName: r.FunctionName, Start: start, DurationMs: r.Duration,
			MemoryBytes: int64(r.MemUsage * (1 << 20)), Retries: r.RetryNum, RetCode: r.RetCode,
			Finished: true, RetMsg: r.RetMsg,
		})
		if q.Status == translate.StatusSuccess && !x.Success || q.Status == translate.StatusFailed && x.Success {
			continue
		}
		matched = append(matched, x)
	}
	page := translate.Page{Executions: []translate.Execution{}, Total: int64(len(matched))}
	if q.Offset < int64(len(matched)) {
		page.Executions = matched[q.Offset:min(q.Offset+q.Limit, int64(len(matched)))]
	}
	return page, nil
}
