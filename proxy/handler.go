package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/singleflight"

	"github.com/mudscf/mudscf/translate"
)

// X-Cache values: how the answer was made.
const (
	cacheHit   = "HIT"
	cacheMiss  = "MISS"
	cacheStale = "STALE"
)

const principalKey = "mudscf.principal"

// authenticate turns the bearer token into a Principal or answers 401.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.auth.Authenticate(c.Request().Header.Get(echo.HeaderAuthorization))
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="mudscf"`)
			return failure(translate.NewFailure(http.StatusUnauthorized, translate.CodeUnauthorized, err.Error()))
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// handleLogs serves Mudbase's getLogs: the page and the stats each come
// from the cache or one collapsed upstream flight, and are joined as
// already-encoded bytes.
func (s *Server) handleLogs(c echo.Context) error {
	projectID, functionID := c.Param("projectId"), c.Param("functionId")
	for _, id := range [][2]string{{"projectId", projectID}, {"functionId", functionID}} {
		if verr := translate.ValidateID(id[0], id[1]); verr != nil {
			return failure(translate.BadRequest(verr))
		}
	}
	proj, ok := s.projects[projectID]
	if !ok {
		return failure(translate.NewFailure(http.StatusNotFound, translate.CodeNotFound, "project "+projectID+" is not served by this proxy"))
	}
	principal := c.Get(principalKey).(Principal)
	if !principal.CanRead(projectID, proj.cfg.Readers) {
		return failure(translate.NewFailure(http.StatusForbidden, translate.CodeForbidden, "this token may not read project "+projectID))
	}
	target, ok := proj.target(functionID)
	if !ok {
		return failure(translate.NewFailure(http.StatusNotFound, translate.CodeFunctionNotFound, "function "+functionID+" is not configured in project "+projectID))
	}
	q, err := translate.ParseQuery(c.QueryParams(), s.now().Truncate(s.cfg.Cache.WindowAlign))
	var verr *translate.ValidationError
	if errors.As(err, &verr) {
		return failure(translate.BadRequest(verr))
	} else if err != nil {
		return err
	}

	ctx := c.Request().Context()
	if principal.Background {
		ctx = WithPriority(ctx, Background)
	}
	// A default window moves with the clock, and so does its cache key; the
	// last good answer for it is also kept under a key without the window,
	// so that stale-if-error still finds it after the window moved on.
	params := c.QueryParams()
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
	// Stats and page are fetched one after the other: both are usually
	// cache hits, and on a miss each flight queues for the budget anyway.
	stats := part{body: []byte("null"), state: cacheHit}
	if !q.SkipStats {
		statsKey, lastStatsKey := keys("stats", pair(q.StatsRequests(target, s.loc))...)
		stats, err = s.part(ctx, "stats", statsKey, lastStatsKey, s.cfg.Cache.StatsTTL,
			func(ctx context.Context) ([]byte, error) {
				st, err := proj.source.Stats(ctx, target, q)
				if err != nil {
					return nil, err
				}
				return json.Marshal(st)
			})
		if err != nil {
			return err
		}
	}
	page := part{body: []byte("[]"), state: cacheHit}
	if q.Limit > 0 {
		pageKey, lastPageKey := keys("page", q.Upstream(target, s.loc))
		page, err = s.part(ctx, "page", pageKey, lastPageKey, s.cfg.Cache.PageTTL,
			func(ctx context.Context) ([]byte, error) {
				p, err := proj.source.Page(ctx, target, q)
				if err != nil {
					return nil, err
				}
				if p.Executions == nil {
					p.Executions = []translate.Execution{}
				}
				return json.Marshal(p.Executions)
			})
		if err != nil {
			return err
		}
	}

	h := c.Response().Header()
	h[echo.HeaderContentType] = jsonContentType
	h["X-Cache"] = []string{worst(page.state, stats.state)}
	h["Age"] = []string{strconv.Itoa(int(max(page.age, stats.age).Seconds()))}
	h[echo.HeaderContentLength] = []string{strconv.Itoa(len(envelopeHead) + len(page.body) + len(envelopeMid) + len(stats.body) + len(envelopeTail))}
	c.Response().WriteHeader(http.StatusOK)
	// The parts go out as they are cached, without joining them in a copy.
	for _, b := range [][]byte{envelopeHeadBytes, page.body, envelopeMidBytes, stats.body, envelopeTailBytes} {
		if _, err := c.Response().Write(b); err != nil {
			return err
		}
	}
	return nil
}

var (
	jsonContentType   = []string{echo.MIMEApplicationJSON}
	envelopeHeadBytes = []byte(envelopeHead)
	envelopeMidBytes  = []byte(envelopeMid)
	envelopeTailBytes = []byte(envelopeTail)
)

// The success envelope around the two cached parts. Its shape is pinned
// to translate.LogsResponse by a test.
const (
	envelopeHead = `{"success":true,"data":{"executions":`
	envelopeMid  = `,"stats":`
	envelopeTail = `}}`
)

func (p *project) target(functionID string) (translate.Target, bool) {
	if f, ok := p.cfg.Functions[functionID]; ok {
		return translate.Target{FunctionName: f.Name, Namespace: p.cfg.Namespace, Qualifier: f.Qualifier}, true
	}
	if p.cfg.FunctionIDAsName {
		return translate.Target{FunctionName: functionID, Namespace: p.cfg.Namespace}, true
	}
	return translate.Target{}, false
}

// keyOf encodes upstream parameters as a cache key: equal keys ask the
// upstream exactly the same thing. It runs on every hit, so it builds a
// string rather than doing JSON work.
func keyOf(reqs ...translate.GetFunctionLogsRequest) string {
	var b strings.Builder
	b.Grow(160 * len(reqs))
	num := func(n *int64) {
		if n != nil {
			b.WriteString(strconv.FormatInt(*n, 10))
		}
		b.WriteByte(0)
	}
	for _, r := range reqs {
		for _, f := range []string{r.FunctionName, r.Namespace, r.Qualifier, r.Order, r.OrderBy, r.FunctionRequestId, r.StartTime, r.EndTime} {
			b.WriteString(f)
			b.WriteByte(0)
		}
		num(r.Offset)
		num(r.Limit)
		if r.Filter != nil {
			b.WriteString(r.Filter.RetCode)
		}
		b.WriteByte(1)
	}
	return b.String()
}

func pair(a, b translate.GetFunctionLogsRequest) []translate.GetFunctionLogsRequest {
	return []translate.GetFunctionLogsRequest{a, b}
}

// part is an encoded piece of the response and how it was obtained.
type part struct {
	body  []byte
	state string
	age   time.Duration
}

// part answers from the cache when fresh; otherwise it joins or starts the
// single upstream flight for key, and falls back to the last good answer
// (under lastKey) when that fails. The flight runs on its own context and
// timeout so that a client hanging up does not fail the others waiting on
// it.
func (s *Server) part(ctx context.Context, kind, key, lastKey string, ttl time.Duration, fetch func(context.Context) ([]byte, error)) (part, error) {
	if entry, found := s.cache.Get(key); found {
		if age := time.Since(entry.fetched); age < ttl {
			s.metrics.cacheResults.WithLabelValues(kind, "hit").Inc()
			return part{body: entry.body, state: cacheHit, age: age}, nil
		}
	}
	ch := s.flights.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.flightTimeout())
		defer cancel()
		body, err := fetch(fctx)
		if err != nil {
			return nil, err
		}
		e := &cached{body: body, fetched: time.Now()}
		if lastKey == key {
			s.cache.Set(key, e)
		} else {
			// A moving window's key is never asked for again once the
			// window has moved on, and stale answers come from lastKey:
			// kept longer, such keys would pile up for staleMaxAge.
			s.cache.SetFor(key, e, ttl)
			s.cache.Set(lastKey, e)
		}
		return e, nil
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return part{}, ctx.Err()
	}
	if res.Shared {
		s.metrics.collapsed.WithLabelValues(kind).Inc()
	}
	if res.Err == nil {
		s.metrics.cacheResults.WithLabelValues(kind, "miss").Inc()
		return part{body: res.Val.(*cached).body, state: cacheMiss}, nil
	}
	if entry, found := s.cache.Get(lastKey); found && !s.cfg.Cache.DisableStale {
		if age := time.Since(entry.fetched); age <= s.cfg.Cache.StaleMaxAge {
			s.metrics.cacheResults.WithLabelValues(kind, "stale").Inc()
			s.logger.LogAttrs(ctx, slog.LevelWarn, "serving a stale answer while the upstream fails",
				slog.String("kind", kind), slog.Duration("age", age), slog.String("err", res.Err.Error()))
			return part{body: entry.body, state: cacheStale, age: age}, nil
		}
	}
	s.metrics.cacheResults.WithLabelValues(kind, "miss").Inc()
	return part{}, res.Err
}

// flightTimeout covers a budget wait plus the two sequential calls that
// stats cost.
func (s *Server) flightTimeout() time.Duration {
	return s.cfg.Budget.MaxWait + 2*s.cfg.Upstream.Timeout
}

func worst(states ...string) string {
	out := cacheHit
	for _, st := range states {
		switch {
		case st == cacheStale:
			return cacheStale
		case st == cacheMiss:
			out = cacheMiss
		}
	}
	return out
}
