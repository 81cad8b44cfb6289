package logsource

import (
	"context"
	"time"

	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/scf"
)

// requestStatus serves a page asking for one request ID with
// GetRequestStatus (20 calls a second, its own budget) instead of
// GetFunctionLogs (5), and everything else, stats included, with logs.
// Stats cover the whole window whatever the request ID, so they stay
// GetFunctionLogs's (and are cached per window). GetRequestStatus takes no
// qualifier: a query with one, or a target configured with one, stays with
// logs.
type requestStatus struct {
	logs   LogSource
	caller Caller
	loc    *time.Location
}

func (s requestStatus) Page(ctx context.Context, t translate.Target, q translate.Query) (translate.Page, error) {
	if !scf.ServesByRequestID(q, t) {
		return s.logs.Page(ctx, t, q)
	}
	answer, err := s.caller.Call(ctx, upstream.GetRequestStatus, "", scf.RequestStatusRequest(q, t, s.loc))
	if err != nil {
		return translate.Page{}, err
	}
	page, err := scf.RequestStatusPage(answer, q, s.loc)
	return page, badResponse(err)
}

func (s requestStatus) Stats(ctx context.Context, t translate.Target, q translate.Query) (translate.Stats, error) {
	return s.logs.Stats(ctx, t, q)
}

// Calls: a page is one call, of either API; stats are GetFunctionLogs's.
func (s requestStatus) Calls(q translate.Query) (page, stats int) { return s.logs.Calls(q) }
