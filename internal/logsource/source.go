package logsource

import (
	"context"
	"time"

	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/scf"
)

// LogSource is where the HTTP edge gets executions from, in Mudbase terms.
// Tencent marks GetFunctionLogs as retired in favour of GetRequestStatus
// and CLS; each is a source here, and the HTTP edge does not change.
type LogSource interface {
	Page(ctx context.Context, target translate.Target, q translate.Query) (translate.Page, error)
	Stats(ctx context.Context, target translate.Target, q translate.Query) (translate.Stats, error)
}

// Caller makes one upstream call: *upstream.Caller, whose chain keeps every
// call within Tencent's limits.
type Caller interface {
	Call(ctx context.Context, api upstream.API, topic string, req, resp any) error
}

// getFunctionLogs is the LogSource backed by GetFunctionLogs for one
// account in one region.
type getFunctionLogs struct {
	caller Caller
	// loc is the upstream's time zone (Asia/Shanghai for Tencent Cloud).
	loc *time.Location
}

// NewGetFunctionLogs is the source of a getFunctionLogs project: its pages
// and stats from GetFunctionLogs, except a page asking for one request ID,
// which GetRequestStatus answers within its own, larger budget. Times are
// read and written in loc.
func NewGetFunctionLogs(caller Caller, loc *time.Location) LogSource {
	return requestStatus{logs: getFunctionLogs{caller: caller, loc: loc}, caller: caller, loc: loc}
}

// Page costs one upstream call.
func (s getFunctionLogs) Page(ctx context.Context, t translate.Target, q translate.Query) (translate.Page, error) {
	var resp scf.GetFunctionLogsResponse
	if err := s.caller.Call(ctx, upstream.GetFunctionLogs, "", scf.LogsRequest(q, t, s.loc), &resp); err != nil {
		return translate.Page{}, err
	}
	return scf.Page(resp, s.loc), nil
}

// Stats costs two upstream calls (see scf.StatsRequests).
func (s getFunctionLogs) Stats(ctx context.Context, t translate.Target, q translate.Query) (translate.Stats, error) {
	allReq, succeededReq := scf.StatsRequests(q, t, s.loc)
	var all, succeeded scf.GetFunctionLogsResponse
	if err := s.caller.Call(ctx, upstream.GetFunctionLogs, "", allReq, &all); err != nil {
		return translate.Stats{}, err
	}
	if err := s.caller.Call(ctx, upstream.GetFunctionLogs, "", succeededReq, &succeeded); err != nil {
		return translate.Stats{}, err
	}
	return scf.Stats(all, succeeded, s.loc), nil
}
