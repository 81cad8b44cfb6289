package scf

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// StatsSampleSize is how many of the newest executions of the window the
// average duration is computed from. GetFunctionLogs has no aggregate, so
// an exact mean would cost up to 10,000 records per refresh; the newest 100
// are one call that also yields lastRun.
const StatsSampleSize = 100

// LogsRequest is the GetFunctionLogs call for one page of q. The window is
// always explicit and written in the upstream's zone loc, because an
// absent window means whatever the upstream defaults to.
func LogsRequest(q translate.Query, t translate.Target, loc *time.Location) GetFunctionLogsRequest {
	req := window(q, t, loc)
	req.Offset, req.Limit = new(q.Offset), new(q.Limit)
	req.Order, req.OrderBy = order(q.Order), OrderByStartTime
	switch q.Status {
	case translate.StatusSuccess:
		req.Filter = &LogFilter{RetCode: RetCodeSucceeded}
	case translate.StatusFailed:
		req.Filter = &LogFilter{RetCode: RetCodeFailed}
	}
	req.FunctionRequestId = q.RequestID
	return req
}

func order(o string) string {
	if o == translate.OrderAsc {
		return OrderAsc
	}
	return OrderDesc
}

func window(q translate.Query, t translate.Target, loc *time.Location) GetFunctionLogsRequest {
	return GetFunctionLogsRequest{
		FunctionName: t.FunctionName,
		Namespace:    t.Namespace,
		Qualifier:    q.QualifierFor(t),
		StartTime:    FormatTime(q.Since, loc),
		EndTime:      FormatTime(q.Until, loc),
	}
}

// FormatTime writes t as the upstream reads StartTime and EndTime: whole
// seconds in its zone loc.
func FormatTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(TimeLayout)
}

// StatsRequests are the two GetFunctionLogs calls that stats cost for q's
// window and qualifier: all executions (newest first, a sample of
// StatsSampleSize) and the successful ones (only TotalCount is used).
// Stats describe the function over the window, so the page's own filters
// (status, requestId, offset, limit, order) do not apply to them.
func StatsRequests(q translate.Query, t translate.Target, loc *time.Location) (all, succeeded GetFunctionLogsRequest) {
	all = window(q, t, loc)
	all.Offset, all.Limit = new(int64(0)), new(int64(StatsSampleSize))
	all.Order, all.OrderBy = OrderDesc, OrderByStartTime

	succeeded = window(q, t, loc)
	// Limit 1, not 0: an explicit 0 is not documented to mean "none".
	succeeded.Offset, succeeded.Limit = new(int64(0)), new(int64(1))
	succeeded.Filter = &LogFilter{RetCode: RetCodeSucceeded}
	return all, succeeded
}

// ParseTime reads a StartTime written in the upstream's zone loc, with or
// without fractional seconds.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	return time.ParseInLocation(TimeLayout+".999999999", strings.TrimSpace(s), loc)
}

// Invocation is what one record says, in the model's units. A StartTime
// that cannot be read leaves Start zero.
func Invocation(l FunctionLog, loc *time.Location) translate.Invocation {
	start, _ := ParseTime(l.StartTime, loc)
	return translate.Invocation{
		RequestID:    l.RequestId,
		FunctionName: l.FunctionName,
		Start:        start,
		DurationMs:   l.Duration,
		BilledMs:     new(l.BillDuration),
		MemoryBytes:  l.MemUsage,
		Retries:      l.RetryNum,
		RetCode:      l.RetCode,
		Finished:     l.InvokeFinished == 1,
		RetMsg:       l.RetMsg,
		Log:          l.Log,
		Level:        l.Level,
	}
}

// ReadPage reads GetFunctionLogs's answer to LogsRequest: the page, in its
// order, and the total of the window.
func ReadPage(answer json.RawMessage, loc *time.Location) (translate.Page, error) {
	var resp GetFunctionLogsResponse
	if err := json.Unmarshal(answer, &resp); err != nil {
		return translate.Page{}, fmt.Errorf("GetFunctionLogs answer: %w", err)
	}
	return page(resp, loc), nil
}

func page(resp GetFunctionLogsResponse, loc *time.Location) translate.Page {
	out := make([]translate.Execution, len(resp.Data))
	for i, l := range resp.Data {
		out[i] = translate.NewExecution(Invocation(l, loc))
	}
	return translate.Page{Executions: out, Total: resp.TotalCount}
}

// ReadStats reads GetFunctionLogs's answers to StatsRequests.
func ReadStats(all, succeeded json.RawMessage, loc *time.Location) (translate.Stats, error) {
	var a, ok GetFunctionLogsResponse
	if err := json.Unmarshal(all, &a); err != nil {
		return translate.Stats{}, fmt.Errorf("GetFunctionLogs answer: %w", err)
	}
	if err := json.Unmarshal(succeeded, &ok); err != nil {
		return translate.Stats{}, fmt.Errorf("GetFunctionLogs answer: %w", err)
	}
	return stats(a, ok, loc), nil
}

// stats builds Mudbase stats from the answers to StatsRequests.
//
// Counts come from the upstream totals, so they cover the whole window, not
// one page. "Successful" is the upstream's RetCode=0 count: the RetCode
// filter cannot also test InvokeFinished. The mean duration is the
// sample's, of whole milliseconds as each execution reports them.
func stats(all, succeeded GetFunctionLogsResponse, loc *time.Location) translate.Stats {
	var sum, n int64
	var last time.Time
	for _, l := range all.Data {
		sum += translate.DurationMs(l.Duration)
		n++
		if t, err := ParseTime(l.StartTime, loc); err == nil && translate.InMudbaseRange(t) && t.After(last) {
			last = t
		}
	}
	var avg float64
	if n > 0 {
		avg = float64(sum) / float64(n)
	}
	return translate.NewStats(all.TotalCount, succeeded.TotalCount, avg, last)
}
