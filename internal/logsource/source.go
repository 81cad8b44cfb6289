package logsource

import (
	"context"
	"encoding/json"
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
	// Calls is the most upstream calls q's page and its stats can cost,
	// known before any is made: the proxy refuses a page that costs more
	// than it serves, and gives each flight the time its calls may take.
	Calls(q translate.Query) (page, stats int)
}

// Caller makes one upstream call and returns its answer for the API's
// adapter to read: *upstream.Caller, whose chain keeps every call within
// Tencent's limits.
type Caller interface {
	Call(ctx context.Context, api upstream.API, topic string, req any) (json.RawMessage, error)
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
	answer, err := s.caller.Call(ctx, upstream.GetFunctionLogs, "", scf.LogsRequest(q, t, s.loc))
	if err != nil {
		return translate.Page{}, err
	}
	page, err := scf.ReadPage(answer, s.loc)
	if q.SkipLog {
		for i := range page.Executions {
			page.Executions[i].Log = ""
		}
	}
	return page, badResponse(err)
}

// Calls: a page is one call, stats are two.
func (s getFunctionLogs) Calls(translate.Query) (page, stats int) { return 1, 2 }

// Stats costs two upstream calls (see scf.StatsRequests).
func (s getFunctionLogs) Stats(ctx context.Context, t translate.Target, q translate.Query) (translate.Stats, error) {
	allReq, succeededReq := scf.StatsRequests(q, t, s.loc)
	all, err := s.caller.Call(ctx, upstream.GetFunctionLogs, "", allReq)
	if err != nil {
		return translate.Stats{}, err
	}
	succeeded, err := s.caller.Call(ctx, upstream.GetFunctionLogs, "", succeededReq)
	if err != nil {
		return translate.Stats{}, err
	}
	st, err := scf.ReadStats(all, succeeded, s.loc)
	return st, badResponse(err)
}

// badResponse marks an answer mudscf cannot read.
func badResponse(err error) error {
	if err == nil {
		return nil
	}
	return &upstream.TransportError{Outcome: upstream.BadResponse, Err: err}
}
