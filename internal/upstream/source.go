package upstream

import (
	"context"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// Page is one page of executions with the total the query matches.
type Page struct {
	Executions []translate.Execution
	Total      int64
}

// LogSource is where the HTTP edge gets executions from, in Mudbase terms.
// Tencent marks GetFunctionLogs as retired in favour of GetRequestStatus
// and CLS; a backend on those implements this interface and the handlers
// do not change.
type LogSource interface {
	Page(ctx context.Context, target translate.Target, q translate.Query) (Page, error)
	Stats(ctx context.Context, target translate.Target, q translate.Query) (translate.Stats, error)
}

// logsCaller makes one GetFunctionLogs call. *Client is one; the budget
// and the breaker wrap it.
type logsCaller interface {
	GetFunctionLogs(ctx context.Context, params translate.GetFunctionLogsRequest) (translate.GetFunctionLogsResponse, error)
}

// getFunctionLogsSource is the LogSource backed by GetFunctionLogs for one
// account in one region.
type getFunctionLogsSource struct {
	caller logsCaller
	// loc is the upstream's time zone (Asia/Shanghai for Tencent Cloud).
	loc *time.Location
}

// newGetFunctionLogsSource returns a LogSource that calls caller and reads
// and writes times in loc.
func newGetFunctionLogsSource(caller logsCaller, loc *time.Location) *getFunctionLogsSource {
	return &getFunctionLogsSource{caller: caller, loc: loc}
}

// Page costs one upstream call.
func (s *getFunctionLogsSource) Page(ctx context.Context, t translate.Target, q translate.Query) (Page, error) {
	resp, err := s.caller.GetFunctionLogs(ctx, q.Upstream(t, s.loc))
	if err != nil {
		return Page{}, err
	}
	return Page{Executions: translate.NewExecutions(resp.Data, s.loc), Total: resp.TotalCount}, nil
}

// Stats costs two upstream calls (see translate.Query.StatsRequests).
func (s *getFunctionLogsSource) Stats(ctx context.Context, t translate.Target, q translate.Query) (translate.Stats, error) {
	allReq, succeededReq := q.StatsRequests(t, s.loc)
	all, err := s.caller.GetFunctionLogs(ctx, allReq)
	if err != nil {
		return translate.Stats{}, err
	}
	succeeded, err := s.caller.GetFunctionLogs(ctx, succeededReq)
	if err != nil {
		return translate.Stats{}, err
	}
	return translate.ComputeStats(all, succeeded, s.loc), nil
}
