package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/internal/scfsim"
	"github.com/mudscf/mudscf/internal/testenv"
)

func TestAdminEndpoints(t *testing.T) {
	env := startProxy(t, nil)
	tok := env.token(t, "usr_morgan_de")
	for range 2 {
		if r := env.get(t, logsPath+"?limit=1", tok); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	env.get(t, logsPath, "")
	admin := env.proxy.AdminHandler()
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := scrape(t, admin, path); code != 200 {
			t.Errorf("%s: %d", path, code)
		}
	}
	code, metrics := scrape(t, admin, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`mudscf_http_requests_total{code="200",route="` + LogsRoute + `"} 2`,
		`mudscf_http_requests_total{code="401",route="` + LogsRoute + `"} 1`,
		`mudscf_http_request_duration_seconds_bucket{route="` + LogsRoute + `",le="+Inf"} 3`,
		`mudscf_cache_requests_total{kind="page",result="hit"} 1`,
		`mudscf_cache_requests_total{kind="page",result="miss"} 1`,
		`mudscf_cache_requests_total{kind="stats",result="hit"} 1`,
		`mudscf_upstream_calls_total{account="default",api="GetFunctionLogs",result="ok"} 3`,
		`mudscf_budget_wait_seconds_count{account="default",api="GetFunctionLogs",priority="interactive"} 3`,
		`mudscf_budget_limit_requests_per_second{account="default",api="GetFunctionLogs"} 5`,
		`mudscf_cache_size_bytes `,
		`go_goroutines `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, secret := range []string{testenv.SecretKey, testJWTSecret, tok, testenv.SecretID} {
		if strings.Contains(metrics, secret) {
			t.Error("a secret or the SecretId appeared in /metrics")
		}
	}
}

// Incoming requests and the upstream calls they cause are one trace.
func TestTracing(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	env := startProxyWith(t, nil, Options{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
	if r := env.get(t, logsPath, env.token(t, "usr_morgan_de")); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// The answer is written in one piece, so the client can have all of it
	// before the middleware ends the server span: wait for the span.
	ended := func() bool {
		for _, s := range rec.Ended() {
			if s.SpanKind() == trace.SpanKindServer {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(5 * time.Second); !ended() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	var server trace.SpanContext
	clients := 0
	for _, s := range rec.Ended() {
		switch s.SpanKind() {
		case trace.SpanKindServer:
			server = s.SpanContext()
			if !strings.Contains(s.Name(), LogsRoute) {
				t.Errorf("server span named %q", s.Name())
			}
		case trace.SpanKindClient:
			clients++
		}
	}
	if !server.IsValid() || clients != 3 {
		t.Fatalf("want a server span and 3 upstream client spans, got server %v and %d clients", server.IsValid(), clients)
	}
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient && s.SpanContext().TraceID() != server.TraceID() {
			t.Errorf("upstream span %q is not in the request's trace", s.Name())
		}
	}
}

// Shutdown lets a request in flight finish, and readiness fails first.
func TestGracefulShutdown(t *testing.T) {
	env := startProxy(t, nil)
	env.sim.SetFaults(scfsim.Faults{Latency: 300 * time.Millisecond})
	base, stop := serveUntil(t, env)

	req, _ := http.NewRequest(http.MethodGet, base+logsPath, nil)
	req.Header.Set("Authorization", "Bearer "+env.token(t, "usr_morgan_de"))
	result := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			result <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // the request is waiting on the upstream
	served := make(chan error, 1)
	go func() { served <- stop() }()
	if code := <-result; code != 200 {
		t.Errorf("the in-flight request got %d", code)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if code, _ := scrape(t, env.proxy.AdminHandler(), "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz after shutdown: %d", code)
	}
}

// promtool accepts the proxy's metrics.
func TestPromtoolAcceptsProxyMetrics(t *testing.T) {
	testenv.Tool(t, "promtool", "Debian: apt-get install prometheus")
	env := startProxy(t, nil)
	tok := env.token(t, "usr_morgan_de")
	env.get(t, logsPath, tok)
	env.get(t, logsPath, tok)
	env.get(t, logsPath, "")
	_, metrics := scrape(t, env.proxy.AdminHandler(), "/metrics")
	testenv.CheckMetrics(t, metrics)
}
