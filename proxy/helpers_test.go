package proxy

// Scaffolding every test file of the package shares: the proxy in front of
// a simulator, its configuration, requests, and reading its metrics.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

const (
	testJWTSecret = "jwt-secret-for-tests-only-0123456789abcdef"
	testProject   = "proj_AsIu33tafZGe"
	testFunction  = "MVPQVsgjuHBlvWFB"
	otherFunction = "65a4f0c2e4b0a1b2c3d4e5f6"
	logsPath      = "/api/functions/projects/" + testProject + "/functions/" + testFunction + "/logs"
)

// proxyEnv is a proxy in front of a simulator, both over real HTTP on
// loopback, or both in-process (inside a synctest bubble).
type proxyEnv struct {
	sim    *testenv.Simulator
	proxy  *Server
	url    string
	client *http.Client // reaches url; the suite's witness reads it
	logs   *testenv.SyncBuffer
	secret []byte
}

// testConfig serves testProject with two functions. tweak adjusts it.
func testConfig(simHost string, tweak func(*Config)) Config {
	cfg := Config{
		DrainDelay: new(time.Duration(0)),
		Upstream:   upstream.Config{Endpoint: simHost, Scheme: "http", Timeout: 2 * time.Second},
		JWT:        jwtauth.Config{Algorithms: []string{"HS256"}, SecretEnv: "MUDSCF_TEST_JWT_SECRET"},
		Budget:     budget.Config{MaxWait: time.Second},
		Projects: map[string]ProjectConfig{testProject: {
			Region:      "ap-guangzhou",
			Credentials: upstream.CredentialsConfig{SecretIDEnv: "MUDSCF_TEST_SECRET_ID", SecretKeyEnv: "MUDSCF_TEST_SECRET_KEY"},
			Readers:     jwtauth.Readers{Subjects: []string{"usr_morgan_de"}, Roles: []string{"admin"}},
			// Memory sizes configured: no GetFunction lookups, whose calls
			// would mix with the GetFunctionLogs calls tests count.
			Functions: map[string]FunctionConfig{
				testFunction:  {Name: "APITest", MemorySizeMB: 256},
				otherFunction: {Name: "orders-webhook", MemorySizeMB: 512},
			},
		}},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	return cfg
}

func startProxy(t testing.TB, tweak func(*Config)) *proxyEnv {
	t.Helper()
	return startProxyWith(t, tweak, Options{})
}

func startProxyWith(t testing.TB, tweak func(*Config), opts Options) *proxyEnv {
	t.Helper()
	return startProxyOn(t, simulateTestFunctions(t, 1), tweak, opts)
}

// simulateTestFunctions runs the functions of testConfig, their usual
// rates divided by slower.
func simulateTestFunctions(t testing.TB, slower float64) *testenv.Simulator {
	t.Helper()
	return testenv.StartSimulator(t, nil, tencentsim.Function{Name: "APITest", RatePerSecond: 0.2 / slower},
		tencentsim.Function{Name: "orders-webhook", RatePerSecond: 0.05 / slower})
}

// simulateInBubble is simulateTestFunctions in-process, for a test inside a
// synctest bubble: the simulator's work takes no time on the bubble's
// clock, however slow the machine. The bubble's clock starts at
// 2000-01-01, Mudbase's earliest instant, and the simulator's executions a
// week before its start: both move on a week first.
func simulateInBubble(t testing.TB, slower float64) *testenv.Simulator {
	t.Helper()
	time.Sleep(8 * 24 * time.Hour)
	return testenv.NewSimulator(t, nil, tencentsim.Function{Name: "APITest", RatePerSecond: 0.2 / slower},
		tencentsim.Function{Name: "orders-webhook", RatePerSecond: 0.05 / slower})
}

// startProxyOn puts a proxy in front of a running simulator; several
// proxies on one simulator are replicas sharing its accounts. On an
// in-process simulator (NewSimulator) the proxy is in-process too: its
// upstream calls go to the simulator's handler (or opts.Transport, which
// must reach it) and env.client to its own.
func startProxyOn(t testing.TB, sim *testenv.Simulator, tweak func(*Config), opts Options) *proxyEnv {
	t.Helper()
	inProcess := sim.Server == nil
	if inProcess && opts.Transport == nil {
		opts.Transport = testenv.HandlerTransport{Handler: sim}
	}
	cfg := testConfig(sim.Host, tweak)
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	opts.Logger = testLogger("the proxy's log", logs)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := New(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	env := &proxyEnv{sim: sim, proxy: p, client: http.DefaultClient, logs: logs, secret: []byte(testJWTSecret)}
	if inProcess {
		env.url = "http://mudscf.test"
		env.client = &http.Client{Transport: suiteWitness.Transport(testenv.HandlerTransport{Handler: p.Handler()})}
	} else {
		srv := httptest.NewServer(p.Handler())
		t.Cleanup(srv.Close)
		env.url = srv.URL
	}
	t.Cleanup(func() {
		for _, secret := range []string{testenv.SecretKey, testJWTSecret} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a secret appeared in the logs")
			}
		}
	})
	return env
}

func (e *proxyEnv) token(t testing.TB, sub string, roles ...string) string {
	t.Helper()
	tok, err := jwtauth.MintToken(e.secret, jwtauth.Config{ProjectsClaim: "projects", RolesClaim: "roles"},
		jwtauth.TokenClaims{Subject: sub, Roles: roles, TTL: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *proxyEnv) get(t *testing.T, path, token string) response {
	t.Helper()
	return doWith(t, e.client, http.MethodGet, e.url+path, token)
}

// getURL GETs a full URL, with the token when there is one.
func getURL(t *testing.T, url, token string) response {
	t.Helper()
	return do(t, http.MethodGet, url, token)
}

// do sends a request without a body to a full URL, with the token when
// there is one.
func do(t *testing.T, method, url, token string) response {
	t.Helper()
	return doWith(t, http.DefaultClient, method, url, token)
}

// doWith is do through client.
func doWith(t *testing.T, client *http.Client, method, url, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, client, req)
}

// send sends req through client and reads the whole answer.
func send(t *testing.T, client *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// No secret check here: suiteWitness reads every response of
	// http.DefaultClient and of an in-process env's client.
	return response{resp.StatusCode, resp.Header, body}
}

// assertEnvelope checks a Mudbase error envelope.
func assertEnvelope(t *testing.T, r response, status int, code string) translate.ErrorBody {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var body translate.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("not the error envelope: %v: %s", err, r.body)
	}
	if body.Success || body.Code != code || body.Error == "" {
		t.Errorf("envelope %+v, want code %s", body, code)
	}
	return body
}

// upstreamCalls counts every GetFunctionLogs call the simulator received
// from the test account, whatever it answered.
func upstreamCalls(env *proxyEnv) int64 {
	t := env.sim.Truth()
	return t.TotalAccepted[testenv.SecretID] + t.TotalRejected[testenv.SecretID] + t.TotalFaulted[testenv.SecretID]
}

// metric reads one sample of the proxy's /metrics.
func metric(t *testing.T, env *proxyEnv, series string) float64 {
	t.Helper()
	_, body := scrape(t, env.proxy.AdminHandler(), "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", series)
	return 0
}

func wantRetryAfter(t *testing.T, r response) {
	t.Helper()
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("%d with Retry-After %q, want whole seconds >= 1", r.status, r.header.Get("Retry-After"))
	}
}

// serve runs the proxy's real servers (Serve) on loopback until the test
// ends, and returns the API's base URL.
func serve(t *testing.T, env *proxyEnv) string {
	t.Helper()
	base, stop := serveUntil(t, env)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return base
}

// serveUntil runs the proxy's real servers on loopback, and returns the
// API's base URL and a stop that shuts them down and returns Serve's
// error.
func serveUntil(t *testing.T, env *proxyEnv) (base string, stop func() error) {
	t.Helper()
	api := listen(t)
	cancel, served := startServe(env, api, listen(t))
	return "http://" + api.Addr().String(), func() error {
		cancel()
		return <-served
	}
}

// startServe runs Serve on api and admin until cancel; served has its
// result.
func startServe(env *proxyEnv, api, admin net.Listener) (cancel context.CancelFunc, served <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- env.proxy.Serve(ctx, api, admin) }()
	return cancel, result
}

// listen opens a loopback listener on a free port.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func scrape(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	suiteWitness.See("the admin endpoint "+path, rec.Body.Bytes())
	return rec.Code, rec.Body.String()
}

// fixedWindow pins since and until: the default window follows the clock,
// and a load test must not straddle one of its alignment steps.
func fixedWindow() string {
	until := time.Now().Truncate(time.Second)
	return "&since=" + until.Add(-time.Hour).UTC().Format(time.RFC3339) + "&until=" + until.UTC().Format(time.RFC3339)
}

// getStatus GETs path from env and returns the status, checking a 429's
// Retry-After.
func (e *proxyEnv) getStatus(t *testing.T, path, token string) int {
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
		}
	}
	return resp.StatusCode
}

func sumValues(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// redisPair is two proxies (replicas) on one simulator and one Redis.
func redisPair(t *testing.T, r *testenv.Redis, tweak func(*Config)) (*testenv.Simulator, [2]*proxyEnv) {
	t.Helper()
	sim := testenv.StartSimulator(t, nil)
	return sim, redisPairOn(t, sim, r, tweak)
}

// redisPairOn is two replicas on sim and one Redis.
func redisPairOn(t *testing.T, sim *testenv.Simulator, r *testenv.Redis, tweak func(*Config)) [2]*proxyEnv {
	t.Helper()
	var pair [2]*proxyEnv
	for i := range pair {
		pair[i] = startProxyOn(t, sim, func(cfg *Config) {
			// A generous timeout: the race detector on a busy machine
			// slows Redis answers past the default.
			cfg.Redis = &redisstore.Config{URL: r.URL(), Replicas: 2, DialTimeout: time.Second, OpTimeout: time.Second}
			if tweak != nil {
				tweak(cfg)
			}
		}, Options{})
	}
	return pair
}

// testLogger is the logger of every component a test builds: JSON at
// debug level, each line read by the witness, and also written to extra.
func testLogger(where string, extra ...io.Writer) *slog.Logger {
	out := io.MultiWriter(append([]io.Writer{suiteWitness.Writer(where)}, extra...)...)
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// readFromCLS makes testProject a CLS-backed project on the simulator,
// which serves CLS on the SCF address. Its topics are configured: a
// GetFunction lookup would add SCF calls (and faults) to those counted.
func readFromCLS(cfg *Config) {
	p := cfg.Projects[testProject]
	p.Source = SourceCLS
	p.Functions = maps.Clone(p.Functions)
	for fid, f := range p.Functions {
		f.ClsTopicID = tencentsim.DefaultClsTopicID(p.Region, "default", f.Name)
		p.Functions[fid] = f
	}
	cfg.Projects[testProject] = p
	cfg.Upstream.CLSEndpoint = cfg.Upstream.Endpoint
}

// logSource is a source testProject can read from, as the suites see it.
type logSource struct {
	name  string
	tweak func(*Config) // makes testProject read from it; nil: the default
	// api names the source's budget and calls in the proxy's metrics.
	api string
	// parallel is how many calls one page may have out at once: a CLS page
	// asks for its total and its invocations together.
	parallel int64
	// burst is how many calls may be out before the first answer: the
	// account's calls per second; the topic's concurrent queries.
	burst int64
	// slower divides the simulated functions' rates: the simulator
	// builds every log record of a window for each SearchLog, which at
	// the usual rates takes seconds under -race for a default window.
	slower float64
	// notCarried are execution fields the source has no value for.
	notCarried []string
	// missCalls is the calls of a page of executions with its stats: one
	// page and two stats calls; a CLS total, invocations, their return
	// values, and one stats query.
	missCalls int64
}

var logSources = []logSource{
	{name: SourceGetFunctionLogs, api: "GetFunctionLogs", parallel: 1, burst: 5, slower: 1, missCalls: 3},
	{name: SourceCLS, tweak: readFromCLS, api: "SearchLog", parallel: 2, burst: 15, slower: 40, missCalls: 4,
		notCarried: []string{"billedDurationMs"}}, // CLS pages carry the log text of their lines
}

// forEachSource runs test as one subtest per source.
func forEachSource(t *testing.T, test func(t *testing.T, src logSource)) {
	t.Helper()
	for _, src := range logSources {
		t.Run(src.name, func(t *testing.T) { test(t, src) })
	}
}

// start is startProxy for a project reading from src.
func (src logSource) start(t testing.TB, tweak func(*Config)) *proxyEnv {
	t.Helper()
	return startProxyOn(t, simulateTestFunctions(t, src.slower), src.with(tweak), Options{})
}

// startInBubble is start in-process, for a test inside a synctest bubble.
func (src logSource) startInBubble(t testing.TB, tweak func(*Config)) *proxyEnv {
	t.Helper()
	return startProxyOn(t, simulateInBubble(t, src.slower), src.with(tweak), Options{})
}

// with is tweak on a project reading from src.
func (src logSource) with(tweak func(*Config)) func(*Config) { return both(src.tweak, tweak) }

// calls counts every call of src's API the simulator received from the
// test account, whatever it answered.
func (src logSource) calls(env *proxyEnv) int64 {
	if src.api == "GetFunctionLogs" {
		return upstreamCalls(env)
	}
	// CLS admits a call (or refuses it for the rate) before an injected
	// fault answers it: faulted calls are among the admitted.
	api := env.sim.Truth().APIs[src.api]
	return api.TotalAccepted[testenv.SecretID] + api.TotalRejected[testenv.SecretID]
}

// admitted counts the calls the budget let through, from the proxy's
// metrics (a SearchLog's wait for its topic's slot is counted apart, under
// SearchLog-topic).
func (src logSource) admitted(t *testing.T, env *proxyEnv) float64 {
	t.Helper()
	return metric(t, env, `mudscf_budget_wait_seconds_count{account="default",api="`+src.api+`",priority="interactive",project="`+testProject+`"}`)
}

// both applies a, then b; either may be nil.
func both(a, b func(*Config)) func(*Config) {
	return func(cfg *Config) {
		for _, f := range []func(*Config){a, b} {
			if f != nil {
				f(cfg)
			}
		}
	}
}
