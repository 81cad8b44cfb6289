package proxy

import (
	"errors"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mudscf/mudscf/translate"
)

// plan is what a request's query resolves to on its way to the cache: the
// validated query and the cache keys of its two parts.
type plan struct {
	q                      translate.Query
	statsKey, lastStatsKey string
	pageKey, lastPageKey   string
}

// planKey is everything a plan depends on. The project's targets and the
// upstream zone are fixed for the server's life, so the IDs stand for them.
type planKey struct {
	projectID, functionID, rawQuery string
	// windowEnd is the aligned end of the default window, which moves
	// every cache.windowAlign.
	windowEnd int64
}

// maxMemoQuery is longer than any query of known parameters with valid
// values; longer ones (padded with unknown parameters) are resolved each
// time.
const maxMemoQuery = 1024

// planMemo remembers resolved plans. Resolving parses the query string and
// two RFC 3339 times and formats six upstream times into four keys; a
// cache hit is the same query again, so the hit path looks the plan up by
// its raw inputs instead. Only valid queries of at most maxMemoQuery bytes
// are remembered, at most maxEntries of them, and the memo starts over when
// full: distinct queries cost what they cost without it, and the memo
// holds a few MiB at most whatever clients send.
type planMemo struct {
	mu         sync.RWMutex
	plans      map[planKey]*plan
	maxEntries int
}

func newPlanMemo(maxEntries int) *planMemo {
	return &planMemo{plans: map[planKey]*plan{}, maxEntries: maxEntries}
}

// planFor resolves the request's query for target; now is the request's
// clock reading, unless Options.Now replaced the clock.
func (s *Server) planFor(c echo.Context, projectID, functionID string, target translate.Target, now time.Time) (*plan, error) {
	if s.now != nil {
		now = s.now()
	}
	windowEnd := now.Truncate(s.cfg.Cache.WindowAlign)
	key := planKey{projectID: projectID, functionID: functionID, rawQuery: c.QueryString(), windowEnd: windowEnd.UnixNano()}
	m := s.plans
	m.mu.RLock()
	p, ok := m.plans[key]
	m.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := s.resolve(c, projectID, target, windowEnd)
	if err != nil || len(key.rawQuery) > maxMemoQuery {
		return p, err
	}
	m.mu.Lock()
	if len(m.plans) >= m.maxEntries {
		clear(m.plans)
	}
	m.plans[key] = p
	m.mu.Unlock()
	return p, nil
}

func (s *Server) resolve(c echo.Context, projectID string, target translate.Target, windowEnd time.Time) (*plan, error) {
	params := c.QueryParams()
	q, err := translate.ParseQuery(params, windowEnd)
	var verr *translate.ValidationError
	if errors.As(err, &verr) {
		return nil, failure(translate.BadRequest(verr))
	} else if err != nil {
		return nil, err
	}
	// A default window moves with the clock, and so does its cache key; the
	// last good answer for it is also kept under a key without the window,
	// so that stale-if-error still finds it after the window moved on.
	movingWindow := !params.Has("since") && !params.Has("until")
	keys := func(kind string, reqs ...translate.GetFunctionLogsRequest) (exact, last string) {
		exact = projectID + "|" + kind + "|" + keyOf(reqs...)
		if !movingWindow {
			return exact, exact
		}
		for i := range reqs {
			reqs[i].StartTime, reqs[i].EndTime = "", ""
		}
		return exact, projectID + "|" + kind + "|last|" + keyOf(reqs...)
	}
	p := &plan{q: q}
	if !q.SkipStats {
		first, second := q.StatsRequests(target, s.loc)
		p.statsKey, p.lastStatsKey = keys("stats", first, second)
	}
	if q.Limit > 0 {
		p.pageKey, p.lastPageKey = keys("page", q.Upstream(target, s.loc))
	}
	return p, nil
}
