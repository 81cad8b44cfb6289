package exporter

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/translate"
)

// Exporter polls the logs endpoint and publishes what it finds.
type Exporter struct {
	cfg     Config
	client  *client
	metrics *metrics
	// state makes the per-function and per-stream families at each
	// scrape.
	state    *stateCollector
	spans    *tracers
	logger   *slog.Logger
	now      func() time.Time
	throttle throttle

	// mu guards the state below, which the round's workers, saves and
	// scrapes share.
	mu       sync.Mutex
	projects map[string]*projectState
	order    []string // project IDs in the order of the configuration
	streams  map[string]*stream
	fns      map[string]*fnState
	// pending are checkpointed streams not scanned (yet): their project's
	// mode is not known yet, or no longer has them. They are kept, and
	// saved, as they were.
	pending map[string]*streamRecord
	ckpt    *checkpointFiles // nil: no checkpoint file
	// savedRound is when the round of the last save started (monotonic):
	// saves are at most one per interval.
	savedRound time.Time
	// loggedCapacity are the accounts whose capacity was logged;
	// callsPerFunction the calls a function's turn took in the last round,
	// per account.
	loggedCapacity   map[string]bool
	callsPerFunction map[string]float64

	ready atomic.Bool
	// saveErr is the last checkpoint write's failure, nil once one works:
	// an exporter that cannot save is not ready (a restart would count
	// everything since the last save again).
	saveErr atomic.Pointer[error]
	// idleTimeout closes keep-alive connections a scraper left idle; a
	// field so tests can shorten it.
	idleTimeout time.Duration
	webConfig   string
}

// projectState is how the exporter reads one project.
type projectState struct {
	id string
	// whole: every function of it is exported (Config.Projects), not
	// only the listed ones.
	whole  bool
	region string
	listed []FunctionConfig
	mode   projectMode
	// topicShare is how many queries the proxy runs at once on one topic
	// for the project route (1 when it does not say).
	topicShare int
	// account and callsPerSecond are the upstream account of a project
	// read one function at a time, and its budget.
	account        string
	callsPerSecond int
	// warned: its discovery's failure was logged (once until it works).
	warned bool
}

type projectMode int

const (
	// modeUnknown: not asked yet, or the endpoint has not answered.
	modeUnknown projectMode = iota
	// modeTopic: read whole, topic by topic, through the proxy's project
	// route (a cls project).
	modeTopic
	// modeFunction: read one listed function at a time (a getFunctionLogs
	// project, or an endpoint without the project route).
	modeFunction
)

// defaultCallsPerSecond is GetFunctionLogs's budget per account, assumed
// for an endpoint that does not say.
const defaultCallsPerSecond = 5

// Options are the exporter's dependencies that do not come from the file.
type Options struct {
	Logger *slog.Logger
	// SpanProcessor receives every execution span (typically a batcher
	// over an OTLP exporter); nil exports no spans. The exporter makes one
	// TracerProvider per function on it, and does not shut it down.
	SpanProcessor sdktrace.SpanProcessor
	// Resource is what every function's resource starts from (typically
	// the environment's, OTEL_RESOURCE_ATTRIBUTES); the function's own
	// attributes win.
	Resource *resource.Resource
	// Transport defaults to a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// Now is the clock (default time.Now). The upstream's clock is not
	// this one; a step back of this one must not stall the exporter.
	Now func() time.Time
	// WebConfigFile is exporter-toolkit's web configuration of the metrics
	// listener (TLS, basic auth; --web.config.file); empty serves plain
	// HTTP without authentication.
	WebConfigFile string
}

// New builds an exporter from a validated Config and restores its
// checkpoint. It fails, rather than run and report ready, when its
// credentials cannot be read or its checkpoint cannot be written.
func New(cfg Config, opts Options) (*Exporter, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Resource == nil {
		opts.Resource = resource.Empty()
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	state := emptyState()
	var files *checkpointFiles
	if cfg.Checkpoint != "" {
		var err error
		if files, state, err = openCheckpoint(cfg.Checkpoint); err != nil {
			return nil, err
		}
	}
	e := &Exporter{
		cfg: cfg, metrics: newMetrics(), logger: opts.Logger, now: opts.Now, idleTimeout: 2 * time.Minute,
		spans:    &tracers{processor: opts.SpanProcessor, base: opts.Resource, byFn: map[string]trace.Tracer{}},
		projects: map[string]*projectState{}, streams: map[string]*stream{}, fns: map[string]*fnState{},
		pending: map[string]*streamRecord{}, ckpt: files, webConfig: opts.WebConfigFile, loggedCapacity: map[string]bool{},
		callsPerFunction: map[string]float64{},
	}
	for _, p := range cfg.Projects {
		e.project(p.Project).whole, e.project(p.Project).region = true, p.Region
	}
	for _, f := range cfg.Functions {
		p := e.project(f.Project)
		p.listed = append(p.listed, f)
	}
	tokens := &tokenSource{cfg: cfg.Auth, projects: e.order, now: opts.Now}
	if _, err := tokens.token(); err != nil {
		return nil, err
	}
	e.client = &client{base: strings.TrimRight(cfg.Endpoint, "/"), http: &http.Client{Transport: opts.Transport, Timeout: cfg.Timeout}, tokens: tokens}
	e.restore(state)
	e.state = newStateCollector(e)
	for _, d := range cfg.Deprecations() {
		e.logger.Warn(d)
	}
	if files != nil {
		if err := e.saveSnapshot(); err != nil {
			return nil, fmt.Errorf("the checkpoint %s cannot be written: %w", cfg.Checkpoint, err)
		}
	}
	return e, nil
}

func (e *Exporter) project(id string) *projectState {
	p, ok := e.projects[id]
	if !ok {
		p = &projectState{id: id}
		e.projects[id] = p
		e.order = append(e.order, id)
	}
	return p
}

// restore continues the counters of every exported function from the
// checkpoint, so that a restart shows no drop and no double count, and
// keeps its streams until they are scanned. What belongs to no configured
// function or project any more is dropped.
func (e *Exporter) restore(state *stateRecord) {
	for _, p := range e.projects {
		for _, f := range p.listed {
			e.addFunction(f, state.Functions[f.key()])
		}
	}
	for key, rec := range state.Functions {
		project, function, _ := strings.Cut(key, "/")
		if p := e.projects[project]; p != nil && p.whole && e.fns[key] == nil {
			e.addFunction(FunctionConfig{Project: project, Function: function, Region: p.region}, rec)
		}
	}
	for key, rec := range state.Streams {
		project, _ := streamProject(key)
		if e.projects[project] == nil {
			continue
		}
		if rec.Cursor != 0 {
			// A stream whose cursor only moved on since it was written has
			// reached at least the floor.
			rec.Cursor = max(rec.Cursor, state.Floor)
		}
		e.pending[key] = rec
	}
}

// streamProject is the project of a stream key.
func streamProject(key string) (project string, ok bool) {
	_, rest, ok := strings.Cut(key, ":")
	project, _, _ = strings.Cut(rest, "/")
	return project, ok
}

// addFunction starts exporting f, its counters continued from rec.
func (e *Exporter) addFunction(f FunctionConfig, rec *functionRecord) *fnState {
	st := &fnState{cfg: f}
	e.fns[f.key()] = st
	if e.spans.processor != nil {
		st.exemplars = make([]exemplar, len(durationBuckets)+1)
	}
	if rec == nil {
		return st
	}
	for o, n := range rec.Counts {
		st.counts[outcomeIndex(o)] = n // validated
	}
	st.billed, st.retries, st.lastRun = rec.BilledSeconds, rec.Retries, fromUnixMs(rec.LastRun)
	for h, v := range rec.Hours {
		hour, _ := strconv.ParseInt(h, 10, 64) // validated
		st.hours.set(hourBucket{hour: hour, executions: v[0], successes: v[1], durationMs: v[2]})
	}
	return st
}

// Run polls round after round until ctx ends. Every stream gets a turn of
// at most MaxPagesPerTurn requests each round; after a round in which one
// had more to read, the next starts at once, else at the interval. The
// checkpoint is written after a round at most once per interval, and when
// ctx ends.
func (e *Exporter) Run(ctx context.Context) error {
	for {
		// Timers run on the monotonic clock, which no step of the wall
		// clock moves.
		start := time.Now()
		backlog := e.Round(ctx)
		e.ready.Store(true)
		if ctx.Err() == nil && (e.savedRound.IsZero() || start.Sub(e.savedRound) >= e.cfg.Interval) {
			e.savedRound = start
			_ = e.save() // save logs and counts its failures; readiness reports them
		}
		wait := e.cfg.Interval - time.Since(start)
		if backlog {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return e.save()
		case <-time.After(max(wait, e.throttle.wait(), 0)):
		}
	}
}

// Round finds out how each project is read, then gives every stream one
// turn, Concurrency of them at once, the one with the oldest cursor
// first; it says whether any has more to read.
func (e *Exporter) Round(ctx context.Context) (backlog bool) {
	e.discover(ctx)
	e.measureCapacity(false)
	e.mu.Lock()
	var turns []*stream
	for _, id := range e.order {
		p := e.projects[id]
		for _, s := range e.streams {
			if s.project == id && (p.mode == modeTopic) == (s.function == "") && p.mode != modeUnknown {
				turns = append(turns, s)
			}
		}
	}
	e.mu.Unlock()
	// The stalest first: when a round takes longer than the interval, the
	// stream that waited longest is served first in the next, so none
	// waits two rounds.
	slices.SortFunc(turns, func(a, b *stream) int {
		return cmp.Or(cmp.Compare(a.cursorNanos.Load(), b.cursorNanos.Load()), strings.Compare(a.key, b.key))
	})
	var more atomic.Bool
	work := make(chan *stream)
	var wg sync.WaitGroup
	for range min(e.cfg.Concurrency, len(turns)) {
		wg.Go(func() {
			for s := range work {
				if e.turnOf(ctx, s) {
					more.Store(true)
				}
			}
		})
	}
	for _, s := range turns {
		if ctx.Err() != nil {
			break
		}
		work <- s
	}
	close(work)
	wg.Wait()
	e.measureCapacity(true)
	return more.Load()
}

// turnOf runs s's turn and records how it went.
func (e *Exporter) turnOf(ctx context.Context, s *stream) (more bool) {
	more, err := e.turn(ctx, s)
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		e.logger.Info("throttled by the endpoint", "stream", s.key, "retry_after_seconds", throttled.RetryAfter.Seconds())
	case err != nil && ctx.Err() == nil:
		s.up.Store(false)
		s.polled.Store(true)
		e.logger.Warn("poll failed", "stream", s.key, "err", err)
	case err == nil:
		s.up.Store(true)
		s.polled.Store(true)
		s.lastSuccess.Store(e.now().UnixMilli())
	}
	return more
}

// discover asks the project route how each project is read: a 200 lists
// a cls project's topics (asked every round, at no upstream cost, so
// that a topic the proxy found since is read); the proxy's refusal
// names a per-function project's account and budget; an endpoint
// without the route (any other 4xx) is read one function at a time.
func (e *Exporter) discover(ctx context.Context) {
	for _, id := range e.order {
		e.mu.Lock()
		p := e.projects[id]
		mode := p.mode
		e.mu.Unlock()
		if mode == modeFunction || ctx.Err() != nil {
			continue
		}
		if err := e.throttle.sleep(ctx); err != nil {
			return
		}
		sent := time.Now()
		pg, err := e.client.projectPage(ctx, id, "", query{})
		e.throttle.note(err, sent)
		var refused *RefusedError
		var throttled *ThrottledError
		switch {
		case err == nil:
			e.readTopics(p, pg.Topics, pg.TopicShare)
		case errors.As(err, &throttled), ctx.Err() != nil:
		case errors.As(err, &refused) && refused.Code == codePerFunctionSource:
			e.readFunctions(p, refused.Account, refused.CallsPerSecond)
		case errors.As(err, &refused) && refused.Status != http.StatusUnauthorized && refused.Status != http.StatusForbidden:
			e.logger.Info("the endpoint has no project route; reading the project one function at a time", "project", id, "status", refused.Status)
			e.readFunctions(p, "", 0)
		default:
			e.mu.Lock()
			warn := !p.warned && mode == modeUnknown
			p.warned = true
			e.mu.Unlock()
			if warn {
				e.logger.Warn("cannot tell how to read the project yet; asking again next round", "project", id, "err", err)
			}
		}
	}
}

// readTopics reads p whole, a stream per topic of topics; the streams of
// topics no longer listed are set aside (and still saved).
func (e *Exporter) readTopics(p *projectState, topics []string, share int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p.topicShare = max(share, 1)
	if p.mode != modeTopic {
		e.logger.Info("reading the project whole, topic by topic", "project", p.id, "topics", len(topics))
		p.mode, p.warned = modeTopic, false
		if len(topics) == 0 {
			e.logger.Warn("the proxy knows no topic of the project", "project", p.id)
		}
	}
	want := map[string]bool{}
	for _, t := range topics {
		key := topicStreamKey(p.id, t)
		want[key] = true
		if e.streams[key] == nil {
			e.streamFor(key, p.id).topic = t
		}
	}
	for key, s := range e.streams {
		if s.project == p.id && s.function == "" && !want[key] {
			e.pending[key] = s.record(true)
			delete(e.streams, key)
		}
	}
}

// readFunctions reads p one listed function at a time, through account
// at callsPerSecond (unknown: the project's own, at GetFunctionLogs's).
func (e *Exporter) readFunctions(p *projectState, account string, callsPerSecond int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p.mode, p.warned = modeFunction, false
	p.account, p.callsPerSecond = cmp.Or(account, p.id), cmp.Or(callsPerSecond, defaultCallsPerSecond)
	if p.whole && len(p.listed) == 0 {
		e.logger.Error("the project is read one function at a time, and none of its functions is listed: list them under functions", "project", p.id)
	}
	for _, f := range p.listed {
		s := e.streamFor(functionStreamKey(p.id, f.Function), p.id)
		s.function = f.Function
		e.fns[f.key()].stream = s
	}
}

// streamFor is the stream key, made from its checkpoint, or else from the
// project's streams of the other kind (the proxy's source changed), or
// else new.
func (e *Exporter) streamFor(key, project string) *stream {
	s := newStream(key, project)
	if rec, ok := e.pending[key]; ok {
		delete(e.pending, key)
		s.setCursor(fromUnixMs(rec.Cursor))
		s.newest = fromUnixMs(rec.Newest)
		s.seen = rec.Seen
		s.cursorChanged = false
	} else {
		e.inherit(s)
	}
	e.streams[key] = s
	return s
}

// inherit starts a new stream where the project's streams of the other
// kind are: a project the proxy now reads from CLS continues from its
// functions' cursors, and the other way round. A topic stream starts from
// the newest of its functions' cursors when they lie within the overlap
// of each other (their seen IDs cover the rest), else from the oldest
// (nothing is missed; what a function read past it may count twice, which
// is logged).
func (e *Exporter) inherit(s *stream) {
	topicKind := strings.HasPrefix(s.key, "topic:")
	var lo, hi time.Time
	from := 0
	for key, rec := range e.pending {
		if project, _ := streamProject(key); project != s.project || strings.HasPrefix(key, "topic:") == topicKind || rec.Cursor == 0 {
			continue
		}
		from++
		c := fromUnixMs(rec.Cursor)
		if lo.IsZero() || c.Before(lo) {
			lo = c
		}
		if c.After(hi) {
			hi = c
		}
		if n := fromUnixMs(rec.Newest); n.After(s.newest) {
			s.newest = n
		}
		prefix := strings.TrimPrefix(key, "fn:"+s.project+"/") + "/"
		for id, at := range rec.Seen {
			switch {
			case topicKind:
				s.seen[prefix+id] = at
			case strings.HasPrefix(id, s.key[len("fn:"+s.project+"/"):]+"/"):
				s.seen[id[strings.IndexByte(id, '/')+1:]] = at
			}
		}
	}
	if from == 0 {
		return
	}
	start := lo
	if topicKind && hi.Sub(lo) <= e.cfg.Overlap {
		start = hi
	} else if topicKind {
		e.logger.Warn("the project's functions were read to cursors further apart than the overlap; reading from the oldest, which may count some executions twice",
			"project", s.project, "oldest", lo, "newest", hi)
	}
	s.setCursor(start)
	e.logger.Info("continuing from the project's other streams", "stream", s.key, "cursor", start, "from", from)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// turn reads up to MaxPagesPerTurn pages of each slice of the stream's
// current scan, its slices at once.
func (e *Exporter) turn(ctx context.Context, s *stream) (more bool, err error) {
	now := e.now()
	e.mu.Lock()
	if s.scan == nil {
		if s.cursor.After(now) {
			e.rewind(s, now)
		}
		s.scan = e.newScan(s, now)
	}
	sc := s.scan
	e.mu.Unlock()
	errs := make([]error, len(sc.slices))
	var wg sync.WaitGroup
	for i, sl := range sc.slices {
		wg.Go(func() { errs[i] = e.readSlice(ctx, s, sl) })
	}
	wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	sc.slices = slices.DeleteFunc(sc.slices, func(sl *slice) bool { return sl.done })
	if err := errors.Join(errs...); err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			// The endpoint refuses this scan's query: asking again would
			// get the same answer, so the next turn builds a new one.
			s.scan = nil
		}
		return false, err
	}
	if len(sc.slices) > 0 {
		return true, nil
	}
	e.finish(s)
	// A window clamped to one day leaves more to catch up on.
	return now.Sub(s.cursor) > e.cfg.Interval, nil
}

// readSlice reads up to MaxPagesPerTurn pages of sl, newest first, and
// marks it done once it is read.
func (e *Exporter) readSlice(ctx context.Context, s *stream, sl *slice) error {
	pageSize := e.cfg.PageSize
	if s.function == "" {
		pageSize = e.cfg.ProjectPageSize
	}
	for range e.cfg.MaxPagesPerTurn {
		p, err := e.fetch(ctx, s, query{limit: pageSize, offset: sl.offset, since: sl.since, until: sl.until})
		if err != nil {
			return err
		}
		e.mu.Lock()
		oldest := sl.until
		for _, x := range p.Executions {
			if at := e.record(s, x); !at.IsZero() && at.Before(oldest) {
				oldest = at
			}
		}
		s.scan.rows += len(p.Executions)
		done := len(p.Executions) < pageSize
		next := sl.offset + len(p.Executions)
		if s.function == "" {
			// A project page may leave out lines of functions the proxy
			// does not serve: its next offset says how far it read.
			done = p.NextOffset == nil
			if !done {
				next = int(*p.NextOffset)
			}
		}
		sl.offset = next
		switch {
		case done:
			sl.done = true
			e.mu.Unlock()
			return nil
		case sl.offset+pageSize > translate.MaxOffsetPlusLimit:
			// The upstream serves at most 10,000 records of a window: go
			// on with the part older than what was read. The window's
			// times are whole seconds, so the narrower window must end a
			// second earlier to make progress.
			below := oldest.Truncate(time.Second)
			if !below.Before(sl.until) || !below.After(sl.since) {
				e.logger.Warn("more than 10,000 executions in one second; some are not exported", "stream", s.key)
				sl.done = true
				e.mu.Unlock()
				return nil
			}
			sl.until, sl.offset = below, 0
		}
		e.mu.Unlock()
	}
	return nil
}

// rewind moves a cursor that is ahead of the clock (the clock stepped back,
// or the checkpoint was written on a machine whose clock was ahead) back to
// the newest execution seen: executions are stamped by the upstream's clock,
// so what came after that one may not have been read, while the seen IDs
// (kept within the overlap of it, see finish) stop a second count of what
// was. Left alone, the scan would ask for since after until, be refused,
// and stall until this clock caught up.
func (e *Exporter) rewind(s *stream, now time.Time) {
	to := now
	if !s.newest.IsZero() && s.newest.Before(to) {
		to = s.newest
	}
	e.logger.Warn("the checkpoint cursor is ahead of the clock; rewinding it to the newest execution seen",
		"stream", s.key, "cursor", s.cursor, "now", now, "rewound_to", to)
	s.setCursor(to)
}

// newScan covers what may be new: from Overlap before the cursor to now,
// or at most a day of it when catching up. A topic stream's window is cut
// into as many slices by start time as its last scan read pages, at most
// the proxy's share of the topic's queries, which are read at once: a
// start time never changes, so each slice pages on its own, and an
// execution that appears while they are read lands in exactly one.
func (e *Exporter) newScan(s *stream, now time.Time) *scan {
	until := now.Truncate(time.Second)
	since := s.cursor.Add(-e.cfg.Overlap)
	if s.cursor.IsZero() {
		since = until.Add(-e.cfg.Backfill)
	}
	since = since.Truncate(time.Second)
	if until.Sub(since) > translate.MaxWindow {
		until = since.Add(translate.MaxWindow)
	}
	n := 1
	if share := e.projects[s.project].topicShare; s.function == "" && share > 1 {
		n = share
		if s.lastRows >= 0 {
			n = max(1, min(share, (s.lastRows+e.cfg.ProjectPageSize-1)/e.cfg.ProjectPageSize))
		}
	}
	// Slices of whole seconds, newest first; the windows are inclusive at
	// whole seconds.
	seconds := int(until.Sub(since)/time.Second) + 1
	n = min(n, seconds)
	sc := &scan{top: until}
	hi := until
	for i := range n {
		lo := since.Add(time.Duration(seconds*(n-1-i)/n) * time.Second)
		sc.slices = append(sc.slices, &slice{since: lo, until: hi})
		hi = lo.Add(-time.Second)
	}
	return sc
}

// finish moves the cursor to the end of the scan's window. The seen IDs
// are kept within the overlap of the cursor, or of the newest execution
// seen when that is older: a cursor ahead of the upstream's clock must not
// drop IDs that a rewind will read again.
func (e *Exporter) finish(s *stream) {
	s.setCursor(s.scan.top)
	s.lastRows = s.scan.rows
	s.scan = nil
	ref := s.cursor
	if !s.newest.IsZero() && s.newest.Before(ref) {
		ref = s.newest
	}
	horizon := ref.Add(-e.cfg.Overlap - time.Second).UnixMilli()
	for id, at := range s.seen {
		if at < horizon {
			delete(s.seen, id)
		}
	}
	// An ID pruned before a save reached the journal needs no record
	// (the cursor written with it is past it); keeping it would grow
	// without bound while the checkpoint is unwritable, or absent.
	s.added = slices.DeleteFunc(s.added, func(id string) bool {
		_, kept := s.seen[id]
		return !kept
	})
}

// fetch makes one request for s, waiting out a 429's Retry-After first.
func (e *Exporter) fetch(ctx context.Context, s *stream, q query) (page, error) {
	if err := e.throttle.sleep(ctx); err != nil {
		return page{}, err
	}
	start := time.Now()
	var p page
	var err error
	if s.function != "" {
		p, err = e.client.functionPage(ctx, s.project, s.function, q)
	} else {
		p, err = e.client.projectPage(ctx, s.project, s.topic, q)
	}
	took := time.Since(start).Seconds()
	e.throttle.note(err, start)
	result := 0 // ok
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		result = 1
	case err != nil:
		result = 2
	}
	e.mu.Lock()
	s.calls++
	s.polls[result]++
	s.pollDuration.observe(pollBuckets, took)
	e.mu.Unlock()
	return p, err
}

// record counts and traces an execution the first time s sees it, and
// returns its start (zero when the endpoint gave none). Executions of a
// function that is not exported (its project is not read whole, and it is
// not listed) are skipped. Called with e.mu held.
func (e *Exporter) record(s *stream, x execution) time.Time {
	var at time.Time
	if x.ExecutedAt != nil {
		at, _ = time.Parse(time.RFC3339Nano, *x.ExecutedAt)
	}
	f := e.fns[s.project+"/"+x.FunctionID]
	if f == nil {
		p := e.projects[s.project]
		if !p.whole {
			return at
		}
		f = e.addFunction(FunctionConfig{Project: s.project, Function: x.FunctionID, Region: p.region}, nil)
	}
	id := x.RequestID
	if id == "" {
		// An endpoint without request IDs: the record itself is the ID.
		b, _ := json.Marshal(x)
		sum := sha256.Sum256(b)
		id = "sha256:" + hex.EncodeToString(sum[:16])
	}
	key := s.dedupeKey(x.FunctionID, id)
	if _, dup := s.seen[key]; dup {
		return at
	}
	seenAt := at
	if seenAt.IsZero() {
		seenAt = e.now()
	}
	s.seen[key] = seenAt.UnixMilli()
	s.added = append(s.added, key)
	if clamped := clampNegatives(&x.Execution); len(clamped) > 0 {
		// Counters cannot go down: a negative number would panic the
		// exporter, and again after every restart.
		e.logger.Warn("execution with negative numbers; counted as 0", "project", s.project, "function", x.FunctionID,
			"request_id", id, "fields", clamped)
	}

	outcome := outcomeOf(x.Execution)
	f.stream, f.dirty = s, true
	f.counts[outcomeIndex(outcome)]++
	seconds := float64(x.ExecutionTime) / 1000
	bucket := f.duration.observe(durationBuckets, seconds)
	if f.exemplars != nil && !at.IsZero() {
		// The span's trace ID, derived from the request ID: a metric
		// spike leads to the executions behind it.
		traceID, _ := idsFor(id)
		f.exemplars[bucket] = exemplar{value: seconds, traceID: traceID, at: e.now()}
	}
	if x.MemoryUsageBytes > 0 {
		f.memory.observe(memoryBuckets, float64(x.MemoryUsageBytes))
	}
	// A source without the billed duration (CLS) leaves it out: such an
	// execution adds nothing to the billed time.
	if x.BilledDurationMs != nil {
		f.billed += float64(*x.BilledDurationMs) / 1000
	}
	f.retries += float64(x.RetryCount)
	if at.After(f.lastRun) {
		f.lastRun = at
	}
	if at.After(s.newest) {
		s.newest = at
	}
	if !at.IsZero() {
		f.hours.add(at, outcome == outcomeSuccess, float64(x.ExecutionTime))
		e.spans.emit(f.cfg, id, x.Execution, outcome, at)
	}
	return at
}

// clampNegatives sets the numbers that cannot be negative to 0 where they
// are, and names them.
func clampNegatives(x *translate.Execution) (clamped []string) {
	billed := new(int64) // absent: nothing to clamp
	if x.BilledDurationMs != nil {
		// A copy: the page the execution came from keeps its value.
		billed = new(*x.BilledDurationMs)
		x.BilledDurationMs = billed
	}
	for _, v := range []struct {
		name string
		n    *int64
	}{
		{"executionTime", &x.ExecutionTime}, {"memoryUsageBytes", &x.MemoryUsageBytes},
		{"billedDurationMs", billed}, {"retryCount", &x.RetryCount},
	} {
		if *v.n < 0 {
			*v.n = 0
			clamped = append(clamped, v.name)
		}
	}
	return clamped
}
