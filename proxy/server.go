package proxy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/singleflight"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/logsource"
	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/upstream"
)

// LogsRoute is Mudbase's getLogs route, in Echo's syntax.
const LogsRoute = "/api/functions/projects/:projectId/functions/:functionId/logs"

// Server is the Mudbase-compatible proxy.
type Server struct {
	cfg      Config
	loc      *time.Location
	auth     *jwtauth.Authenticator
	projects map[string]*project
	cache    *boundedCache
	shared   *sharedCache // nil without Redis
	flights  singleflight.Group
	refresh  *refresher
	plans    *planMemo
	scans    *projectScans
	accounts *upstream.Accounts
	metrics  *Metrics
	logger   *slog.Logger
	now      func() time.Time // Options.Now; nil: each request's own clock reading
	tracer   trace.TracerProvider
	echo     *echo.Echo
	handler  http.Handler // echo, inside otelhttp when tracing
	// landing is the admin listener's landing page; webConfigFile is
	// Options.WebConfigFile.
	landing       http.Handler
	webConfigFile string
	// draining is set at shutdown (drain): /readyz fails and no new
	// upstream call is made (fetchPart), nor granted (the budgets).
	draining   atomic.Bool
	drainDelay time.Duration
	// drainWait fires after the drain delay; tests replace it to hold the
	// drain open for as long as they look.
	drainWait func(time.Duration) <-chan time.Time
	// readHeaderTimeout cuts off clients that send their request headers
	// too slowly (slow loris), idleTimeout keep-alive connections that send
	// nothing more; fields so tests can shorten them.
	readHeaderTimeout, idleTimeout time.Duration
}

type project struct {
	cfg    ProjectConfig
	source logsource.LogSource
	// account is the alias of the project's upstream account.
	account string
}

// Options are the proxy's dependencies that do not come from the file.
type Options struct {
	Logger *slog.Logger
	// Metrics defaults to a fresh registry.
	Metrics *Metrics
	// Now replaces the clock that places default windows and judges the
	// cache's freshness (by default time.Now).
	Now func() time.Time
	// TracerProvider traces incoming requests and upstream calls; nil
	// leaves the instrumentation out of the request path altogether.
	TracerProvider trace.TracerProvider
	// Transport carries every upstream call (by default each client's own
	// clone of http.DefaultTransport).
	Transport http.RoundTripper
	// WebConfigFile is exporter-toolkit's web configuration of the admin
	// listener (TLS, basic auth; /healthz and /readyz stay open), read
	// again at each connection and request; "" serves plain HTTP.
	WebConfigFile string
}

// New builds the proxy from a validated Config. ctx bounds background work
// (the JWKS refresh).
func New(ctx context.Context, cfg Config, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	auth, err := jwtauth.New(ctx, cfg.JWT, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, loc: loc, auth: auth, projects: map[string]*project{},
		plans:   newPlanMemo(4096),
		scans:   newProjectScans(cfg.ProjectExecutions.TopicShare, cfg.Budget.MaxWait+cfg.Upstream.Timeout),
		cache:   newCache(cfg.Cache.MaxBytes, max(cfg.Cache.PageTTL, cfg.Cache.StatsTTL)+cfg.Cache.StaleMaxAge, opts.Metrics),
		metrics: opts.Metrics, logger: opts.Logger, now: opts.Now, tracer: opts.TracerProvider,
		webConfigFile: opts.WebConfigFile, drainDelay: DefaultDrainDelay, drainWait: time.After,
		readHeaderTimeout: 5 * time.Second, idleTimeout: 2 * time.Minute,
	}
	if cfg.DrainDelay != nil {
		s.drainDelay = *cfg.DrainDelay
	}
	if s.landing, err = newLandingPage(); err != nil {
		return nil, err
	}
	if cfg.Cache.WindowAlign != 0 {
		opts.Logger.Warn("cache.windowAlign is deprecated and ignored: a default window is keyed as such, so an entry serves hits for its whole TTL")
	}
	go s.cache.sweep(ctx)
	s.refresh = newRefresher(opts.Metrics)
	// As many workers as the budget grants calls in a second: enough to
	// keep it busy, and each pick waits for at most one grant.
	for range cfg.Budget.RequestsPerSecond {
		go s.refreshWorker(ctx)
	}
	var store *redisstore.Store
	if cfg.Redis != nil {
		if store, err = redisstore.New(ctx, *cfg.Redis, opts.Logger, opts.Metrics.Registry); err != nil {
			return nil, err
		}
		s.shared = newSharedCache(store, max(cfg.Cache.PageTTL, cfg.Cache.StatsTTL)+cfg.Cache.StaleMaxAge, cfg.Budget.MaxWait, s.clock, opts.Metrics.Registry)
	}
	s.accounts = upstream.NewAccounts(upstream.Options{
		Upstream: cfg.Upstream, Budget: cfg.Budget, Store: store,
		TracerProvider: opts.TracerProvider, Registerer: opts.Metrics.Registry, Transport: opts.Transport,
	})
	// In a stable order: accounts without an alias are named after the
	// first project that uses them.
	functions := newFunctionInfo(opts.Metrics.Registry, opts.Logger)
	for _, id := range slices.Sorted(maps.Keys(cfg.Projects)) {
		pc := cfg.Projects[id]
		caller, err := s.accounts.Caller(id, pc.Region, pc.Credentials)
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", id, err)
		}
		p := &project{cfg: pc, source: projectSource(caller, pc, loc), account: caller.Account()}
		s.projects[id] = p
		for _, fid := range slices.Sorted(maps.Keys(pc.Functions)) {
			t, _ := p.target(fid)
			functions.add(id, fid, pc.Region, t, pc.Functions[fid].MemorySizeMB, caller)
		}
	}
	go functions.run(ctx)
	s.echo = s.routes()
	s.handler = s.echo
	if s.tracer != nil {
		// Named by the method until routing knows the route (nameSpan):
		// never by the raw path, which would make one name per ID.
		s.handler = otelhttp.NewHandler(s.echo, "mudscf-proxy", otelhttp.WithTracerProvider(s.tracer),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }))
	}
	return s, nil
}

// projectSource is where a project reads its logs, through caller, with
// times in the upstream's zone loc.
func projectSource(caller *upstream.Caller, pc ProjectConfig, loc *time.Location) logsource.LogSource {
	if pc.Source != SourceCLS {
		return logsource.NewGetFunctionLogs(caller, loc)
	}
	topics := map[logsource.FunctionKey]string{}
	for _, f := range pc.Functions {
		if topic := cmp.Or(f.ClsTopicID, pc.ClsTopicID); topic != "" {
			topics[logsource.FunctionKey{Namespace: pc.Namespace, Name: f.Name}] = topic
		}
	}
	return logsource.NewCLS(caller, logsource.NewTopics(caller, topics))
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleEchoError
	e.Use(
		requestID,
		s.observe,
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}),
	)
	e.Use(limitRequests)
	if s.tracer != nil {
		e.Use(nameSpan)
	}
	// HEAD is GET without the body (RFC 9110 §9.3.2): same headers, same
	// authentication.
	logs := s.authenticated(s.handleLogs)
	e.GET(LogsRoute, logs)
	e.HEAD(LogsRoute, logs)
	e.GET(ExecutionsRoute, s.authenticated(s.handleExecutions))
	return e
}

// nameSpan names the server span after the matched route, as HTTP
// semantic conventions ask ("GET /api/.../:functionId/logs"); unmatched
// requests keep the method alone.
func nameSpan(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if route := c.Path(); route != "" {
			span := trace.SpanFromContext(c.Request().Context())
			span.SetName(c.Request().Method + " " + route)
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		return next(c)
	}
}

// Handler serves the public API.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve runs the API and admin servers until ctx ends (the admin one
// through the web configuration, see serveAdmin), then shuts down in
// the order load balancers need: /readyz fails at once while the API keeps
// serving for the drain delay (making no upstream call that was not sent
// before, see drain), then the
// API stops accepting and in-flight requests finish within the configured
// grace.
func (s *Server) Serve(ctx context.Context, api, admin net.Listener) error {
	errorLog := slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)
	// The API's write deadline is set per response (handleLogs), so that
	// it bounds the writing and not the upstream wait before it.
	apiSrv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: s.readHeaderTimeout, ReadTimeout: 10 * time.Second,
		IdleTimeout: s.idleTimeout, MaxHeaderBytes: 64 << 10, ErrorLog: errorLog}
	// Admin answers are made at once: WriteTimeout may cover the handler.
	adminSrv := &http.Server{Handler: s.behindWebConfig(), ReadHeaderTimeout: s.readHeaderTimeout, ReadTimeout: 10 * time.Second,
		WriteTimeout: s.cfg.WriteTimeout, IdleTimeout: s.idleTimeout, MaxHeaderBytes: 64 << 10, ErrorLog: errorLog}
	errc := make(chan error, 2)
	go func() { errc <- apiSrv.Serve(api) }()
	go func() { errc <- serveAdmin(admin, adminSrv, s.probes(), s.webConfigFile, s.logger) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.drain()
		select {
		case <-s.drainWait(s.drainDelay):
		case err = <-errc:
		}
	}
	s.drain()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	return errors.Join(ignoreClosed(err), apiSrv.Shutdown(shutdownCtx), adminSrv.Shutdown(shutdownCtx))
}

// drain starts no upstream call from now on: new requests start no
// flight, and the calls waiting for a budget slot are refused
// (budget.ErrDraining), to be answered from the cache, stale, or with a
// 503 and Retry-After. Calls already sent finish.
func (s *Server) drain() {
	s.draining.Store(true)
	s.accounts.Drain()
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
