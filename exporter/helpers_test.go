package exporter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mudscf/mudscf/translate"
)

// fakeLogs is a Mudbase logs endpoint in memory, answering as the proxy
// does: newest first, windows inclusive at whole seconds, 400 when since is
// after until. Every function has the same executions (IDs prefixed with
// the function): n of them, one each `every` from first, each visible once
// it has finished, a second after its start. Its clock is time.Now, which
// is the bubble's fake clock under synctest.
type fakeLogs struct {
	first time.Time
	every time.Duration
	n     int
	// edit, if set, changes execution i before it is served.
	edit func(i int, x *translate.Execution)
	// latency is how long each answer takes.
	latency time.Duration

	mu sync.Mutex
	// status, when set, answers every request with it (and Retry-After
	// retryAfter on a 429).
	status     int
	retryAfter string
	// script, if set, decides the status of each request by its number
	// (0: answer normally), before status.
	script func(call int) (status int, retryAfter string)
	// down holds the functions whose requests fail (502) for now.
	down  map[string]bool
	calls []fakeCall
}

func (f *fakeLogs) setDown(function string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[function] = down
}

type fakeCall struct {
	at       time.Time
	function string
	query    string
}

func (f *fakeLogs) setStatus(status int, retryAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.retryAfter = status, retryAfter
}

// requests returns the requests so far.
func (f *fakeLogs) requests() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// callTimes returns when each request arrived.
func (f *fakeLogs) callTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Time, len(f.calls))
	for i, c := range f.calls {
		out[i] = c.at
	}
	return out
}

func (f *fakeLogs) execution(function string, i int) translate.Execution {
	start := f.first.Add(time.Duration(i) * f.every)
	at := translate.FormatMudbaseTime(start)
	x := translate.Execution{
		ExecutedAt: &at, ExecutionTime: 250, Success: true, RequestID: fmt.Sprintf("%s-%06d", function, i),
		FunctionName: "fn-" + function, BilledDurationMs: new(int64(300)), MemoryUsageBytes: 32 << 20,
	}
	if i%5 == 4 {
		x.Success, x.RetCode, x.Error = false, 433, "Invoking task timed out after 3 seconds"
	}
	if f.edit != nil {
		f.edit(i, &x)
	}
	return x
}

// visible is how many executions have finished by now.
func (f *fakeLogs) visible(now time.Time) int {
	if now.Before(f.first.Add(time.Second)) {
		return 0
	}
	return min(f.n, int(now.Sub(f.first.Add(time.Second))/f.every)+1)
}

func (f *fakeLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	parts := strings.Split(r.URL.Path, "/")
	if parts[len(parts)-1] == "executions" {
		// The proxy's project route, for a getFunctionLogs project: read
		// one function at a time. Not one of the calls tests count.
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"success":false,"error":"per function","code":"PER_FUNCTION_SOURCE","account":"acct","callsPerSecond":5}`)
		return
	}
	function := parts[len(parts)-2]
	f.mu.Lock()
	status, retryAfter := f.status, f.retryAfter
	if f.script != nil {
		status, retryAfter = f.script(len(f.calls))
	}
	if f.down[function] {
		status = http.StatusBadGateway
	}
	f.calls = append(f.calls, fakeCall{at: now, function: function, query: r.URL.RawQuery})
	f.mu.Unlock()
	time.Sleep(f.latency)
	if status != 0 {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"success":false,"error":"injected","code":"INJECTED"}`)
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	var in []translate.Execution
	lo, hi := time.Time{}, now
	if s := q.Get("since"); s != "" {
		since, err1 := time.Parse(time.RFC3339, s)
		until, err2 := time.Parse(time.RFC3339, q.Get("until"))
		if err1 != nil || err2 != nil || since.After(until) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"success":false,"error":"since must not be after until","code":"INVALID_PARAMETER"}`)
			return
		}
		lo, hi = since, until.Add(time.Second-1)
	}
	for i := f.visible(now) - 1; i >= 0; i-- {
		start := f.first.Add(time.Duration(i) * f.every)
		if !start.Before(lo) && !start.After(hi) {
			in = append(in, f.execution(function, i))
		}
	}
	page := in[min(offset, len(in)):]
	page = page[:min(limit, len(page))]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(translate.NewLogsResponse(page, translate.Stats{TotalExecutions: int64(len(in))}))
}

// fakeConfig is a validated configuration for functions a, b, … against an
// in-memory endpoint, authenticated by a token variable.
func fakeConfig(t *testing.T, functions ...string) Config {
	t.Helper()
	t.Setenv("EXPORTER_TEST_TOKEN", "x")
	// One request at a time: the tests of timing and order count them.
	cfg := Config{Endpoint: "http://logs.invalid", Auth: AuthConfig{TokenEnv: "EXPORTER_TEST_TOKEN"}, Concurrency: 1}
	for _, fn := range functions {
		cfg.Functions = append(cfg.Functions, FunctionConfig{Project: "p", Function: fn})
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// bufferLogger logs as text into a buffer; only for tests that log from
// one goroutine.
func bufferLogger() (*slog.Logger, *bytes.Buffer) {
	buf := &bytes.Buffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

// scrape returns the exporter's /metrics text.
func scrape(t *testing.T, e *Exporter) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// readyz returns /readyz's status code.
func readyz(e *Exporter) int {
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code
}

// executionsOf sums a function's execution counter over all its series.
func executionsOf(t *testing.T, e *Exporter, project, function string) float64 {
	t.Helper()
	var n float64
	for _, c := range collectCounter(t, e, "mudscf_function_executions_total") {
		if c.labels["project"] == project && c.labels["function"] == function {
			n += c.value
		}
	}
	return n
}

// sampleOf sums the series of one metric family whose labels include
// labels.
func sampleOf(t *testing.T, e *Exporter, name string, labels map[string]string) float64 {
	t.Helper()
	var n float64
	for _, s := range collectCounter(t, e, name) {
		match := true
		for k, v := range labels {
			match = match && s.labels[k] == v
		}
		if match {
			n += s.value
		}
	}
	return n
}

type sample struct {
	labels map[string]string
	value  float64
}

// collectCounter reads every series of one metric family from the registry.
func collectCounter(t *testing.T, e *Exporter, name string) []sample {
	t.Helper()
	families, err := prometheus.Gatherers{e.metrics.registry, stateGatherer{e.state}}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			s := sample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				s.value = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				s.value = m.GetGauge().GetValue()
			}
			out = append(out, s)
		}
	}
	return out
}

func containsLine(body, line string) bool {
	for l := range strings.Lines(body) {
		if strings.TrimSuffix(l, "\n") == line {
			return true
		}
	}
	return false
}

// stateGatherer gathers the state's families as /metrics writes them.
type stateGatherer struct{ c *stateCollector }

func (g stateGatherer) Gather() ([]*dto.MetricFamily, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(g.c); err != nil {
		return nil, err
	}
	return reg.Gather()
}

// roundsSaved runs n rounds of e, each followed by a save (as Run makes
// them) and by the interval, on the bubble's clock.
func roundsSaved(t *testing.T, e *Exporter, n int) {
	t.Helper()
	for range n {
		e.Round(t.Context())
		if err := e.save(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(e.cfg.Interval)
	}
}
