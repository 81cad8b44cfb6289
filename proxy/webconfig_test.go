package proxy

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
)

// The admin listener behind a web configuration with TLS and basic auth:
// kubelet's probes (no credentials) reach /healthz and /readyz, every other
// path asks for credentials, plain HTTP is refused; and an OpenMetrics
// scrape carries the trace ID of the request, the ID of the server span
// the tracer exported, as the exemplar of its duration. The API is called
// in-process: the in-process transport answers once the handler has
// returned, so the span has ended and the duration is recorded by then.
func TestAdminListenerWebConfig(t *testing.T) {
	web := testenv.NewWebConfig(t)
	spans := tracetest.NewInMemoryExporter()
	sim := testenv.NewSimulator(t, nil, tencentsim.Function{Name: "APITest", RatePerSecond: 0.2},
		tencentsim.Function{Name: "orders-webhook", RatePerSecond: 0.05})
	env := startProxyOn(t, sim, nil, Options{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)), WebConfigFile: web.File,
	})
	if r := env.get(t, logsPath, env.token(t, "usr_morgan_de")); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var server trace.SpanContext
	for _, s := range spans.GetSpans() {
		if s.SpanKind == trace.SpanKindServer {
			server = s.SpanContext
		}
	}
	if !server.IsSampled() {
		t.Fatal("no sampled server span was exported")
	}

	api, admin := listen(t), listen(t)
	cancel, served := startServe(env, api, admin)
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	base := "https://" + admin.Addr().String()
	client := &http.Client{Transport: suiteWitness.Transport(web.Client.Transport)}
	get := func(path, user, password string, header http.Header) response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		return send(t, client, req)
	}

	for _, c := range []struct {
		path, user, password string
		want                 int
	}{
		{"/healthz", "", "", http.StatusOK},
		{"/readyz", "", "", http.StatusOK},
		{"/metrics", "", "", http.StatusUnauthorized},
		{"/", "", "", http.StatusUnauthorized},
		{"/nothing", "", "", http.StatusUnauthorized},
		{"/metrics", web.User, "wrong", http.StatusUnauthorized},
		{"/metrics", "nobody", web.Password, http.StatusUnauthorized},
		{"/metrics", web.User, web.Password, http.StatusOK},
		{"/nothing", web.User, web.Password, http.StatusNotFound},
		{"/healthz", web.User, web.Password, http.StatusOK},
	} {
		if r := get(c.path, c.user, c.password, nil); r.status != c.want {
			t.Errorf("GET %s as %q: %d, want %d", c.path, c.user, r.status, c.want)
		}
	}
	landing := get("/", web.User, web.Password, nil)
	if landing.status != http.StatusOK || !strings.Contains(landing.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(landing.body), `href="/metrics"`) || !strings.Contains(string(landing.body), "mudscf proxy") {
		t.Errorf("landing page: %d %q\n%s", landing.status, landing.header.Get("Content-Type"), landing.body)
	}
	if r := getURL(t, "http://"+admin.Addr().String()+"/healthz", ""); r.status == http.StatusOK {
		t.Error("the admin listener answered plain HTTP under a TLS configuration")
	}

	scraped := get("/metrics", web.User, web.Password, http.Header{"Accept": {"application/openmetrics-text; version=1.0.0"}})
	metrics := string(scraped.body)
	if ct := scraped.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") || !strings.HasSuffix(metrics, "# EOF\n") {
		t.Fatalf("an OpenMetrics scrape answered %q:\n%s", ct, metrics)
	}
	exemplar := regexp.MustCompile(`(?m)^mudscf_http_request_duration_seconds_bucket\{route="` + regexp.QuoteMeta(LogsRoute) +
		`",le="[^"]+"\} 1 # \{trace_id="([0-9a-f]{32})"\} \S+ \S+$`)
	m := exemplar.FindStringSubmatch(metrics)
	if m == nil {
		t.Fatalf("no exemplar on the logs route's duration:\n%s", grepLines(metrics, "mudscf_http_request_duration_seconds"))
	}
	if m[1] != server.TraceID().String() {
		t.Errorf("the exemplar's trace ID %s is not the exported server span's %s", m[1], server.TraceID())
	}
}

// Without tracing, no exemplar: there is no trace to lead to.
func TestNoExemplarWithoutTracing(t *testing.T) {
	env := startProxy(t, nil)
	if r := env.get(t, logsPath, env.token(t, "usr_morgan_de")); r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	rec := httptest.NewRecorder()
	env.proxy.AdminHandler().ServeHTTP(rec, req)
	suiteWitness.See("the admin endpoint /metrics", rec.Body.Bytes())
	if body := rec.Body.String(); !strings.HasSuffix(body, "# EOF\n") || strings.Contains(body, "trace_id") {
		t.Errorf("an OpenMetrics scrape without tracing:\n%s", grepLines(body, "mudscf_http_request_duration_seconds"))
	}
}

// grepLines are the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
