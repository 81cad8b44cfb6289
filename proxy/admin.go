package proxy

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
)

// The admin listener serves /metrics, a landing page, /healthz and /readyz.
// Behind exporter-toolkit's web configuration (Options.WebConfigFile: TLS,
// basic auth), except the two probes: kubelet's probes carry no
// credentials, and the toolkit asks for them on every path.

// AdminHandler serves the admin listener's routes, without the web
// configuration: the probes, and the rest behind it.
func (s *Server) AdminHandler() http.Handler { return probesFirst(s.probes(), s.behindWebConfig()) }

// probes are the routes kubelet's probes reach without credentials. They
// say nothing but whether the process runs and is ready.
func (s *Server) probes() *http.ServeMux {
	mux := http.NewServeMux()
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

// behindWebConfig are the routes the web configuration guards: the
// metrics, in OpenMetrics when the scraper asks for it (the only format
// that carries exemplars), and the landing page.
func (s *Server) behindWebConfig() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{
		Registry: s.metrics.Registry, EnableOpenMetrics: true,
	}))
	mux.Handle("GET /{$}", s.landing)
	return mux
}

// newLandingPage is the toolkit's landing page, as every Prometheus
// exporter has one, linking the admin routes.
func newLandingPage() (http.Handler, error) {
	return web.NewLandingPage(web.LandingConfig{
		Name:        "mudscf proxy",
		Description: "The Mudbase functions logs API, served from Tencent Cloud SCF",
		Version:     version.Info(),
		Profiling:   "false", // no /debug/pprof here
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/healthz", Text: "Health", Description: "open to probes without credentials"},
			{Address: "/readyz", Text: "Readiness", Description: "open to probes without credentials; 503 while shutting down"},
		},
	})
}

// probesFirst serves the routes of probes itself and hands every other
// request to rest.
func probesFirst(probes *http.ServeMux, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := probes.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// serveAdmin serves srv, whose handler is behindWebConfig, on l through
// exporter-toolkit with the web configuration file ("" for plain HTTP
// without authentication).
//
// The toolkit wraps srv.Handler in its authentication and then serves:
// the listener it is given puts the probes in front of that wrapper at
// its first Accept (probesBeforeAuth). TLS is the listener's, so the
// probes are served over it too.
func serveAdmin(l net.Listener, srv *http.Server, probes *http.ServeMux, webConfigFile string, logger *slog.Logger) error {
	return web.Serve(&probesBeforeAuth{Listener: l, srv: srv, probes: probes}, srv,
		&web.FlagConfig{WebConfigFile: &webConfigFile}, logger)
}

// probesBeforeAuth is the admin listener as web.Serve gets it. web.Serve
// replaces srv.Handler with its authenticating wrapper before it accepts,
// and accepts in the goroutine that replaced it; so at the first Accept,
// before any connection is served, the wrapper is in place and the probes
// can go in front of it without a race.
type probesBeforeAuth struct {
	net.Listener
	srv    *http.Server
	probes *http.ServeMux
	once   sync.Once
}

func (l *probesBeforeAuth) Accept() (net.Conn, error) {
	l.once.Do(func() { l.srv.Handler = probesFirst(l.probes, l.srv.Handler) })
	return l.Listener.Accept()
}
