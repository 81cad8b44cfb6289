package proxy

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/singleflight"

	"github.com/mudscf/mudscf/internal/acceptencoding"
	"github.com/mudscf/mudscf/internal/gzipjoin"
	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// X-Cache values: how the answer was made.
const (
	cacheHit   = "HIT"
	cacheMiss  = "MISS"
	cacheStale = "STALE"
)

// result is how one part of an answer was made, in the order in which a
// part's result becomes the whole answer's: the worst wins.
type result uint8

const (
	resultHit        result = iota
	resultMiss              // fetched for this request, or joined its flight
	resultRevalidate        // past its TTL, answered while a refresh is queued
	resultStale             // the last good answer while the upstream fails
	numResults
)

// resultNames are the metric label values.
var resultNames = [numResults]string{"hit", "miss", "revalidate", "stale"}

// authenticated turns the bearer token into a Principal for next, or
// answers 401. The principal is passed as an argument rather than through
// the context's store, which would allocate a map on every request; so is
// the clock reading that the token's expiry, the default window and the
// cache's freshness are all judged by (on this VM a reading costs ~90 ns).
func (s *Server) authenticated(next func(echo.Context, jwtauth.Principal, time.Time) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		now := time.Now()
		var p jwtauth.Principal
		var err error
		if values := c.Request().Header[echo.HeaderAuthorization]; len(values) > 1 {
			// Which one would count is ambiguous: refuse both.
			err = &jwtauth.AuthError{Reason: "send exactly one Authorization header"}
		} else {
			p, err = s.auth.AuthenticateAt(c.Request().Header.Get(echo.HeaderAuthorization), now)
		}
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="mudscf"`)
			return failure(translate.NewFailure(http.StatusUnauthorized, translate.CodeUnauthorized, err.Error()))
		}
		return next(c, p, now)
	}
}

// handleLogs serves Mudbase's getLogs: the page and the stats each come
// from the cache or one collapsed upstream flight, and are joined as
// already-encoded bytes.
func (s *Server) handleLogs(c echo.Context, principal jwtauth.Principal, now time.Time) error {
	projectID, functionID := c.Param("projectId"), c.Param("functionId")
	for _, id := range [][2]string{{"projectId", projectID}, {"functionId", functionID}} {
		if verr := translate.ValidateID(id[0], id[1]); verr != nil {
			return failure(translate.BadRequest(verr))
		}
	}
	proj, err := s.readable(projectID, principal)
	if err != nil {
		return err
	}
	target, ok := proj.target(functionID)
	if !ok {
		return failure(translate.NewFailure(http.StatusNotFound, translate.CodeFunctionNotFound, "function "+functionID+" is not configured in project "+projectID))
	}
	if s.now != nil {
		now = s.now()
	}
	pl, err := s.planFor(c, projectID, functionID, proj, target, now)
	if err != nil {
		return err
	}
	// A request that arrives while the proxy drains makes no new upstream
	// call (see fetchPart); one already in flight finishes its work, and
	// one waiting for a budget slot is refused (Serve drains the budgets).
	mayCall := !s.draining.Load()
	// The project's fair share of each budget (the exporter's background
	// requests name their project too).
	ctx := budget.WithProject(c.Request().Context(), projectID)
	if principal.Background {
		ctx = budget.WithPriority(ctx, budget.Background)
	}
	// Stats and page are fetched one after the other: both are usually
	// cache hits, and on a miss each flight queues for the budget anyway.
	stats := noStats
	if !pl.q.SkipStats {
		if stats, err = s.answer(ctx, mayCall, "stats", pl.statsKey, s.cfg.Cache.StatsTTL, now, proj, target, pl); err != nil {
			return err
		}
	}
	page := noPage
	if pl.q.Limit > 0 {
		if page, err = s.answer(ctx, mayCall, "page", pl.pageKey, s.cfg.Cache.PageTTL, now, proj, target, pl); err != nil {
			return err
		}
	}

	h := c.Response().Header()
	h[echo.HeaderContentType] = jsonContentType
	res, age := max(page.result, stats.result), max(page.age, stats.age)
	s.metrics.answered(res, age)
	h["X-Cache"] = xCacheValues[res]
	h["Age"] = ageValue(age)
	h[echo.HeaderVary] = varyValue
	size := len(envelopeHead) + len(page.body) + len(envelopeMid) + len(stats.body) + len(envelopeTail)
	gzipped := size >= minGzipSize && page.gz != nil && stats.gz != nil && acceptencoding.Gzip(c.Request().Header[echo.HeaderAcceptEncoding])
	if gzipped {
		size = gzipjoin.Size(page.gz, stats.gz)
		h[echo.HeaderContentEncoding] = gzipValue
	}
	h[echo.HeaderContentLength] = []string{strconv.Itoa(size)}
	s.setWriteDeadline(c)
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	if gzipped {
		return gzipjoin.Write(c.Response(), page.gz, stats.gz)
	}
	return writeBody(c.Response(), size, page.body, stats.body)
}

// readable is the project projectID, if the principal may read it: a 400
// for a malformed ID, a 404 for a project this proxy does not serve, a
// 403 for one the token may not read.
func (s *Server) readable(projectID string, principal jwtauth.Principal) (*project, error) {
	if verr := translate.ValidateID("projectId", projectID); verr != nil {
		return nil, failure(translate.BadRequest(verr))
	}
	proj, ok := s.projects[projectID]
	if !ok {
		return nil, failure(translate.NewFailure(http.StatusNotFound, translate.CodeNotFound, "project "+projectID+" is not served by this proxy"))
	}
	if !principal.CanRead(projectID, proj.cfg.Readers) {
		return nil, failure(translate.NewFailure(http.StatusForbidden, translate.CodeForbidden, "this token may not read project "+projectID))
	}
	return proj, nil
}

// minGzipSize is the smallest body answered compressed: below it the
// gzip header and trailer and the client's inflating cost more than the
// bytes saved.
const minGzipSize = 1024

// setWriteDeadline drops a client that stops reading WriteTimeout after
// its response starts. Set per response, not as the server's WriteTimeout,
// so that it bounds the writing and not the upstream wait before it. (A
// test recorder cannot take a deadline; a real connection can.)
func (s *Server) setWriteDeadline(c echo.Context) {
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
}

// writeBody writes the envelope around the two cached parts. A body of at
// most maxPooledResponse is joined into one pooled buffer and written at
// once: written one by one, the small parts after the page stay in
// net/http's buffer and leave in a write system call of their own, and
// over loopback that extra call costs more than copying the body
// (BENCHMARKS.md). A larger body is written part by part, without a copy:
// the cached parts are immutable and shared by every response, net/http
// passes a write larger than its 4 KiB buffer straight to the connection,
// and the extra system calls are nothing next to megabytes. So a client
// that never reads pins a goroutine and a few KiB, not its own copy of the
// page. (net.Buffers would make that one writev, but a handler never holds
// the connection, only the ResponseWriter.)
func writeBody(w io.Writer, size int, page, stats []byte) error {
	if size > maxPooledResponse {
		for _, b := range [...][]byte{envelopeHeadBytes, page, envelopeMidBytes, stats, envelopeTailBytes} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	}
	buf := responseBuffers.Get().(*[]byte)
	body := append(append(append(append(append((*buf)[:0], envelopeHead...), page...), envelopeMid...), stats...), envelopeTail...)
	_, err := w.Write(body)
	*buf = body
	responseBuffers.Put(buf)
	return err
}

// responseBuffers hold joined response bodies between requests; only
// bodies of at most maxPooledResponse are joined, so one huge page does not
// stay pinned in the pool.
var responseBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledResponse = 1 << 20

// Header values of the hit path, built once: they are never modified
// after they are set, so responses can share them.
var (
	jsonContentType = []string{echo.MIMEApplicationJSON}
	// Every answer of the route varies by Accept-Encoding, identity ones
	// too, so that a shared cache in front keeps the two apart.
	varyValue    = []string{echo.HeaderAcceptEncoding}
	gzipValue    = []string{"gzip"}
	xCacheValues = [numResults][]string{resultHit: {cacheHit}, resultMiss: {cacheMiss}, resultRevalidate: {cacheStale}, resultStale: {cacheStale}}
	ageValues    = func() (v [60][]string) {
		for i := range v {
			v[i] = []string{strconv.Itoa(i)}
		}
		return v
	}()
)

// ageValue is the Age header in whole seconds; fresh answers are younger
// than a minute and share a prebuilt value.
func ageValue(age time.Duration) []string {
	secs := max(int(age.Seconds()), 0)
	if secs < len(ageValues) {
		return ageValues[secs]
	}
	return []string{strconv.Itoa(secs)}
}

// The parts of a request that asks for no page (limit=0) or no stats,
// with their compressed forms made once.
var (
	noStats = part{body: []byte("null"), result: resultHit, gz: compressPart("stats", []byte("null"))}
	noPage  = part{body: []byte("[]"), result: resultHit, gz: compressPart("page", []byte("[]"))}
)

// The success envelope around the two cached parts. Its shape is pinned
// to translate.LogsResponse by a test.
const (
	envelopeHead = `{"success":true,"data":{"executions":`
	envelopeMid  = `,"stats":`
	envelopeTail = `}}`
)

var (
	envelopeHeadBytes = []byte(envelopeHead)
	envelopeMidBytes  = []byte(envelopeMid)
	envelopeTailBytes = []byte(envelopeTail)
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

// part is an encoded piece of the response and how it was obtained.
type part struct {
	body   []byte
	gz     *gzipjoin.Piece // nil: identity only
	result result
	age    time.Duration
}

// answer is the part under key: a hit while younger than ttl; within
// cache.staleWhileRevalidate after that, the entry at once, marked stale,
// with a background refresh queued; else a fetch. The fetcher is made
// only when needed: it escapes into a flight or the refresh queue, so
// making it would cost allocations on every hit.
func (s *Server) answer(ctx context.Context, mayCall bool, kind, key string, ttl time.Duration, now time.Time, proj *project, target translate.Target, pl *plan) (part, error) {
	if entry, found := s.cache.Get(key); found {
		age := now.Sub(entry.fetched)
		if age < ttl {
			entry.reads.Add(1)
			s.metrics.cacheResult(kind, resultHit)
			return part{body: entry.body, gz: entry.gz, result: resultHit, age: age}, nil
		}
		if !s.cfg.Cache.DisableStale && age < ttl+s.cfg.Cache.StaleWhileRevalidate && age <= s.cfg.Cache.StaleMaxAge {
			entry.reads.Add(1)
			if mayCall && !s.refresh.queuedFor(key) {
				s.refresh.add(&refresh{kind: kind, key: key, ttl: ttl, entry: entry, fetch: s.fetcherFor(kind, proj, target, pl)})
			}
			// Counted apart from the stale answers of a failing upstream,
			// which an alert watches: these are the normal course.
			s.metrics.cacheResult(kind, resultRevalidate)
			return part{body: entry.body, gz: entry.gz, result: resultRevalidate, age: age}, nil
		}
	}
	return s.fetchPart(ctx, mayCall, kind, key, ttl, s.fetcherFor(kind, proj, target, pl))
}

// fetcher makes one part's encoded body, with the plan's window placed at
// the given instant, within a timeout sized to the calls it may make.
type fetcher struct {
	get     func(ctx context.Context, at time.Time) ([]byte, error)
	timeout time.Duration
}

func (s *Server) fetcherFor(kind string, proj *project, target translate.Target, pl *plan) fetcher {
	if kind == "stats" {
		return fetcher{get: statsFetch(proj, target, pl), timeout: s.flightTimeout(pl.statsCalls)}
	}
	return fetcher{get: pageFetch(proj, target, pl), timeout: s.flightTimeout(pl.pageCalls)}
}

func statsFetch(proj *project, target translate.Target, pl *plan) func(context.Context, time.Time) ([]byte, error) {
	return func(ctx context.Context, at time.Time) ([]byte, error) {
		st, err := proj.source.Stats(ctx, target, pl.at(at))
		if err != nil {
			return nil, err
		}
		return json.Marshal(st)
	}
}

func pageFetch(proj *project, target translate.Target, pl *plan) func(context.Context, time.Time) ([]byte, error) {
	return func(ctx context.Context, at time.Time) ([]byte, error) {
		p, err := proj.source.Page(ctx, target, pl.at(at))
		if err != nil {
			return nil, err
		}
		if p.Executions == nil {
			p.Executions = []translate.Execution{}
		}
		return json.Marshal(p.Executions)
	}
}

// clock is Options.Now, or time.Now.
func (s *Server) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// fetchPart, when the cache has nothing fresh, takes another replica's answer
// younger than ttl (Redis mode) or joins or starts the single upstream
// flight for key, and falls back to the last good answer when that fails.
// Unless mayCall, it joins a flight but starts none: the proxy is
// draining, and a replacement may already be spending the account's
// budget (a rolling update, or Recreate without Redis), so it answers
// stale or 503 instead.
func (s *Server) fetchPart(ctx context.Context, mayCall bool, kind, key string, ttl time.Duration, fetch fetcher) (part, error) {
	ch := s.flights.DoChan(key, s.flight(ctx, mayCall, kind, key, ttl, fetch))
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		return part{}, ctx.Err()
	}
	if res.Shared {
		s.metrics.collapsed.WithLabelValues(kind).Inc()
	}
	if hit, ok := res.Val.(sharedHit); ok {
		s.metrics.cacheResult(kind, resultHit)
		age := max(s.clock().Sub(hit.fetched), 0)
		return part{body: hit.body, gz: hit.gz, result: resultHit, age: age}, nil
	}
	if st, ok := res.Val.(sharedStale); ok {
		// Another replica is fetching the key anew: the normal course
		// within staleWhileRevalidate, a stale answer past it.
		age := max(s.clock().Sub(st.fetched), 0)
		result := resultStale
		if age < ttl+s.cfg.Cache.StaleWhileRevalidate {
			result = resultRevalidate
		}
		s.metrics.cacheResult(kind, result)
		return part{body: st.body, result: result, age: age}, nil
	}
	if res.Err == nil {
		s.metrics.cacheResult(kind, resultMiss)
		e := res.Val.(*cached)
		return part{body: e.body, gz: e.gz, result: resultMiss}, nil
	}
	if p, ok := s.lastGood(ctx, kind, key, res.Err); ok {
		return p, nil
	}
	s.metrics.cacheResult(kind, resultMiss)
	return part{}, res.Err
}

// lastGood is the last good answer under key, at most cache.staleMaxAge
// old, for a fetch that failed with err.
func (s *Server) lastGood(ctx context.Context, kind, key string, err error) (part, bool) {
	if s.cfg.Cache.DisableStale {
		return part{}, false
	}
	entry, found := s.cache.Get(key)
	if !found && s.shared != nil {
		entry, found = s.shared.get(ctx, key) // another replica's last good answer
	}
	if !found {
		return part{}, false
	}
	age := s.clock().Sub(entry.fetched)
	if age > s.cfg.Cache.StaleMaxAge {
		return part{}, false
	}
	entry.reads.Add(1)
	s.metrics.cacheResult(kind, resultStale)
	s.logger.LogAttrs(ctx, slog.LevelWarn, "serving a stale answer while the upstream fails",
		slog.String("kind", kind), slog.Duration("age", age), slog.String("err", err.Error()))
	return part{body: entry.body, gz: entry.gz, result: resultStale, age: age}, true
}

// flight is the single upstream flight for key. It runs on its own context
// and timeout so that a client hanging up does not fail the others
// waiting on it. The entry's fetch time is when the flight started, which
// is where a window ending now ends: its Age is never younger than its
// data.
func (s *Server) flight(ctx context.Context, mayCall bool, kind, key string, ttl time.Duration, fetch fetcher) func() (any, error) {
	return func() (any, error) {
		if !mayCall {
			return nil, errDraining
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetch.timeout)
		defer cancel()
		if s.shared != nil {
			// Another replica's answer, or its flight, before our own.
			got := s.shared.claim(fctx, kind, key, ttl, s.sharedStaleFor(ctx))
			switch {
			case got.fresh != nil:
				s.compress(kind, got.fresh)
				s.cache.Set(key, got.fresh)
				return sharedHit{got.fresh}, nil
			case got.stale != nil:
				return sharedStale{got.stale}, nil
			case got.busy:
				// As a budget that has no slot within maxWait; by a lease
				// from now the answer is in Redis or the lock has lapsed.
				return nil, &budget.RefusedError{RetryAfter: flightLease}
			}
			defer got.lock.release(fctx)
		}
		start := s.clock()
		body, err := fetch.get(fctx, start)
		if err != nil {
			return nil, err
		}
		e := &cached{body: body, fetched: start}
		s.compress(kind, e)
		s.cache.Set(key, e)
		if s.shared != nil {
			s.shared.put(fctx, e, key)
		}
		return e, nil
	}
}

// compress gives e, before anyone else sees it, its gzip form: the one
// compression an entry costs, however many answers it gives.
func (s *Server) compress(kind string, e *cached) {
	e.gz = compressPart(kind, e.body)
	s.metrics.compressions.WithLabelValues(kind).Inc()
}

// sharedHit is a flight answered from another replica's fetch.
type sharedHit struct{ *cached }

// sharedStale is a flight answered from another replica's last answer
// while that replica fetches the key anew. It is not kept locally (nor
// compressed): the new answer will be there soon.
type sharedStale struct{ *cached }

// sharedStaleFor is how old another replica's last answer may be and still
// be given while that replica fetches the key anew: staleMaxAge, as for
// every stale answer, for a client's request; none for a background
// refresh, which waits for the new answer instead.
func (s *Server) sharedStaleFor(ctx context.Context) time.Duration {
	if s.cfg.Cache.DisableStale || budget.PriorityOf(ctx) == budget.Background {
		return 0
	}
	return s.cfg.Cache.StaleMaxAge
}

// flightTimeout is the deadline of a flight of calls sequential upstream
// calls: each may wait for its budget slots and then take its timeout. A
// flight sized so cannot run out before its last call could have, so its
// expiry is never an upstream's slowness (and the breaker does not count
// it: see upstream's breaker).
func (s *Server) flightTimeout(calls int) time.Duration {
	return time.Duration(max(calls, 1)) * (s.cfg.Budget.MaxWait + s.cfg.Upstream.Timeout)
}
