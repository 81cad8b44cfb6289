package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mudscf/mudscf/translate"
)

// plan is what a request's query resolves to on its way to the cache: the
// validated query and the cache keys of its two parts.
//
// A window that ends "now" (no until) is keyed as such, not by the instant
// it was resolved at: the same request made a moment later is the same
// key, so an entry serves hits for its whole TTL and its Age is the time
// since its fetch. The upstream still gets an explicit window, placed when
// the fetch starts (at).
type plan struct {
	q                 translate.Query
	statsKey, pageKey string
	// pageCalls and statsCalls are the most upstream calls each part may
	// cost, which size its flight's deadline.
	pageCalls, statsCalls int
	// endsNow: the window ends at the fetch; relativeStart: it also starts
	// a default window before then (no since).
	endsNow, relativeStart bool
	// validUntil is when a window with a fixed since and no until grows
	// past translate.MaxWindow, and the query stops being valid; zero for
	// other windows, which stay valid.
	validUntil time.Time
}

// at is the plan's query with its window placed at now.
func (p *plan) at(now time.Time) translate.Query {
	q := p.q
	if !p.endsNow {
		return q
	}
	q.Until = now
	if p.relativeStart {
		q.Since = now.Add(-translate.DefaultWindow)
	} else if q.Until.Sub(q.Since) > translate.MaxWindow {
		// Validated a moment ago: the fetch started past the day the
		// upstream allows, so it asks for the latest day of the window.
		q.Since = q.Until.Add(-translate.MaxWindow)
	}
	return q
}

// planKey is everything a plan depends on. The project's targets and the
// upstream zone are fixed for the server's life, so the IDs stand for them;
// the clock only decides whether a plan is still valid (validUntil).
type planKey struct {
	projectID, functionID, rawQuery string
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

// planFor resolves the request's query for target at now.
func (s *Server) planFor(c echo.Context, projectID, functionID string, proj *project, target translate.Target, now time.Time) (*plan, error) {
	key := planKey{projectID: projectID, functionID: functionID, rawQuery: c.QueryString()}
	m := s.plans
	m.mu.RLock()
	p, ok := m.plans[key]
	m.mu.RUnlock()
	if ok && (p.validUntil.IsZero() || now.Before(p.validUntil)) {
		return p, nil
	}
	p, err := s.resolve(c, projectID, proj, target, now)
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

// movingWindow stands for a window's end (or start) placed at the fetch,
// in cache keys: no time in a key has this form.
const movingWindow = "now"

func (s *Server) resolve(c echo.Context, projectID string, proj *project, target translate.Target, now time.Time) (*plan, error) {
	// Strictly: Echo's QueryParams drops pairs it cannot parse (a bad
	// escape, a ';' separator), which would answer a filter the client
	// did not get with an unfiltered page.
	params, err := url.ParseQuery(c.QueryString())
	if err != nil {
		return nil, failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter, "malformed query string: "+err.Error()))
	}
	q, err := translate.ParseQuery(params, now)
	var verr *translate.ValidationError
	if errors.As(err, &verr) {
		return nil, failure(translate.BadRequest(verr))
	} else if err != nil {
		return nil, err
	}
	p := &plan{q: q, endsNow: !params.Has("until"), relativeStart: !params.Has("since") && !params.Has("until")}
	p.pageCalls, p.statsCalls = proj.source.Calls(q)
	if most := s.cfg.Upstream.MaxCallsPerPage; p.pageCalls > most {
		return nil, failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter, fmt.Sprintf(
			"limit: a page of %d executions from this project's source costs up to %d upstream calls, and this proxy serves at most %d per page: ask for fewer (or log=false, which costs less on CLS)",
			q.Limit, p.pageCalls, most)))
	}
	if p.endsNow && !p.relativeStart {
		p.validUntil = q.Since.Add(translate.MaxWindow + 1)
	}
	if !q.SkipStats {
		p.statsKey = p.cacheKey(projectID, "stats", target)
	}
	if q.Limit > 0 {
		p.pageKey = p.cacheKey(projectID, "page", target)
	}
	return p, nil
}

// cacheKey is what a part of kind (page or stats) asks of any source for
// target: equal keys ask the same thing. Stats describe the function over
// the window, so only the window and the qualifier decide them; a page
// depends on every field of the query. Times are whole seconds, the
// upstream's precision.
func (p *plan) cacheKey(projectID, kind string, t translate.Target) string {
	q := p.q
	var b strings.Builder
	b.Grow(128)
	field := func(s string) {
		b.WriteString(s)
		b.WriteByte(0)
	}
	field(projectID)
	field(kind)
	field(t.FunctionName)
	field(t.Namespace)
	field(q.QualifierFor(t))
	since, until := strconv.FormatInt(q.Since.Unix(), 10), strconv.FormatInt(q.Until.Unix(), 10)
	if p.relativeStart {
		since = movingWindow
	}
	if p.endsNow {
		until = movingWindow
	}
	field(since)
	field(until)
	if kind == "page" {
		field(q.Order)
		field(q.Status)
		field(q.RequestID)
		field(strconv.FormatInt(q.Offset, 10))
		field(strconv.FormatInt(q.Limit, 10))
		field(strconv.FormatBool(q.SkipLog))
	}
	return b.String()
}
