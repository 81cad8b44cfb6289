package exporter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/proxy"
)

const (
	testProject   = "proj_AsIu33tafZGe"
	testSecretID  = "AKIDexporterTest0000000000000001"
	testSecretKey = "exporter-test-secret-key-000001"
	testJWTSecret = "exporter-test-jwt-secret-0123456789abcdef"
)

// stack is a simulator with finite functions, the proxy in front of it,
// and an exporter configuration pointing at the proxy, all in-process for
// a test inside a synctest bubble (inStack): rounds, outages and the
// functions' runs are on the bubble's clock, and the simulator's and the
// proxy's work takes none of it, however slow the machine.
type stack struct {
	sim     *tencentsim.Simulator
	proxy   http.Handler
	fns     []tencentsim.Function
	ids     []string
	cfg     Config
	origin  time.Time
	stopsAt time.Time
}

// inStack runs test in a synctest bubble, a week after its clock starts:
// it starts at 2000-01-01, Mudbase's earliest instant, before which no
// window may begin.
func inStack(t *testing.T, test func(t *testing.T)) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(7 * 24 * time.Hour)
		test(t)
	})
}

// newStack runs functions at the given rates that stop after run.
func newStack(t *testing.T, run time.Duration, rates ...float64) *stack {
	t.Helper()
	origin := time.Now().Add(-time.Second)
	st := &stack{origin: origin, stopsAt: origin.Add(run)}
	simCfg := tencentsim.DefaultConfig()
	simCfg.Accounts = []tencentsim.Account{{SecretID: testSecretID, SecretKey: testSecretKey}}
	simCfg.Origin = origin
	functions := map[string]proxy.FunctionConfig{}
	for i, r := range rates {
		name := "fn-" + string(rune('a'+i))
		st.fns = append(st.fns, tencentsim.Function{Name: name, RatePerSecond: r, Until: st.stopsAt, TimeoutMs: 1000})
		id := "65a4f0c2e4b0a1b2c3d4e5f" + string(rune('0'+i))
		st.ids = append(st.ids, id)
		functions[id] = proxy.FunctionConfig{Name: name}
		st.cfg.Functions = append(st.cfg.Functions, FunctionConfig{Project: testProject, Function: id, Region: "ap-guangzhou", Qualifier: "$LATEST"})
	}
	simCfg.Functions = st.fns
	sim, err := tencentsim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	st.sim = sim

	st.proxy = startProxy(t, sim, map[string]proxy.ProjectConfig{testProject: {Region: "ap-guangzhou", Credentials: testCredentials, Functions: functions}})

	st.cfg.Endpoint = "http://mudscf.test"
	st.cfg.Auth = AuthConfig{JWTSecretEnv: "EXPORTER_TEST_JWT"}
	st.cfg.Overlap = 5 * time.Second // longer than the 1 s timeout of every function
	st.cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
	st.cfg.ApplyDefaults()
	if err := st.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// Validate's floor: several rounds in the functions' few seconds of
	// life. (Below it, a round that ends within the second after its
	// window's end finds a backlog, and on a bubble's clock, which stands
	// still while the exporter works, it would find one forever.)
	st.cfg.Interval = time.Second
	return st
}

// testCredentials are the simulator's account, from variables startProxy
// sets.
var testCredentials = upstream.CredentialsConfig{SecretIDEnv: "EXPORTER_TEST_ID", SecretKeyEnv: "EXPORTER_TEST_KEY"}

// startProxy is a proxy serving projects from sim, both in-process (SCF
// and CLS on one host), for a test in a synctest bubble; it accepts
// tokens of testJWTSecret, from EXPORTER_TEST_JWT.
func startProxy(t *testing.T, sim *tencentsim.Simulator, projects map[string]proxy.ProjectConfig) http.Handler {
	t.Helper()
	t.Setenv("EXPORTER_TEST_JWT", testJWTSecret)
	t.Setenv("EXPORTER_TEST_ID", testSecretID)
	t.Setenv("EXPORTER_TEST_KEY", testSecretKey)
	pcfg := proxy.Config{
		Upstream: upstream.Config{Endpoint: testenv.InProcessHost, CLSEndpoint: testenv.InProcessHost, Scheme: "http", Timeout: 2 * time.Second},
		JWT:      jwtauth.Config{Algorithms: []string{"HS256"}, SecretEnv: "EXPORTER_TEST_JWT"},
		Projects: projects,
	}
	pcfg.ApplyDefaults()
	if err := pcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := proxy.New(ctx, pcfg, proxy.Options{Transport: testenv.HandlerTransport{Handler: sim}})
	if err != nil {
		t.Fatal(err)
	}
	return p.Handler()
}

// exporter is an exporter of the stack's configuration, reaching its proxy
// in-process.
func (s *stack) exporter(t *testing.T, opts Options) *Exporter {
	t.Helper()
	opts.Transport = testenv.HandlerTransport{Handler: s.proxy}
	e, err := New(s.cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// truth is the simulator's count of the function's executions.
func (s *stack) truth(i int) int {
	return len(s.sim.Executions("ap-guangzhou", "default", s.fns[i].Name, s.origin.Add(-time.Minute), s.stopsAt.Add(time.Minute)))
}

// counted is the function's executions as the exporter holds them (a
// scrape's figure: see TestSeriesPrecreated).
func counted(e *Exporter, functionID string) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n float64
	if f := e.fns[testProject+"/"+functionID]; f != nil {
		for _, c := range f.counts {
			n += c
		}
	}
	return n
}

// runUntil runs the exporter until every function's counter equals the
// ground truth once all executions have finished, then one round more (so
// an over-count would show), or until the deadline.
func (s *stack) runUntil(t *testing.T, e *Exporter, deadline time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	settled := s.stopsAt.Add(2 * time.Second) // every execution has finished
	for end := time.Now().Add(deadline); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if time.Now().Before(settled) {
			continue
		}
		all := true
		for i, id := range s.ids {
			all = all && counted(e, id) == float64(s.truth(i))
		}
		if all {
			time.Sleep(3 * s.cfg.Interval)
			return
		}
	}
}

func (s *stack) assertExact(t *testing.T, e *Exporter) {
	t.Helper()
	for i, id := range s.ids {
		want := s.truth(i)
		if want == 0 {
			t.Fatalf("%s generated nothing; the test proves nothing", s.fns[i].Name)
		}
		if got := counted(e, id); got != float64(want) {
			t.Errorf("%s: exported %v executions, the simulator generated %d", s.fns[i].Name, got, want)
		}
	}
}

func TestCountsMatchGroundTruth(t *testing.T) { inStack(t, testCountsMatchGroundTruth) }

func testCountsMatchGroundTruth(t *testing.T) {
	s := newStack(t, 4*time.Second, 12, 3)
	e := s.exporter(t, Options{})
	s.runUntil(t, e, 30*time.Second)
	s.assertExact(t, e)
}

// A restart mid-run neither drops nor re-counts: the second exporter
// continues the first one's counters from the checkpoint.
func TestCountsSurviveRestart(t *testing.T) { inStack(t, testCountsSurviveRestart) }

func testCountsSurviveRestart(t *testing.T) {
	s := newStack(t, 5*time.Second, 12, 3)
	first := s.exporter(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := first.Run(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	before := counted(first, s.ids[0])
	if before == 0 {
		t.Fatal("the first exporter counted nothing before its restart")
	}

	second := s.exporter(t, Options{})
	if got := counted(second, s.ids[0]); got != before {
		t.Fatalf("after the restart the counter starts at %v, want %v", got, before)
	}
	s.runUntil(t, second, 30*time.Second)
	s.assertExact(t, second)
}

// The simulator failing for twice the overlap, through the proxy, is
// caught up afterwards. (TestCatchUpAfterLongOutage has half an hour
// against a fake clock.)
func TestCountsCatchUpAfterOutage(t *testing.T) { inStack(t, testCountsCatchUpAfterOutage) }

func testCountsCatchUpAfterOutage(t *testing.T) {
	s := newStack(t, 14*time.Second, 6, 2)
	e := s.exporter(t, Options{})
	go func() {
		time.Sleep(2 * time.Second)
		s.sim.SetFaults(tencentsim.Faults{HTTPStatus: http.StatusBadGateway})
		time.Sleep(2 * s.cfg.Overlap)
		s.sim.SetFaults(tencentsim.Faults{})
	}()
	s.runUntil(t, e, 60*time.Second)
	s.assertExact(t, e)
	if n := sampleOf(t, e, "mudscf_exporter_polls_total", map[string]string{"function": s.ids[0], "result": "error"}); n == 0 {
		t.Error("no failed polls were recorded during the outage")
	}
}

// Spans carry each execution's real start, end, status and attributes,
// and their IDs come from the requestId, so exporting again makes no new
// span IDs.
func TestSpans(t *testing.T) { inStack(t, testSpans) }

func testSpans(t *testing.T) {
	s := newStack(t, 2*time.Second, 10)
	time.Sleep(time.Until(s.stopsAt.Add(1500 * time.Millisecond)))
	mem := tracetest.NewInMemoryExporter()
	processor := sdktrace.NewSimpleSpanProcessor(mem)
	s.cfg.Checkpoint = ""
	e := s.exporter(t, Options{SpanProcessor: processor})
	e.Round(context.Background())
	spans := mem.GetSpans()
	truth := s.sim.Executions("ap-guangzhou", "default", "fn-a", s.origin.Add(-time.Minute), s.stopsAt)
	if len(spans) != len(truth) || len(truth) == 0 {
		t.Fatalf("%d spans for %d executions", len(spans), len(truth))
	}
	byID := map[string]tencentsim.Execution{}
	for _, x := range truth {
		byID[x.Log.RequestId] = x
	}
	for _, sp := range spans {
		attrs := map[attribute.Key]attribute.Value{}
		for _, a := range sp.Attributes {
			attrs[a.Key] = a.Value
		}
		id := attrs["faas.invocation_id"].AsString()
		x, ok := byID[id]
		if !ok {
			t.Fatalf("span for unknown invocation %q", id)
		}
		// The upstream reports seconds; the span starts in that second.
		if !sp.StartTime.Equal(x.Start.Truncate(time.Second)) {
			t.Errorf("%s starts %s, the execution started %s", id, sp.StartTime, x.Start)
		}
		wantDur := time.Duration(int64(x.Log.Duration+0.5)) * time.Millisecond
		if got := sp.EndTime.Sub(sp.StartTime); got != wantDur {
			t.Errorf("%s lasts %s, want %s", id, got, wantDur)
		}
		failed := x.Log.RetCode != 0 || x.Log.InvokeFinished != 1
		if (sp.Status.Code == codes.Error) != failed {
			t.Errorf("%s: status %v for RetCode %d", id, sp.Status, x.Log.RetCode)
		}
		for key, want := range map[attribute.Key]string{
			"faas.name": "fn-a", "cloud.provider": "tencent_cloud", "cloud.platform": "tencent_cloud_scf",
			"cloud.region": "ap-guangzhou", "faas.version": "$LATEST", "mudscf.project_id": testProject, "mudscf.function_id": s.ids[0],
		} {
			if got := attrs[key].AsString(); got != want {
				t.Errorf("%s: %s = %q, want %q", id, key, got, want)
			}
		}
		if _, guessed := attrs["faas.trigger"]; guessed {
			t.Errorf("%s: faas.trigger set without upstream data", id)
		}
		if _, invented := attrs["faas.retry_count"]; invented || attrs["mudscf.retry_count"].Type() != attribute.INT64 {
			t.Errorf("%s: the retry count is not mudscf.retry_count: %v", id, sp.Attributes)
		}
		wantType := map[int64]string{430: "error", 433: "timeout", 434: "out_of_memory"}[x.Log.RetCode]
		if x.Log.RetCode == 0 && x.Log.InvokeFinished != 1 {
			wantType = "unfinished"
		}
		if got := attrs["error.type"].AsString(); got != wantType {
			t.Errorf("%s: error.type %q for RetCode %d, want %q", id, got, x.Log.RetCode, wantType)
		}
		res := sp.Resource.Set()
		for key, want := range map[attribute.Key]string{"service.name": "fn-a", "service.namespace": testProject, "faas.name": "fn-a", "mudscf.function_id": s.ids[0], "cloud.region": "ap-guangzhou"} {
			if got, _ := res.Value(key); got.AsString() != want {
				t.Errorf("%s: resource %s = %q, want %q", id, key, got.AsString(), want)
			}
		}
		wantTrace, wantSpan := idsFor(id)
		if sp.SpanContext.TraceID() != wantTrace || sp.SpanContext.SpanID() != wantSpan {
			t.Errorf("%s: IDs not derived from the requestId", id)
		}
	}

	// The same exporter re-polling: nothing new. A fresh one (no state):
	// the same spans again, with the same IDs.
	e.Round(context.Background())
	if n := len(mem.GetSpans()); n != len(spans) {
		t.Errorf("re-polling emitted %d more spans", n-len(spans))
	}
	fresh := s.exporter(t, Options{SpanProcessor: processor})
	fresh.Round(context.Background())
	ids := map[string]bool{}
	for _, sp := range mem.GetSpans() {
		ids[sp.SpanContext.SpanID().String()] = true
	}
	if len(ids) != len(spans) {
		t.Errorf("exporting the same executions twice made %d distinct span IDs, want %d", len(ids), len(spans))
	}
}

// promtool accepts the exporter's metrics: scraped in a bubble, checked
// outside it (promtool is a process of its own).
func TestPromtoolAcceptsMetrics(t *testing.T) {
	testenv.Tool(t, "promtool", "Debian: apt-get install prometheus")
	var metrics string
	inStack(t, func(t *testing.T) {
		s := newStack(t, time.Second, 10)
		time.Sleep(time.Until(s.stopsAt.Add(1500 * time.Millisecond)))
		s.cfg.Checkpoint = ""
		e := s.exporter(t, Options{})
		e.Round(context.Background())
		metrics = scrape(t, e)
	})
	if !strings.Contains(metrics, "mudscf_function_executions_total{") {
		t.Fatal("no execution metrics to check")
	}
	testenv.CheckMetrics(t, metrics)
}

// Against an endpoint whose executions carry no requestId, the same record
// served twice is counted once (by its content hash), and a different
// record is counted too.
func TestDedupeWithoutRequestIDs(t *testing.T) {
	now := time.Now().UTC().Add(-10 * time.Second).Format("2006-01-02T15:04:05.000Z")
	body := `{"success":true,"data":{"executions":[
		{"executedAt":"` + now + `","executionTime":125,"success":true,"result":{"processed":1}},
		{"executedAt":"` + now + `","executionTime":0,"success":false,"error":"Timeout"}
	],"stats":{"totalExecutions":2,"successful":1,"failed":1,"successRate":50,"avgExecutionTime":62,"lastRun":"` + now + `"}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/logs") {
			http.NotFound(w, r) // a Mudbase endpoint: no project route
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	t.Setenv("EXPORTER_TEST_TOKEN", "x")
	cfg := Config{Endpoint: srv.URL, Auth: AuthConfig{TokenEnv: "EXPORTER_TEST_TOKEN"},
		Functions: []FunctionConfig{{Project: "p", Function: "f"}}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.Round(context.Background())
	}
	ok := sampleOf(t, e, "mudscf_function_executions_total", map[string]string{"function": "f", "outcome": "success"})
	failed := sampleOf(t, e, "mudscf_function_executions_total", map[string]string{"function": "f", "outcome": "timeout"})
	if ok != 1 || failed != 1 {
		t.Errorf("counted %v successes and %v failures from two records served three times", ok, failed)
	}
	if r := collectCounter(t, e, "mudscf_function_window_success_ratio"); len(r) != 1 || r[0].value != 0.5 {
		t.Errorf("success ratio gauge %v, want 0.5", r)
	}
}

// Scraped as OpenMetrics, the duration histogram carries exemplars whose
// trace_id is the trace of an exported execution span: a latency spike
// on a dashboard leads to the executions behind it. The text format has
// none.
func TestOpenMetricsExemplarsAreSpans(t *testing.T) { inStack(t, testOpenMetricsExemplarsAreSpans) }

func testOpenMetricsExemplarsAreSpans(t *testing.T) {
	s := newStack(t, 2*time.Second, 10)
	time.Sleep(time.Until(s.stopsAt.Add(1500 * time.Millisecond)))
	mem := tracetest.NewInMemoryExporter()
	s.cfg.Checkpoint = ""
	e := s.exporter(t, Options{SpanProcessor: sdktrace.NewSimpleSpanProcessor(mem)})
	e.Round(context.Background())
	traces := map[string]bool{}
	for _, sp := range mem.GetSpans() {
		traces[sp.SpanContext.TraceID().String()] = true
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8")
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("Content-Type %q for an OpenMetrics scrape", ct)
	}
	exemplar := regexp.MustCompile(`^mudscf_function_execution_duration_seconds_bucket\{[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\} [0-9.e+-]+`)
	found := 0
	for line := range strings.Lines(rec.Body.String()) {
		if m := exemplar.FindStringSubmatch(line); m != nil {
			found++
			if !traces[m[1]] {
				t.Errorf("exemplar trace_id %s is no exported span's trace", m[1])
			}
		}
	}
	if found == 0 || len(traces) == 0 {
		t.Fatalf("%d exemplars for %d spans:\n%s", found, len(traces), grepLines(rec.Body.String(), "duration_seconds_bucket"))
	}
	if text := scrape(t, e); strings.Contains(text, `# {trace_id=`) {
		t.Error("the text format carries exemplars")
	}
}
