package proxy

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
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
		`mudscf_budget_wait_seconds_count{account="default",api="GetFunctionLogs",priority="interactive",project="` + testProject + `"} 3`,
		`mudscf_budget_limit_requests_per_second{account="default",api="GetFunctionLogs"} 5`,
		`mudscf_cache_size_bytes `,
		`go_goroutines `,
		`mudscf_build_info{branch=`,
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

// Incoming requests and the upstream calls they cause are one trace, the
// server span named after the route, and both sides use the stable HTTP
// semantic conventions' attribute names (otelhttp on both). In-process, in
// a synctest bubble: the in-process transport answers once the handler
// has returned, so the server span has ended by then.
func TestTracing(t *testing.T) { synctest.Test(t, testTracing) }

func testTracing(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	env := startProxyOn(t, simulateInBubble(t, 1), nil, Options{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))})
	if r := env.get(t, logsPath, env.token(t, "usr_morgan_de")); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	env.get(t, "/api/functions/projects/"+testProject+"/nothing/here", "")
	attrs := func(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
		m := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes {
			m[kv.Key] = kv.Value
		}
		return m
	}
	var server trace.SpanContext
	unmatched := false
	clients := 0
	for _, s := range exp.GetSpans() {
		a := attrs(s)
		for _, old := range []attribute.Key{"http.method", "http.status_code", "http.target", "http.url", "net.peer.name"} {
			if _, ok := a[old]; ok {
				t.Errorf("%s span %q has the old attribute %s", s.SpanKind, s.Name, old)
			}
		}
		switch s.SpanKind {
		case trace.SpanKindServer:
			if a["url.path"].AsString() != logsPath {
				if s.Name != "GET" {
					t.Errorf("the unmatched request's span is named %q, want the method alone", s.Name)
				}
				unmatched = true
				continue
			}
			server = s.SpanContext
			if s.Name != "GET "+LogsRoute || a["http.route"].AsString() != LogsRoute {
				t.Errorf("server span named %q with http.route %q", s.Name, a["http.route"].AsString())
			}
			if a["http.request.method"].AsString() != "GET" || a["http.response.status_code"].AsInt64() != 200 {
				t.Errorf("server span attributes %v", s.Attributes)
			}
		case trace.SpanKindClient:
			clients++
			if a["http.request.method"].AsString() != "POST" || a["http.response.status_code"].AsInt64() != 200 {
				t.Errorf("client span attributes %v", s.Attributes)
			}
		}
	}
	if !server.IsValid() || !unmatched || clients != 3 {
		t.Fatalf("want a server span for the route, one unmatched, and 3 upstream client spans; got %v, %v and %d clients", server.IsValid(), unmatched, clients)
	}
	for _, s := range exp.GetSpans() {
		if s.SpanKind == trace.SpanKindClient && s.SpanContext.TraceID() != server.TraceID() {
			t.Errorf("upstream span %q is not in the request's trace", s.Name)
		}
	}
}

// On shutdown, /readyz fails first while the API keeps serving for the
// drain delay, answering from the cache but making no new upstream call;
// then the API stops accepting.
func TestShutdownDrainsFirst(t *testing.T) {
	env := startProxy(t, func(c *Config) { c.DrainDelay = new(time.Hour) })
	drain := make(chan time.Duration, 1)
	release := make(chan time.Time)
	env.proxy.drainWait = func(d time.Duration) <-chan time.Time {
		drain <- d
		return release
	}
	api, admin := listen(t), listen(t)
	base, adminBase := "http://"+api.Addr().String(), "http://"+admin.Addr().String()
	cancel, served := startServe(env, api, admin)
	tok := env.token(t, "usr_morgan_de")
	window := fixedWindow()
	if r := getURL(t, base+logsPath+"?limit=1"+window, tok); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}

	cancel()
	select {
	case d := <-drain:
		if d != time.Hour {
			t.Errorf("drained for %s, want the configured hour", d)
		}
	case err := <-served:
		t.Fatalf("Serve returned without draining: %v", err)
	}
	if r := getURL(t, adminBase+"/readyz", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d", r.status)
	}
	calls := upstreamCalls(env)
	if r := getURL(t, base+logsPath+"?limit=1"+window, tok); r.status != 200 || r.header.Get("X-Cache") != "HIT" {
		t.Errorf("a cached answer while draining: %d X-Cache %q", r.status, r.header.Get("X-Cache"))
	}
	miss := getURL(t, base+logsPath+"?limit=5"+window, tok)
	assertEnvelope(t, miss, http.StatusServiceUnavailable, translate.CodeUpstreamDown)
	wantRetryAfter(t, miss)
	if got := upstreamCalls(env); got != calls {
		t.Errorf("%d upstream calls while draining", got-calls)
	}

	close(release)
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if c, err := net.Dial("tcp", api.Addr().String()); err == nil {
		c.Close()
		t.Error("the API still accepts connections after the drain")
	}
}

// Both listeners close keep-alive connections that stay idle.
func TestIdleConnectionsAreClosed(t *testing.T) {
	env := startProxy(t, nil)
	env.proxy.idleTimeout = 100 * time.Millisecond
	api, admin := listen(t), listen(t)
	cancel, served := startServe(env, api, admin)
	defer func() {
		cancel()
		t.Logf("Serve ended: %v", <-served)
	}()
	t.Run("admin", func(t *testing.T) { testenv.AssertClosesIdle(t, admin.Addr().String(), "/healthz") })
	t.Run("api", func(t *testing.T) { testenv.AssertClosesIdle(t, api.Addr().String(), logsPath) })
}

// Shutdown lets a request in flight finish, and readiness fails first.
// The request's upstream call is held until shutdown has begun, so that
// it is in flight then whatever the machine's speed. It is the request's
// only call (stats=false): a call not yet sent when draining begins is
// never sent (TestQueuedWaitersAtDrain).
func TestGracefulShutdown(t *testing.T) {
	called, release := make(chan struct{}, 1), make(chan struct{})
	env := startProxyWith(t, nil, Options{Transport: heldTransport{next: http.DefaultTransport, called: called, release: release}})
	draining := make(chan struct{})
	env.proxy.drainWait = func(d time.Duration) <-chan time.Time {
		close(draining)
		return time.After(d)
	}
	base, stop := serveUntil(t, env)

	req, _ := http.NewRequest(http.MethodGet, base+logsPath+"?stats=false", nil)
	req.Header.Set("Authorization", "Bearer "+env.token(t, "usr_morgan_de"))
	result := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			result <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	<-called // the request is waiting on the upstream
	served := make(chan error, 1)
	go func() { served <- stop() }()
	<-draining
	if code, _ := scrape(t, env.proxy.AdminHandler(), "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d", code)
	}
	close(release)
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

// heldTransport tells called of each upstream call, and holds it until
// release is closed.
type heldTransport struct {
	next            http.RoundTripper
	called, release chan struct{}
}

func (h heldTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case h.called <- struct{}{}:
	default:
	}
	<-h.release
	return h.next.RoundTrip(r)
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
