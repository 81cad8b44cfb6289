package exporter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	spans   *tracers
	logger  *slog.Logger
	now     func() time.Time
	states  map[string]*fnState
	// notBefore holds all requests back after a 429: the endpoint's budget
	// is shared by every function.
	notBefore time.Time
	throttles int
	rounds    int
	ready     atomic.Bool
	// saveErr is the last checkpoint write's failure, nil once one works:
	// an exporter that cannot save is not ready (a restart would count
	// everything since the last save again).
	saveErr atomic.Pointer[error]
	// idleTimeout closes keep-alive connections a scraper left idle; a
	// field so tests can shorten it.
	idleTimeout time.Duration
}

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
	states, err := loadCheckpoint(cfg.Checkpoint)
	if err != nil {
		return nil, err
	}
	projects := map[string]bool{}
	var projectList []string
	for _, f := range cfg.Functions {
		if !projects[f.Project] {
			projects[f.Project] = true
			projectList = append(projectList, f.Project)
		}
	}
	tokens := &tokenSource{cfg: cfg.Auth, projects: projectList, now: opts.Now}
	if _, err := tokens.token(); err != nil {
		return nil, err
	}
	e := &Exporter{
		cfg:         cfg,
		idleTimeout: 2 * time.Minute,
		client: &client{
			base:   strings.TrimRight(cfg.Endpoint, "/"),
			http:   &http.Client{Transport: opts.Transport, Timeout: cfg.Timeout},
			tokens: tokens,
		},
		metrics: newMetrics(),
		spans:   &tracers{processor: opts.SpanProcessor, base: opts.Resource, byFn: map[string]trace.Tracer{}},
		logger:  opts.Logger,
		now:     opts.Now,
		states:  map[string]*fnState{},
	}
	for _, f := range cfg.Functions {
		st, ok := states[f.key()]
		if !ok {
			st = newFnState()
		}
		e.states[f.key()] = st
		e.metrics.precreate(f)
		e.restoreCounters(f, st)
	}
	e.metrics.registry.MustRegister(newCursorAge(e.now, cfg.Functions, e.states))
	if err := e.save(); err != nil {
		return nil, fmt.Errorf("the checkpoint %s cannot be written: %w", cfg.Checkpoint, err)
	}
	return e, nil
}

// restoreCounters continues the counters from the checkpoint, so that a
// restart shows no drop and no double count.
func (e *Exporter) restoreCounters(f FunctionConfig, st *fnState) {
	for k, n := range st.Counts {
		status, trigger, outcome, _ := countKey(k) // loadCheckpoint validated the keys
		// A checkpoint from before triggers were bounded may hold any.
		e.metrics.executions.WithLabelValues(f.Project, f.Function, status, triggerLabel(trigger), outcome).Add(n)
	}
	e.metrics.billedSeconds.WithLabelValues(f.Project, f.Function).Add(st.BilledSeconds)
	if f.MemorySizeMB > 0 {
		e.metrics.costGBSeconds.WithLabelValues(f.Project, f.Function).Add(st.CostGBSeconds)
	}
	e.metrics.retries.WithLabelValues(f.Project, f.Function).Add(st.Retries)
	if !st.LastRun.IsZero() {
		e.metrics.lastRun.WithLabelValues(f.Project, f.Function).Set(float64(st.LastRun.UnixMilli()) / 1000)
	}
}

// Handler serves /metrics, /healthz and /readyz (ready after the first
// full round).
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.metrics.registry, promhttp.HandlerOpts{Registry: e.metrics.registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch saveErr := e.saveErr.Load(); {
		case !e.ready.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "first round not finished")
		case saveErr != nil:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "the checkpoint cannot be saved:", *saveErr)
		default:
			fmt.Fprintln(w, "ready")
		}
	})
	return mux
}

// Serve runs the metrics server on l and the polling loop until ctx ends.
func (e *Exporter) Serve(ctx context.Context, l net.Listener) error {
	// Prometheus scrapes every few seconds over keep-alive connections; one
	// left idle (a scraper gone, a port scanner) is closed, not kept forever.
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: e.idleTimeout, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	runErr := e.Run(ctx)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(runErr, err)
}

// Run polls round after round until ctx ends. A round gives each function
// one turn of at most MaxPagesPerTurn requests; functions with a backlog
// get their next turn at once, others wait for the interval.
func (e *Exporter) Run(ctx context.Context) error {
	for {
		start := time.Now()
		backlog := e.Round(ctx)
		e.ready.Store(true)
		// Timers run on the monotonic clock, which no step of the wall
		// clock moves.
		wait := e.cfg.Interval - time.Since(start)
		if backlog {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return e.save()
		case <-time.After(max(wait, time.Until(e.notBefore), 0)):
		}
	}
}

// Round gives every function one turn, starting with a different one each
// time, and says whether any has more to read.
func (e *Exporter) Round(ctx context.Context) (backlog bool) {
	fns := e.cfg.Functions
	first := e.rounds % len(fns)
	e.rounds++
	for i := range fns {
		if ctx.Err() != nil {
			return false
		}
		f := fns[(first+i)%len(fns)]
		more, err := e.turn(ctx, f, e.states[f.key()])
		var throttled *ThrottledError
		switch {
		case errors.As(err, &throttled):
			e.logger.Info("throttled by the endpoint", "project", f.Project, "function", f.Function, "retry_after", throttled.RetryAfter)
		case err != nil && ctx.Err() == nil:
			e.metrics.up.WithLabelValues(f.Project, f.Function).Set(0)
			e.logger.Warn("poll failed", "project", f.Project, "function", f.Function, "err", err)
		case err == nil:
			e.metrics.up.WithLabelValues(f.Project, f.Function).Set(1)
			e.metrics.lastSuccess.WithLabelValues(f.Project, f.Function).Set(unixSeconds(e.now()))
		}
		backlog = backlog || more
		_ = e.save() // save logs and counts its failures; readiness reports them
	}
	return backlog
}

// save writes the checkpoint, logging when saving starts and stops
// failing rather than at every turn.
func (e *Exporter) save() error {
	if e.cfg.Checkpoint == "" {
		return nil
	}
	err := saveCheckpoint(e.cfg.Checkpoint, e.states)
	if err != nil {
		e.metrics.checkpointFailures.Inc()
		if e.saveErr.Swap(&err) == nil {
			e.logger.Error("writing the checkpoint failed; not ready until it works again", "err", err)
		}
		return err
	}
	e.metrics.checkpointLastSuccess.Set(unixSeconds(e.now()))
	if e.saveErr.Swap(nil) != nil {
		e.logger.Info("writing the checkpoint works again")
	}
	return nil
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// turn reads up to MaxPagesPerTurn pages of the function's current scan.
func (e *Exporter) turn(ctx context.Context, f FunctionConfig, st *fnState) (more bool, err error) {
	now := e.now()
	if !now.Before(st.nextStats) {
		p, err := e.fetch(ctx, f, query{limit: 0})
		if err != nil {
			return false, err
		}
		e.setStats(f, p.Stats)
		st.nextStats = now.Add(e.cfg.StatsEvery)
	}
	if st.scan == nil {
		if st.Cursor.After(now) {
			e.rewind(f, st, now)
		}
		st.scan = e.newScan(st, now)
	}
	sc := st.scan
	for range e.cfg.MaxPagesPerTurn {
		p, err := e.fetch(ctx, f, query{limit: e.cfg.PageSize, offset: sc.offset, since: sc.since, until: sc.until})
		var refused *RefusedError
		if errors.As(err, &refused) {
			// The endpoint refuses this scan's query: asking again would
			// get the same answer, so the next turn builds a new one.
			st.scan = nil
		}
		if err != nil {
			return false, err
		}
		oldest := sc.until
		for _, x := range p.Executions {
			if at := e.record(f, st, x); !at.IsZero() && at.Before(oldest) {
				oldest = at
			}
		}
		sc.offset += len(p.Executions)
		switch {
		case len(p.Executions) < e.cfg.PageSize:
			e.finish(f, st)
			// A window clamped to one day leaves more to catch up on.
			return now.Sub(st.Cursor) > e.cfg.Interval, nil
		case sc.offset+e.cfg.PageSize > translate.MaxOffsetPlusLimit:
			// The upstream serves at most 10,000 records of a window: go
			// on with the part older than what was read. The upstream's
			// times are whole seconds, so the narrower window must end a
			// second earlier to make progress.
			below := oldest.Truncate(time.Second)
			if !below.Before(sc.until) || !below.After(sc.since) {
				e.logger.Warn("more than 10,000 executions in one second; some are not exported", "project", f.Project, "function", f.Function)
				e.finish(f, st)
				return false, nil
			}
			sc.until, sc.offset = below, 0
		}
	}
	return true, nil
}

// rewind moves a cursor that is ahead of the clock (the clock stepped back,
// or the checkpoint was written on a machine whose clock was ahead) back to
// the newest execution seen: executions are stamped by the upstream's clock,
// so what came after that one may not have been read, while the seen IDs
// (kept within the overlap of it, see finish) stop a second count of what
// was. Left alone, the scan would ask for since after until, be refused,
// and stall until this clock caught up.
func (e *Exporter) rewind(f FunctionConfig, st *fnState, now time.Time) {
	to := now
	if !st.LastRun.IsZero() && st.LastRun.Before(to) {
		to = st.LastRun
	}
	e.logger.Warn("the checkpoint cursor is ahead of the clock; rewinding it to the newest execution seen",
		"project", f.Project, "function", f.Function, "cursor", st.Cursor, "now", now, "rewound_to", to)
	st.setCursor(to)
}

// newScan covers what may be new: from Overlap before the cursor to now,
// or at most a day of it when catching up.
func (e *Exporter) newScan(st *fnState, now time.Time) *scan {
	until := now.Truncate(time.Second)
	since := st.Cursor.Add(-e.cfg.Overlap)
	if st.Cursor.IsZero() {
		since = until.Add(-e.cfg.Backfill)
	}
	since = since.Truncate(time.Second)
	if until.Sub(since) > translate.MaxWindow {
		until = since.Add(translate.MaxWindow)
	}
	return &scan{since: since, until: until, top: until}
}

func (e *Exporter) finish(f FunctionConfig, st *fnState) {
	st.setCursor(st.scan.top)
	st.scan = nil
	// The seen IDs are kept within the overlap of the cursor, or of the
	// newest execution seen when that is older: a cursor ahead of the
	// upstream's clock must not drop IDs that a rewind will read again.
	ref := st.Cursor
	if !st.LastRun.IsZero() && st.LastRun.Before(ref) {
		ref = st.LastRun
	}
	horizon := ref.Add(-e.cfg.Overlap - time.Second)
	for id, at := range st.Seen {
		if at.Before(horizon) {
			delete(st.Seen, id)
		}
	}
	if !st.LastRun.IsZero() {
		e.metrics.lag.WithLabelValues(f.Project, f.Function).Set(e.now().Sub(st.LastRun).Seconds())
	}
}

// fetch makes one request, waiting out a 429's Retry-After first.
func (e *Exporter) fetch(ctx context.Context, f FunctionConfig, q query) (page, error) {
	if wait := time.Until(e.notBefore); wait > 0 {
		select {
		case <-ctx.Done():
			return page{}, ctx.Err()
		case <-time.After(wait):
		}
	}
	start := time.Now()
	p, err := e.client.logs(ctx, f, q)
	e.metrics.pollDuration.WithLabelValues(f.Project, f.Function).Observe(time.Since(start).Seconds())
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		// Back off harder while the endpoint keeps refusing.
		e.throttles = min(e.throttles+1, 6)
		e.notBefore = time.Now().Add(throttled.RetryAfter * time.Duration(1<<(e.throttles-1)))
		e.metrics.polls.WithLabelValues(f.Project, f.Function, "throttled").Inc()
	case err != nil:
		e.metrics.polls.WithLabelValues(f.Project, f.Function, "error").Inc()
	default:
		e.throttles = 0
		e.metrics.polls.WithLabelValues(f.Project, f.Function, "ok").Inc()
	}
	return p, err
}

func (e *Exporter) setStats(f FunctionConfig, s translate.Stats) {
	e.metrics.windowExecs.WithLabelValues(f.Project, f.Function).Set(float64(s.TotalExecutions))
	e.metrics.windowSuccess.WithLabelValues(f.Project, f.Function).Set(s.SuccessRate / 100)
	e.metrics.windowDuration.WithLabelValues(f.Project, f.Function).Set(float64(s.AvgExecutionTime) / 1000)
}

// record counts and traces an execution the first time it is seen, and
// returns its start (zero when the endpoint gave none).
func (e *Exporter) record(f FunctionConfig, st *fnState, x translate.Execution) time.Time {
	var at time.Time
	if x.ExecutedAt != nil {
		at, _ = time.Parse(time.RFC3339Nano, *x.ExecutedAt)
	}
	id := x.RequestID
	if id == "" {
		// An endpoint without request IDs: the record itself is the ID.
		b, _ := json.Marshal(x)
		sum := sha256.Sum256(b)
		id = "sha256:" + hex.EncodeToString(sum[:16])
	}
	if _, dup := st.Seen[id]; dup {
		return at
	}
	seenAt := at
	if seenAt.IsZero() {
		seenAt = e.now()
	}
	st.Seen[id] = seenAt
	if clamped := clampNegatives(&x); len(clamped) > 0 {
		// Counters cannot go down: a negative number would panic the
		// exporter, and again after every restart.
		e.logger.Warn("execution with negative numbers; counted as 0", "project", f.Project, "function", f.Function,
			"request_id", id, "fields", clamped)
	}

	outcome := outcomeOf(x)
	status := statusOf(outcome)
	trigger := triggerLabel(x.TriggerType)
	m, p, fnID := e.metrics, f.Project, f.Function
	m.executions.WithLabelValues(p, fnID, status, trigger, outcome).Inc()
	st.Counts[status+"|"+trigger+"|"+outcome]++
	m.duration.WithLabelValues(p, fnID).Observe(float64(x.ExecutionTime) / 1000)
	if x.MemoryUsageBytes > 0 {
		m.memory.WithLabelValues(p, fnID).Observe(float64(x.MemoryUsageBytes))
	}
	// A source without the billed duration (CLS) leaves it out: such an
	// execution adds to neither billed time nor cost.
	if x.BilledDurationMs != nil {
		billed := float64(*x.BilledDurationMs) / 1000
		m.billedSeconds.WithLabelValues(p, fnID).Add(billed)
		st.BilledSeconds += billed
		if f.MemorySizeMB > 0 {
			cost := billed * float64(f.MemorySizeMB) / 1024
			m.costGBSeconds.WithLabelValues(p, fnID).Add(cost)
			st.CostGBSeconds += cost
		}
	}
	m.retries.WithLabelValues(p, fnID).Add(float64(x.RetryCount))
	st.Retries += float64(x.RetryCount)
	if at.After(st.LastRun) {
		st.LastRun = at
		m.lastRun.WithLabelValues(p, fnID).Set(unixSeconds(at))
	}
	if !at.IsZero() {
		e.spans.emit(f, id, x, outcome, at)
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
