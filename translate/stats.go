package translate

import (
	"math"
	"time"
)

// StatsSampleSize is how many of the newest executions of the window the
// average duration is computed from. GetFunctionLogs has no aggregate, so
// an exact mean would cost up to 10,000 records per refresh; the newest 100
// are one call that also yields lastRun.
const StatsSampleSize = 100

// Stats is Mudbase's stats object.
type Stats struct {
	TotalExecutions  int64   `json:"totalExecutions"`
	Successful       int64   `json:"successful"`
	Failed           int64   `json:"failed"`
	SuccessRate      float64 `json:"successRate"`
	AvgExecutionTime int64   `json:"avgExecutionTime"`
	LastRun          *string `json:"lastRun"`
}

// StatsRequests returns the two GetFunctionLogs calls that stats cost for
// q's window and qualifier: all executions (newest first, a sample of
// StatsSampleSize) and the successful ones (only TotalCount is used).
// Stats describe the function over the window, so the page's own filters
// (status, requestId, offset, limit, order) do not apply to them.
func (q Query) StatsRequests(t Target, loc *time.Location) (all, succeeded GetFunctionLogsRequest) {
	all = q.window(t, loc)
	all.Offset, all.Limit = ptr(int64(0)), ptr(int64(StatsSampleSize))
	all.Order, all.OrderBy = OrderDesc, OrderByStartTime

	succeeded = q.window(t, loc)
	// Limit 1, not 0: an explicit 0 is not documented to mean "none".
	succeeded.Offset, succeeded.Limit = ptr(int64(0)), ptr(int64(1))
	succeeded.Filter = &LogFilter{RetCode: RetCodeSucceeded}
	return all, succeeded
}

// ComputeStats builds Mudbase stats from the answers to StatsRequests.
//
// Counts come from the upstream totals, so they cover the whole window, not
// one page. "Successful" is the upstream's RetCode=0 count: the RetCode
// filter cannot also test InvokeFinished.
func ComputeStats(all, succeeded GetFunctionLogsResponse, loc *time.Location) Stats {
	total := max(all.TotalCount, 0)
	ok := min(max(succeeded.TotalCount, 0), total)
	s := Stats{TotalExecutions: total, Successful: ok, Failed: total - ok}
	if total > 0 {
		s.SuccessRate = math.Round(float64(ok)*10000/float64(total)) / 100
	}

	var sum, n int64
	var last time.Time
	for _, l := range all.Data {
		sum += durationMs(l.Duration)
		n++
		if t, err := ParseUpstreamTime(l.StartTime, loc); err == nil && t.After(last) {
			last = t
		}
	}
	if n > 0 {
		s.AvgExecutionTime = int64(math.Round(float64(sum) / float64(n)))
	}
	if !last.IsZero() {
		v := FormatMudbaseTime(last)
		s.LastRun = &v
	}
	return s
}
