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
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/mudscf/mudscf/translate"
)

// Exporter polls the logs endpoint and publishes what it finds.
type Exporter struct {
	cfg     Config
	client  *client
	metrics *metrics
	tracer  trace.Tracer
	logger  *slog.Logger
	states  map[string]*fnState
	// notBefore holds all requests back after a 429: the endpoint's budget
	// is shared by every function.
	notBefore time.Time
	throttles int
	rounds    int
	ready     atomic.Bool
}

// Options are the exporter's dependencies that do not come from the file.
type Options struct {
	Logger *slog.Logger
	// TracerProvider should use IDGenerator; nil exports no spans.
	TracerProvider trace.TracerProvider
	// Transport defaults to a clone of http.DefaultTransport.
	Transport http.RoundTripper
}

// New builds an exporter from a validated Config and restores its
// checkpoint.
func New(cfg Config, opts Options) (*Exporter, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.TracerProvider == nil {
		opts.TracerProvider = noop.NewTracerProvider()
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport.(*http.Transport).Clone()
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
	e := &Exporter{
		cfg: cfg,
		client: &client{
			base:   strings.TrimRight(cfg.Endpoint, "/"),
			http:   &http.Client{Transport: opts.Transport, Timeout: cfg.Timeout},
			tokens: &tokenSource{cfg: cfg.Auth, projects: projectList},
		},
		metrics: newMetrics(),
		tracer:  opts.TracerProvider.Tracer(TracerName),
		logger:  opts.Logger,
		states:  map[string]*fnState{},
	}
	for _, f := range cfg.Functions {
		st, ok := states[f.key()]
		if !ok {
			st = newFnState()
		}
		e.states[f.key()] = st
		e.restoreCounters(f, st)
	}
	return e, nil
}

// restoreCounters continues the counters from the checkpoint, so that a
// restart shows no drop and no double count.
func (e *Exporter) restoreCounters(f FunctionConfig, st *fnState) {
	for k, n := range st.Counts {
		status, trigger, _ := strings.Cut(k, "|")
		e.metrics.executions.WithLabelValues(f.Project, f.Function, status, trigger).Add(n)
	}
	e.metrics.billedSeconds.WithLabelValues(f.Project, f.Function).Add(st.BilledSeconds)
	e.metrics.costGBSeconds.WithLabelValues(f.Project, f.Function).Add(st.CostGBSeconds)
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
		if !e.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "first round not finished")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Serve runs the metrics server on l and the polling loop until ctx ends.
func (e *Exporter) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 5 * time.Second}
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
		}
		backlog = backlog || more
		if err := e.save(); err != nil {
			e.logger.Error("writing the checkpoint", "err", err)
		}
	}
	return backlog
}

func (e *Exporter) save() error {
	if e.cfg.Checkpoint == "" {
		return nil
	}
	return saveCheckpoint(e.cfg.Checkpoint, e.states)
}

// turn reads up to MaxPagesPerTurn pages of the function's current scan.
func (e *Exporter) turn(ctx context.Context, f FunctionConfig, st *fnState) (more bool, err error) {
	now := time.Now()
	if !now.Before(st.nextStats) {
		p, err := e.fetch(ctx, f, query{limit: 0})
		if err != nil {
			return false, err
		}
		e.setStats(f, p.Stats)
		st.nextStats = now.Add(e.cfg.StatsEvery)
	}
	if st.scan == nil {
		st.scan = e.newScan(st, now)
	}
	sc := st.scan
	for range e.cfg.MaxPagesPerTurn {
		p, err := e.fetch(ctx, f, query{limit: e.cfg.PageSize, offset: sc.offset, since: sc.since, until: sc.until})
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
	st.Cursor = st.scan.top
	st.scan = nil
	horizon := st.Cursor.Add(-e.cfg.Overlap - time.Second)
	for id, at := range st.Seen {
		if at.Before(horizon) {
			delete(st.Seen, id)
		}
	}
	if !st.LastRun.IsZero() {
		e.metrics.lag.WithLabelValues(f.Project, f.Function).Set(time.Since(st.LastRun).Seconds())
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
		seenAt = time.Now()
	}
	st.Seen[id] = seenAt

	status := "failed"
	if x.Success {
		status = "success"
	}
	trigger := x.TriggerType
	if trigger == "" {
		trigger = "unknown"
	}
	m, p, fnID := e.metrics, f.Project, f.Function
	m.executions.WithLabelValues(p, fnID, status, trigger).Inc()
	st.Counts[status+"|"+trigger]++
	m.duration.WithLabelValues(p, fnID).Observe(float64(x.ExecutionTime) / 1000)
	if x.MemoryUsageBytes > 0 {
		m.memory.WithLabelValues(p, fnID).Observe(float64(x.MemoryUsageBytes))
	}
	billed := float64(x.BilledDurationMs) / 1000
	cost := billed * float64(f.MemorySizeMB) / 1024
	m.billedSeconds.WithLabelValues(p, fnID).Add(billed)
	m.costGBSeconds.WithLabelValues(p, fnID).Add(cost)
	m.retries.WithLabelValues(p, fnID).Add(float64(x.RetryCount))
	st.BilledSeconds += billed
	st.CostGBSeconds += cost
	st.Retries += float64(x.RetryCount)
	if at.After(st.LastRun) {
		st.LastRun = at
		m.lastRun.WithLabelValues(p, fnID).Set(float64(at.UnixMilli()) / 1000)
	}
	if !at.IsZero() {
		emitSpan(e.tracer, f, id, x, at)
	}
	return at
}
