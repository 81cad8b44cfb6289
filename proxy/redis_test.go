package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/scfsim"
	"github.com/mudscf/mudscf/translate"
)

// redisServer is a real redis-server on a free loopback port, without
// persistence, killed when the test ends.
type redisServer struct {
	t    *testing.T
	port string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is missing in CI: .ci/run must install Debian's redis-server package")
		}
		t.Skip("redis-server is not on PATH (Debian: apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	r := &redisServer{t: t, port: port}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + r.port + "/0" }

// start runs redis-server and waits until it answers.
func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.t.TempDir())
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + r.port, MaxRetries: -1})
	defer c.Close()
	for range 100 {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not answer within 2s")
}

// kill is a crash, not a shutdown: SIGKILL, and the data is gone.
func (r *redisServer) kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

func testStore(t *testing.T, url string, replicas int) *redisStore {
	t.Helper()
	cfg := &RedisConfig{URL: url, Replicas: replicas}
	if err := cfg.validate(5); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := newRedisStore(ctx, cfg, slog.New(slog.DiscardHandler), NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRedisConfig(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	if err := os.WriteFile(urlFile, []byte("redis://:hunter2hunter2@127.0.0.1:6379/0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		redis string
		err   string // "" for valid
	}{
		{"url", "url: redis://127.0.0.1:6379/0\n  replicas: 3", ""},
		{"urlEnv", "urlEnv: MUDSCF_REDIS_URL\n  replicas: 1", ""},
		{"urlFile", "urlFile: " + urlFile + "\n  replicas: 5", ""},
		{"none", "replicas: 3", "exactly one of url, urlEnv and urlFile"},
		{"two", "url: redis://127.0.0.1:6379/0\n  urlEnv: MUDSCF_REDIS_URL\n  replicas: 3", "exactly one of url, urlEnv and urlFile"},
		{"not a URL", "url: http://:hunter2hunter2@127.0.0.1\n  replicas: 3", "redis.url: not a redis://"},
		{"replicas missing", "url: redis://127.0.0.1:6379/0", "redis.replicas: must be between 1 and budget.requestsPerSecond (5), got 0"},
		{"replicas over the limit", "url: redis://127.0.0.1:6379/0\n  replicas: 6", "floor(5/replicas)"},
		{"negative timeout", "url: redis://127.0.0.1:6379/0\n  replicas: 2\n  opTimeout: -1s", "redis.opTimeout"},
		{"slow dial", "url: redis://127.0.0.1:6379/0\n  replicas: 2\n  dialTimeout: 10s", "redis.dialTimeout"},
		{"unknown key", "url: redis://127.0.0.1:6379/0\n  replicas: 2\n  password: x", "field password not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yaml := `jwt: {algorithms: [HS256], secretEnv: S}
projects:
  proj_1: {region: ap-guangzhou, functions: {f1: {name: fn}}}
redis:
  ` + c.redis + "\n"
			cfg, err := ParseConfig([]byte(yaml))
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("got %v, want an error containing %q", err, c.err)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("the password leaked into %v", err)
			case err == nil && (cfg.Redis.KeyPrefix != "mudscf:" || cfg.Redis.OpTimeout != 200*time.Millisecond):
				t.Errorf("defaults not filled: %+v", cfg.Redis)
			}
		})
	}
	// Without a redis block the proxy runs alone.
	cfg, err := ParseConfig([]byte("jwt: {algorithms: [HS256], secretEnv: S}\nprojects:\n  proj_1: {region: r, functions: {f1: {name: fn}}}\n"))
	if err != nil || cfg.Redis != nil {
		t.Fatalf("%v %+v", err, cfg.Redis)
	}
}

// call is one budgeted call as the test saw it: granted, then completed.
type call struct{ granted, done time.Time }

// maxLive is the most calls that held a slot at one instant: a call holds
// its slot from its grant to a window after its completion. Grants are
// read after Acquire returned and completions before Done ran, so the
// intervals are inside those Redis counted, and a count above the limit
// is a real breach.
func maxLive(calls []call, window time.Duration) int {
	most := 0
	for _, c := range calls {
		n := 0
		for _, o := range calls {
			if !o.granted.After(c.granted) && c.granted.Before(o.done.Add(window)) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// Two replicas hammering one account never hold more than the limit of
// slots together, and between them use it.
func TestRedisBudgetAcrossReplicas(t *testing.T) {
	r := startRedis(t)
	const limit, window = 5, 150 * time.Millisecond
	budgets := []*redisBudget{
		newRedisBudget(testStore(t, r.url(), 1), testSecretID, limit, window, 5*time.Second, 100*time.Millisecond),
		newRedisBudget(testStore(t, r.url(), 1), testSecretID, limit, window, 5*time.Second, 100*time.Millisecond),
	}
	var mu sync.Mutex
	var calls []call
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			g, _, err := budgets[i%2].Acquire(context.Background(), Priority(i%3/2))
			if err != nil {
				t.Error(err)
				return
			}
			c := call{granted: time.Now()}
			time.Sleep(time.Duration(i%4) * 5 * time.Millisecond) // in flight
			c.done = time.Now()
			g.Done(c.done)
			mu.Lock()
			calls = append(calls, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := maxLive(calls, window); n > limit || n < 2 {
		t.Errorf("%d calls held slots at once across two replicas, want 2..%d", n, limit)
	}
	// The SecretId is not in Redis's key space.
	keys, err := budgets[0].store.client.Keys(context.Background(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatal(keys, err)
	}
	for _, k := range keys {
		if strings.Contains(k, testSecretID) {
			t.Errorf("key %q holds the SecretId", k)
		}
	}
}

// A call in flight on one replica holds its slot for the other; its
// completion starts the window.
func TestRedisBudgetInFlightHoldsSlot(t *testing.T) {
	r := startRedis(t)
	const window = 100 * time.Millisecond
	a := newRedisBudget(testStore(t, r.url(), 1), testSecretID, 1, window, 150*time.Millisecond, time.Second)
	b := newRedisBudget(testStore(t, r.url(), 1), testSecretID, 1, window, 150*time.Millisecond, time.Second)
	slow, _, err := a.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	var be *BudgetError
	if _, _, err := b.Acquire(context.Background(), Interactive); !errors.As(err, &be) {
		t.Fatalf("got %v while the other replica's call was in flight, want a BudgetError", err)
	}
	done := time.Now()
	slow.Done(done)
	g, _, err := b.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	if since := time.Since(done); since < window {
		t.Errorf("admitted %s after the other call completed, inside the window", since)
	}
	g.Done(time.Now())
}

// A replica that dies mid-call loses its slot when the lease runs out
// (upstream timeout + 1s), counted as if the call completed then.
func TestRedisBudgetLeaseExpires(t *testing.T) {
	r := startRedis(t)
	const window, timeout = 100 * time.Millisecond, 50 * time.Millisecond
	dead := newRedisBudget(testStore(t, r.url(), 1), testSecretID, 1, window, 3*time.Second, timeout)
	alive := newRedisBudget(testStore(t, r.url(), 1), testSecretID, 1, window, 3*time.Second, timeout)
	start := time.Now()
	if _, _, err := dead.Acquire(context.Background(), Interactive); err != nil {
		t.Fatal(err)
	}
	// Never Done: the replica died.
	g, _, err := alive.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatalf("the dead replica's slot was never freed: %v", err)
	}
	g.Done(time.Now())
	if held, lease := time.Since(start), timeout+time.Second; held < lease+window {
		t.Errorf("the slot freed after %s, before lease+window %s", held, lease+window)
	}
}

// RequestLimitExceeded on one replica pauses the account on all.
func TestRedisBudgetPause(t *testing.T) {
	r := startRedis(t)
	a := newRedisBudget(testStore(t, r.url(), 1), testSecretID, 5, 100*time.Millisecond, 100*time.Millisecond, time.Second)
	b := newRedisBudget(testStore(t, r.url(), 1), testSecretID, 5, 100*time.Millisecond, time.Second, time.Second)
	start := time.Now()
	a.Pause(400 * time.Millisecond)
	var be *BudgetError
	if _, _, err := a.Acquire(context.Background(), Interactive); !errors.As(err, &be) || be.RetryAfter < 200*time.Millisecond {
		t.Fatalf("got %v during the pause, want a BudgetError with the pause's remainder", err)
	}
	g, _, err := b.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	g.Done(time.Now())
	if since := time.Since(start); since < 400*time.Millisecond {
		t.Errorf("the other replica was granted %s into a 400ms pause", since)
	}
}

// After a pause, waiters on two replicas get one grant between them, the
// probe, until it completes; then the account serves at full rate again.
// The call whose RequestLimitExceeded paused the account completes during
// the pause, which must not end probing.
func TestRedisBudgetProbesAfterPause(t *testing.T) {
	r := startRedis(t)
	const limit, window, pause = 5, 100 * time.Millisecond, 300 * time.Millisecond
	budgets := []*redisBudget{
		newRedisBudget(testStore(t, r.url(), 1), testSecretID, limit, window, 5*time.Second, time.Second),
		newRedisBudget(testStore(t, r.url(), 1), testSecretID, limit, window, 5*time.Second, time.Second),
	}
	limited, _, err := budgets[0].Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	budgets[0].Pause(pause)
	limited.Done(time.Now())

	grants := make(chan grant, 10)
	var wg sync.WaitGroup
	for i := range cap(grants) {
		wg.Go(func() {
			g, _, err := budgets[i%2].Acquire(context.Background(), Interactive)
			if err != nil {
				t.Error(err)
			}
			grants <- g // nil on error, so that the test never waits in vain
		})
	}
	next := func() grant {
		g := <-grants
		if g == nil {
			t.FailNow()
		}
		return g
	}
	probe := next()
	// Every other waiter has had many polls (one per redisPoll) in which
	// to find a slot; a grant now would be a second call in flight.
	time.Sleep(8 * redisPoll)
	if n := len(grants); n != 0 {
		t.Fatalf("%d more grants while the probe was in flight, want none", n)
	}
	for i, b := range budgets {
		if g, _, err := b.try(context.Background(), Interactive); err != nil || g != nil {
			t.Fatalf("replica %d: got grant %v, error %v while the probe was in flight", i, g != nil, err)
		}
	}
	if ttl, err := budgets[0].store.client.PTTL(context.Background(), budgets[0].probeKey).Result(); err != nil || ttl <= 0 {
		t.Errorf("the probing state has TTL %v (%v): it must expire", ttl, err)
	}
	probe.Done(time.Now())

	// Probing is over: the four slots the probe's completion leaves free
	// go out together, with none of them done yet.
	var held []grant
	for range limit - 1 {
		held = append(held, next())
	}
	if n, err := budgets[0].store.client.Exists(context.Background(), budgets[0].probeKey).Result(); err != nil || n != 0 {
		t.Errorf("probing outlived a completion after the pause (%d, %v)", n, err)
	}
	for _, h := range held {
		h.Done(time.Now())
	}
	for range cap(grants) - 1 - len(held) {
		next().Done(time.Now())
	}
	wg.Wait()
}

// TestRequestLimitStormIsNotRetried on two replicas: a storm of
// RequestLimitExceeded costs one call per backoff for both together.
func TestRedisRequestLimitStormIsNotRetried(t *testing.T) {
	r := startRedis(t)
	const backoff = 500 * time.Millisecond
	sim, pair := redisPair(t, r, func(cfg *Config) {
		cfg.Budget.Backoff = backoff
		cfg.Budget.MaxWait = 2 * time.Second
	})
	sim.sim.SetFaults(scfsim.Faults{ErrorCode: "RequestLimitExceeded"})
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	start := time.Now()
	var wg sync.WaitGroup
	for wave := range 3 {
		for i := range 10 {
			wg.Go(func() {
				r := pair[i%2].get(t, logsPath+"?stats=false&limit=1&offset="+strconv.Itoa(wave*10+i)+window, tok)
				assertEnvelope(t, r, 429, translate.CodeRateLimited)
				wantRetryAfter(t, r)
			})
		}
		time.Sleep(300 * time.Millisecond)
	}
	wg.Wait()
	elapsed := time.Since(start)
	calls := upstreamCalls(pair[0])
	if bound := 5 + int64(elapsed/backoff); calls > bound {
		t.Errorf("%d upstream calls in %s of RequestLimitExceeded, want at most %d (5, then one per %s backoff)", calls, elapsed, bound, backoff)
	}
	t.Logf("30 requests on two replicas, %d upstream calls in %s", calls, elapsed.Round(time.Millisecond))
}

// The exporter's background calls leave a slot for interactive ones.
func TestRedisBudgetBackgroundLeavesASlot(t *testing.T) {
	r := startRedis(t)
	b := newRedisBudget(testStore(t, r.url(), 1), testSecretID, 3, time.Second, 100*time.Millisecond, time.Second)
	for range 2 {
		g, _, err := b.Acquire(context.Background(), Background)
		if err != nil {
			t.Fatal(err)
		}
		g.Done(time.Now())
	}
	if _, _, err := b.Acquire(context.Background(), Background); err == nil {
		t.Fatal("background took the last slot")
	}
	if _, _, err := b.Acquire(context.Background(), Interactive); err != nil {
		t.Fatalf("the interactive call found no slot: %v", err)
	}
}

// redisPair is two proxies (replicas) on one simulator and one Redis.
func redisPair(t *testing.T, r *redisServer, tweak func(*Config)) (*simEnv, [2]*proxyEnv) {
	t.Helper()
	sim := startSimWith(t, nil, []scfsim.Function{{Name: "APITest", RatePerSecond: 0.2}})
	var pair [2]*proxyEnv
	for i := range pair {
		pair[i] = startProxyOn(t, sim, func(cfg *Config) {
			// A generous timeout: the race detector on a busy machine
			// slows Redis answers past the default.
			cfg.Redis = &RedisConfig{URL: r.url(), Replicas: 2, DialTimeout: time.Second, OpTimeout: time.Second}
			if tweak != nil {
				tweak(cfg)
			}
		}, Options{})
	}
	return sim, pair
}

// 400 distinct requests spread over two replicas: the upstream never sees
// more than 5 calls in a sliding second nor a RequestLimitExceeded, every
// client gets its logs or a 429, and the window's stats are fetched once
// for both replicas.
func TestRedisReplicasShareTheBudget(t *testing.T) {
	r := startRedis(t)
	sim, pair := redisPair(t, r, nil)
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	statuses := make([]int, 400)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = getStatus(t, pair[i%2].url+logsPath+"?limit=1&offset="+strconv.Itoa(i)+window, tok)
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[200]+counts[429] != len(statuses) || counts[200] == 0 {
		t.Errorf("statuses %v: want only 200s and 429s, some 200s", counts)
	}
	// The stats of the window are one flight across both replicas.
	assertBudgetKept(t, sim.sim.Truth(), counts)
}

// A page fetched through one replica is a cache hit on the other.
func TestRedisReplicasShareTheCache(t *testing.T) {
	r := startRedis(t)
	sim, pair := redisPair(t, r, nil)
	tok := pair[0].token(t, "usr_morgan_de")
	path := logsPath + "?limit=3" + fixedWindow()
	first := pair[0].get(t, path, tok)
	if first.status != 200 || first.header.Get("X-Cache") != "MISS" {
		t.Fatalf("first: %d X-Cache=%q", first.status, first.header.Get("X-Cache"))
	}
	second := pair[1].get(t, path, tok)
	if second.status != 200 || second.header.Get("X-Cache") != "HIT" || string(second.body) != string(first.body) {
		t.Fatalf("on the other replica: %d X-Cache=%q, same body %v", second.status, second.header.Get("X-Cache"), string(second.body) == string(first.body))
	}
	if got := sim.sim.Truth().TotalAccepted[testSecretID]; got != 3 {
		t.Errorf("%d upstream calls, want 3 (page + 2 stats, once for both replicas)", got)
	}
	_, metrics := scrape(t, pair[1].proxy.AdminHandler(), "/metrics")
	for _, want := range []string{`mudscf_redis_cache_requests_total{kind="page",result="hit"} 1`, "mudscf_redis_up 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The Redis series pass promtool too.
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(metrics)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("promtool is missing in CI: .ci/run must install Debian's prometheus package")
	}
}

// Redis crashes mid-run and comes back empty: no client sees a 5xx, the
// upstream never sees more than 5 calls in a sliding second, the replicas
// keep serving on their local shares meanwhile, and each transition is
// logged once.
func TestRedisCrashMidRun(t *testing.T) {
	r := startRedis(t)
	sim, pair := redisPair(t, r, func(cfg *Config) { cfg.Upstream.Timeout = 500 * time.Millisecond })
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	var next atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	var okAfterKill atomic.Int64
	var killed atomic.Bool
	stop := time.Now().Add(6 * time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				s := getStatus(t, pair[w%2].url+logsPath+"?limit=1&offset="+strconv.FormatInt(next.Add(1), 10)+window, tok)
				mu.Lock()
				statuses[s]++
				mu.Unlock()
				if s == 200 && killed.Load() {
					okAfterKill.Add(1)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	time.Sleep(time.Second)
	r.kill()
	killed.Store(true)
	time.Sleep(2500 * time.Millisecond)
	r.start()
	wg.Wait()

	if statuses[200]+statuses[429] != sumValues(statuses) || statuses[200] == 0 {
		t.Errorf("statuses %v: want only 200s and 429s", statuses)
	}
	truth := sim.sim.Truth()
	if most := truth.MaxCallsInAnySlidingSecond[testSecretID]; most > 5 {
		t.Errorf("the upstream saw %d calls in one sliding second", most)
	}
	if n := truth.TotalRejected[testSecretID]; n != 0 {
		t.Errorf("the upstream answered RequestLimitExceeded %d times", n)
	}
	if okAfterKill.Load() == 0 {
		t.Error("no request succeeded after Redis died: the local fallback never served")
	}
	for i, p := range pair {
		logs := p.logs.String()
		if n := strings.Count(logs, "redis unreachable"); n != 1 {
			t.Errorf("replica %d logged the loss of Redis %d times, want once", i, n)
		}
		if n := strings.Count(logs, "redis reachable again"); n != 1 {
			t.Errorf("replica %d logged Redis's return %d times, want once", i, n)
		}
		_, metrics := scrape(t, p.proxy.AdminHandler(), "/metrics")
		if !strings.Contains(metrics, "mudscf_redis_up 1") || strings.Contains(metrics, `mudscf_redis_fallbacks_total{component="budget"} 0`) {
			t.Errorf("replica %d: the metrics do not show the fallback and the return", i)
		}
	}
	t.Logf("statuses %v, upstream calls %d, 200s after the crash %d", statuses, truth.TotalAccepted[testSecretID], okAfterKill.Load())
}

func getStatus(t *testing.T, url, token string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
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

// Losing Redis, a replica grants nothing locally until every call Redis
// granted has completed and aged out (lease + window), then keeps to its
// share; Redis back but empty, the whole account stays reserved.
func TestRedisBudgetTransitions(t *testing.T) {
	r := startRedis(t)
	const limit, window, timeout = 5, 100 * time.Millisecond, 50 * time.Millisecond
	lease := timeout + time.Second
	store := testStore(t, r.url(), 2)
	b := newRedisBudget(store, testSecretID, limit, window, 3*time.Second, timeout)
	g, _, err := b.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	g.Done(time.Now())

	r.kill()
	killed := time.Now()
	var calls []call
	for range 6 {
		g, _, err := b.Acquire(context.Background(), Interactive)
		if err != nil {
			t.Fatalf("the local fallback refused: %v", err)
		}
		c := call{granted: time.Now()}
		c.done = time.Now()
		g.Done(c.done)
		calls = append(calls, c)
	}
	if store.up.Load() {
		t.Fatal("Redis is dead but the store says up")
	}
	if first := calls[0].granted.Sub(killed); first < lease+window {
		t.Errorf("the first local grant came %s after Redis died, before lease+window %s", first, lease+window)
	}
	if n := maxLive(calls, window); n != limit/2 {
		t.Errorf("%d local calls held slots at once, want this replica's share %d", n, limit/2)
	}

	r.start() // empty: the calls it had granted are forgotten
	time.Sleep(redisProbeInterval)
	b.maxWait = 100 * time.Millisecond
	_, _, err = b.Acquire(context.Background(), Interactive)
	var be *BudgetError
	if !errors.As(err, &be) || be.RetryAfter < lease+window {
		t.Fatalf("got %v from an emptied Redis, want a BudgetError until the reserve ends", err)
	}
	if !store.up.Load() {
		t.Error("Redis is back but the store says down")
	}
	if n, _ := store.client.ZCard(context.Background(), b.slotsKey).Result(); n != limit {
		t.Errorf("%d slots reserved after data loss, want all %d", n, limit)
	}
}

// Identical requests on two replicas make one upstream flight between
// them: one page call and the two stats calls.
func TestRedisReplicasCollapseIdenticalRequests(t *testing.T) {
	r := startRedis(t)
	sim, pair := redisPair(t, r, nil)
	sim.sim.SetFaults(scfsim.Faults{Latency: 300 * time.Millisecond})
	tok := pair[0].token(t, "usr_morgan_de")
	path := logsPath + "?limit=5" + fixedWindow()
	statuses := make([]int, 200)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i] = getStatus(t, pair[i%2].url+path, tok) })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("request %d: %d", i, s)
		}
	}
	if got := sim.sim.Truth().TotalAccepted[testSecretID]; got != 3 {
		t.Errorf("%d upstream calls for 200 identical requests on two replicas, want 3", got)
	}
}

// A Redis that stops answering (rather than refusing) costs requests an
// operation timeout at most, never a 5xx; three timeouts in a row switch
// the replica to local, and answers switch it back.
func TestRedisHangs(t *testing.T) {
	r := startRedis(t)
	_, pair := redisPair(t, r, func(cfg *Config) { cfg.Redis.OpTimeout = 100 * time.Millisecond })
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	if s := getStatus(t, pair[0].url+logsPath+"?limit=1"+window, tok); s != 200 {
		t.Fatalf("warm-up: %d", s)
	}
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if s := getStatus(t, pair[0].url+logsPath+"?limit=1&offset="+strconv.Itoa(i+1)+window, tok); s != 200 && s != 429 {
			t.Errorf("request %d while Redis hangs: %d", i, s)
		}
	}
	if pair[0].proxy.shared.store.up.Load() {
		t.Error("Redis has not answered for six requests and the replica still uses it")
	}
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(redisProbeInterval)
	if s := getStatus(t, pair[0].url+logsPath+"?limit=1&offset=100"+window, tok); s != 200 && s != 429 {
		t.Errorf("after Redis answered again: %d", s)
	}
	if !pair[0].proxy.shared.store.up.Load() {
		t.Error("Redis answers again and the replica does not use it")
	}
	logs := pair[0].logs.String()
	if strings.Count(logs, "redis unreachable") != 1 || strings.Count(logs, "redis reachable again") != 1 {
		t.Errorf("want one log line for each transition")
	}
}
