package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
)

// Handler serves /metrics (the text format, or OpenMetrics with the
// duration histogram's exemplars when the scraper asks for it), a landing
// page, and the probes (probes).
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler{registry: e.metrics.registry, state: e.state})
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "mudscf exporter",
		Description: "Function executions of Mudbase projects on Tencent Cloud SCF, as Prometheus metrics and OpenTelemetry spans",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/healthz", Text: "Health"},
			{Address: "/readyz", Text: "Readiness", Description: "ready after the first round, and while the checkpoint can be saved"},
		},
	})
	if err != nil {
		// The configuration above is a constant: this cannot happen at run
		// time without failing every test first.
		panic(err)
	}
	mux.Handle("GET /{$}", landing)
	mux.Handle("/", e.probes())
	return mux
}

// probes serves /healthz and /readyz (ready after the first full round,
// and while the checkpoint can be saved), and answers 404 otherwise.
func (e *Exporter) probes() http.Handler {
	mux := http.NewServeMux()
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

// probesFirst answers the probes itself and passes everything else to
// next.
type probesFirst struct{ probes, next http.Handler }

func (p probesFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
		p.probes.ServeHTTP(w, r)
		return
	}
	p.next.ServeHTTP(w, r)
}

// Serve runs the metrics server on l and the polling loop until ctx ends.
//
// The server is exporter-toolkit's (the --web.config.file every
// Prometheus exporter takes: TLS, basic auth, headers). Its basic auth
// covers every path, but kubelet's probes carry no credentials: a probe
// that got 401s would restart a healthy pod. So /healthz and /readyz are
// routed before the toolkit's authentication: web.Serve wraps the
// server's handler in its own and then serves, and net/http calls
// BaseContext once, after that and before the first connection is
// accepted, which is where the probes are put in front of the wrapper.
// (TLS still covers them: the probes then speak HTTPS.)
func (e *Exporter) Serve(ctx context.Context, l net.Listener) error {
	if e.webConfig != "" {
		if err := web.Validate(e.webConfig); err != nil {
			l.Close()
			return fmt.Errorf("--web.config.file %s: %w", e.webConfig, err)
		}
	}
	// Prometheus scrapes every few seconds over keep-alive connections; one
	// left idle (a scraper gone, a port scanner) is closed, not kept forever.
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: e.idleTimeout, MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(e.logger.Handler(), slog.LevelWarn)}
	probes := e.probes()
	srv.BaseContext = func(net.Listener) context.Context {
		srv.Handler = probesFirst{probes: probes, next: srv.Handler}
		return context.Background()
	}
	errc := make(chan error, 1)
	go func() {
		errc <- web.Serve(l, srv, &web.FlagConfig{WebConfigFile: &e.webConfig}, e.logger)
	}()
	runErr := e.Run(ctx)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(runErr, err)
}
