package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"go.opentelemetry.io/contrib/instrumentation/github.com/labstack/echo/otelecho"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/singleflight"
)

// LogsRoute is Mudbase's getLogs route, in Echo's syntax.
const LogsRoute = "/api/functions/projects/:projectId/functions/:functionId/logs"

// Server is the Mudbase-compatible proxy.
type Server struct {
	cfg      Config
	loc      *time.Location
	auth     *Authenticator
	projects map[string]*project
	cache    *Cache
	shared   *sharedCache // nil without Redis
	flights  singleflight.Group
	plans    *planMemo
	metrics  *Metrics
	logger   *slog.Logger
	now      func() time.Time // Options.Now; nil: each request's own clock reading
	tracer   trace.TracerProvider
	echo     *echo.Echo
	draining atomic.Bool
	// readHeaderTimeout cuts off clients that send their request headers
	// too slowly (slow loris); a field so tests can shorten it.
	readHeaderTimeout time.Duration
}

type project struct {
	cfg    ProjectConfig
	source LogSource
}

// Options are the proxy's dependencies that do not come from the file.
type Options struct {
	Logger *slog.Logger
	// Metrics defaults to a fresh registry.
	Metrics *Metrics
	// Now replaces the clock that places default windows (by default the
	// request's own reading of time.Now).
	Now func() time.Time
	// TracerProvider traces incoming requests and upstream calls; nil
	// leaves the instrumentation out of the request path altogether.
	TracerProvider trace.TracerProvider
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
	auth, err := newAuthenticator(ctx, cfg.JWT, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, loc: loc, auth: auth, projects: map[string]*project{},
		plans:   newPlanMemo(4096),
		cache:   NewCache(cfg.Cache.MaxBytes, max(cfg.Cache.PageTTL, cfg.Cache.StatsTTL)+cfg.Cache.StaleMaxAge, opts.Metrics),
		metrics: opts.Metrics, logger: opts.Logger, now: opts.Now, tracer: opts.TracerProvider,
		readHeaderTimeout: 5 * time.Second,
	}
	var store *redisStore
	if cfg.Redis != nil {
		if store, err = newRedisStore(ctx, cfg.Redis, opts.Logger, opts.Metrics); err != nil {
			return nil, err
		}
		s.shared = newSharedCache(store, max(cfg.Cache.PageTTL, cfg.Cache.StatsTTL)+cfg.Cache.StaleMaxAge, s.flightTimeout())
	}
	// One budget per upstream account: projects sharing a SecretId share
	// its 5 requests per second. One breaker per account and region: they
	// share the upstream whose health it tracks.
	budgets := map[string]limiter{}
	breakers := map[string]*breakerCaller{}
	for id, pc := range cfg.Projects {
		client, err := s.newClient(pc)
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", id, err)
		}
		b, ok := budgets[client.SecretID()]
		if !ok {
			b = newLimiter(cfg, store, client.SecretID())
			budgets[client.SecretID()] = b
		}
		breaker, ok := breakers[client.SecretID()+"|"+pc.Region]
		if !ok {
			caller := &budgetedCaller{next: client, budget: b, backoff: cfg.Budget.Backoff, metrics: s.metrics}
			breaker = newBreakerCaller(caller, cfg.Upstream.Breaker, s.metrics)
			breakers[client.SecretID()+"|"+pc.Region] = breaker
		}
		s.projects[id] = &project{cfg: pc, source: NewGetFunctionLogsSource(breaker, loc)}
	}
	s.echo = s.routes()
	return s, nil
}

func newAuthenticator(ctx context.Context, cfg JWTConfig, logger *slog.Logger) (*Authenticator, error) {
	var secret []byte
	switch {
	case cfg.SecretEnv != "":
		v := os.Getenv(cfg.SecretEnv)
		if v == "" {
			return nil, fmt.Errorf("jwt.secretEnv: the environment variable %s is empty", cfg.SecretEnv)
		}
		secret = []byte(v)
	case cfg.SecretFile != "":
		b, err := os.ReadFile(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("jwt.secretFile: %w", err)
		}
		secret = []byte(strings.TrimSpace(string(b)))
	}
	if secret != nil && len(secret) < 32 {
		return nil, errors.New("jwt: the HS secret must be at least 32 bytes (RFC 7518 asks for a key as long as the hash)")
	}
	if cfg.JWKSURL == "" {
		return NewAuthenticator(cfg, secret, nil), nil
	}
	jwks, err := NewJWKS(ctx, cfg.JWKSURL, logger)
	if err != nil {
		return nil, fmt.Errorf("jwt.jwksURL: %w", err)
	}
	return NewAuthenticator(cfg, secret, jwks), nil
}

// newClient builds the upstream client of one project, with tracing on
// its transport.
func (s *Server) newClient(pc ProjectConfig) (*TencentClient, error) {
	cred, err := resolveCredential(pc.Credentials)
	if err != nil {
		return nil, err
	}
	var transport http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if s.tracer != nil {
		transport = otelhttp.NewTransport(transport, otelhttp.WithTracerProvider(s.tracer),
			otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return "tencentcloud scf GetFunctionLogs" }))
	}
	return NewTencentClient(TencentConfig{
		Region: pc.Region, Endpoint: s.cfg.Upstream.Endpoint, Scheme: s.cfg.Upstream.Scheme,
		Timeout: s.cfg.Upstream.Timeout, Credential: cred, Transport: transport,
	})
}

// resolveCredential reads the key named by the config; nil means "use the
// SDK's provider chain". Errors name the variable or file, never a value.
func resolveCredential(c CredentialsConfig) (common.CredentialIface, error) {
	read := func(env, file string) (string, error) {
		switch {
		case env != "":
			if v := os.Getenv(env); v != "" {
				return v, nil
			}
			return "", fmt.Errorf("credentials: the environment variable %s is empty", env)
		case file != "":
			b, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("credentials: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		}
		return "", nil
	}
	id, err := read(c.SecretIDEnv, c.SecretIDFile)
	if err != nil || id == "" {
		return nil, err
	}
	key, err := read(c.SecretKeyEnv, c.SecretKeyFile)
	if err != nil {
		return nil, err
	}
	token, err := read(c.TokenEnv, c.TokenFile)
	if err != nil {
		return nil, err
	}
	return common.NewTokenCredential(id, key, token), nil
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleEchoError
	e.Use(
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}),
		s.observe,
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}),
	)
	e.Use(limitRequests)
	if s.tracer != nil {
		e.Use(otelecho.Middleware("mudscf-proxy", otelecho.WithTracerProvider(s.tracer)))
	}
	e.GET(LogsRoute, s.authenticated(s.handleLogs))
	return e
}

// Handler serves the public API.
func (s *Server) Handler() http.Handler { return s.echo }

// AdminHandler serves /metrics, /healthz and /readyz.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{Registry: s.metrics.Registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "shutting down")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Serve runs the API and admin servers until ctx ends, then stops taking
// requests (readiness fails first) and lets in-flight ones finish within
// the configured grace.
func (s *Server) Serve(ctx context.Context, api, admin net.Listener) error {
	apiSrv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: s.readHeaderTimeout, ReadTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}
	adminSrv := &http.Server{Handler: s.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- apiSrv.Serve(api) }()
	go func() { errc <- adminSrv.Serve(admin) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	s.draining.Store(true)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	return errors.Join(ignoreClosed(err), apiSrv.Shutdown(shutdownCtx), adminSrv.Shutdown(shutdownCtx))
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
