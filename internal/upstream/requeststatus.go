package upstream

import (
	"context"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// getRequestStatus is SCF's lookup of one invocation by its request ID,
// and getRequestStatusPerSecond its documented limit of calls per second.
const (
	getRequestStatus          = "GetRequestStatus"
	getRequestStatusPerSecond = 20
)

// RequestStatusRequest is a GetRequestStatus call: one function's
// invocation by request ID, among those that started in [StartTime,
// EndTime] (the upstream's zone, whole seconds, as GetFunctionLogs).
type RequestStatusRequest struct {
	FunctionName      string
	FunctionRequestId string
	Namespace         string `json:",omitempty"`
	StartTime         string `json:",omitempty"`
	EndTime           string `json:",omitempty"`
}

// RequestStatus is one entry of GetRequestStatus's answer. Tencent's
// RetCode here is 0 for success, 1 while running and -1 for any failure;
// MemUsage is in MB.
type RequestStatus struct {
	FunctionName string  `json:"FunctionName"`
	RetMsg       string  `json:"RetMsg"`
	RequestId    string  `json:"RequestId"`
	StartTime    string  `json:"StartTime"`
	RetCode      int64   `json:"RetCode"`
	Duration     float64 `json:"Duration"`
	MemUsage     float64 `json:"MemUsage"`
	RetryNum     int64   `json:"RetryNum"`
}

// RequestStatusResponse is the content of GetRequestStatus's Response.
type RequestStatusResponse struct {
	TotalCount int64           `json:"TotalCount"`
	Data       []RequestStatus `json:"Data"`
}

// GetRequestStatus makes one call. Errors are *APIError or
// *TransportError.
func (c *Client) GetRequestStatus(ctx context.Context, req RequestStatusRequest) (RequestStatusResponse, error) {
	var out RequestStatusResponse
	err := c.call(ctx, getRequestStatus, req, &out)
	return out, err
}

// requestStatusCaller makes one GetRequestStatus call. *Client is one;
// the budget and the breaker wrap it.
type requestStatusCaller interface {
	GetRequestStatus(ctx context.Context, req RequestStatusRequest) (RequestStatusResponse, error)
}

// budgetedRequestStatus is GetRequestStatus within its own budget, through
// the account's breaker.
type budgetedRequestStatus struct {
	next  requestStatusCaller
	guard *guard
	*budgeted
}

func (c budgetedRequestStatus) GetRequestStatus(ctx context.Context, req RequestStatusRequest) (resp RequestStatusResponse, err error) {
	err = c.guard.do(ctx, func() error {
		return c.do(ctx, func(ctx context.Context) error {
			resp, err = c.next.GetRequestStatus(ctx, req)
			return err
		})
	})
	return resp, err
}

// requestStatusSource serves a page asking for one request ID with
// GetRequestStatus (20 calls a second, its own budget) instead of
// GetFunctionLogs (5), and everything else, stats included, with logs.
// Stats cover the whole window whatever the request ID, so they stay
// GetFunctionLogs's (and are cached per window).
//
// GetRequestStatus takes no qualifier: a query with one, or a target
// configured with one, stays with logs. Its answer has no billed duration
// and no log text (left out, as for CLS), and its RetCode says only
// success (0) or failure (-1): a failed execution's retCode is -1 where
// GetFunctionLogs has the function's own code.
type requestStatusSource struct {
	logs   LogSource
	status requestStatusCaller
	loc    *time.Location
}

func (s requestStatusSource) Page(ctx context.Context, t translate.Target, q translate.Query) (Page, error) {
	if q.RequestID == "" || q.Qualifier != "" || t.Qualifier != "" {
		return s.logs.Page(ctx, t, q)
	}
	window := q.Upstream(t, s.loc)
	resp, err := s.status.GetRequestStatus(ctx, RequestStatusRequest{
		FunctionName: t.FunctionName, Namespace: t.Namespace, FunctionRequestId: q.RequestID,
		StartTime: window.StartTime, EndTime: window.EndTime,
	})
	if err != nil {
		return Page{}, err
	}
	var matched []translate.Execution
	for _, r := range resp.Data {
		// GetFunctionLogs lists finished invocations only.
		if r.RetCode == requestRunning || r.RequestId != q.RequestID {
			continue
		}
		x := translate.NewExecution(translate.FunctionLog{
			FunctionName: r.FunctionName, RetMsg: r.RetMsg, RequestId: r.RequestId, StartTime: r.StartTime,
			RetCode: r.RetCode, InvokeFinished: 1, Duration: r.Duration,
			MemUsage: int64(r.MemUsage * (1 << 20)), RetryNum: r.RetryNum,
		}, s.loc)
		x.BilledDurationMs = nil
		if q.Status == translate.StatusSuccess && !x.Success || q.Status == translate.StatusFailed && x.Success {
			continue
		}
		matched = append(matched, x)
	}
	page := Page{Executions: []translate.Execution{}, Total: int64(len(matched))}
	if q.Offset < int64(len(matched)) {
		page.Executions = matched[q.Offset:min(q.Offset+q.Limit, int64(len(matched)))]
	}
	return page, nil
}

// requestRunning is GetRequestStatus's RetCode of an invocation still
// running.
const requestRunning = 1

func (s requestStatusSource) Stats(ctx context.Context, t translate.Target, q translate.Query) (translate.Stats, error) {
	return s.logs.Stats(ctx, t, q)
}
