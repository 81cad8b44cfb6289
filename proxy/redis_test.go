package proxy

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

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
		{"unknown key", "url: redis://127.0.0.1:6379/0\n  replicas: 2\n  password: x", "redis.password (line 7): unknown key; allowed: url, urlEnv, urlFile"},
		{"sentinel", "replicas: 2\n  sentinel: {masterName: mymaster, addresses: ['s0:26379', 's1:26379'], passwordEnv: SENTINEL_PW}", ""},
		{"sentinel with an ACL user", "urlEnv: U\n  replicas: 2\n  sentinel: {masterName: m, addresses: ['[::1]:26379'], username: mudscf, passwordFile: " + urlFile + "}", ""},
		{"sentinel and two URLs", "url: redis://x/0\n  urlEnv: U\n  replicas: 2\n  sentinel: {masterName: m, addresses: ['s:1']}", "at most one of url, urlEnv and urlFile"},
		{"sentinel without a name", "replicas: 2\n  sentinel: {addresses: ['s:1']}", "redis.sentinel.masterName: must be the name"},
		{"sentinel without addresses", "replicas: 2\n  sentinel: {masterName: m}", "redis.sentinel.addresses: give the host:port of at least one Sentinel"},
		{"sentinel address without a port", "replicas: 2\n  sentinel: {masterName: m, addresses: ['s:1', 'sentinel-2']}", `redis.sentinel.addresses[1]: "sentinel-2" is not host:port`},
		{"sentinel address port out of range", "replicas: 2\n  sentinel: {masterName: m, addresses: ['s:65536']}", "redis.sentinel.addresses[0]"},
		{"sentinel password twice", "replicas: 2\n  sentinel: {masterName: m, addresses: ['s:1'], passwordEnv: A, passwordFile: /b}", "redis.sentinel: give at most one of passwordEnv and passwordFile"},
		{"sentinel user without a password", "replicas: 2\n  sentinel: {masterName: m, addresses: ['s:1'], username: u}", "redis.sentinel.username: an ACL user needs its password"},
		{"sentinel password as such", "replicas: 2\n  sentinel: {masterName: m, addresses: ['s:1'], password: hunter2hunter2}", "redis.sentinel.password (line 6): unknown key; did you mean passwordEnv or passwordFile?"},
		{"cluster", "urlEnv: U\n  replicas: 2\n  cluster: {addresses: ['n0:6379', 'n1:6379']}", ""},
		{"cluster without a URL", "replicas: 2\n  cluster: {addresses: ['n0:6379']}", ""},
		{"cluster without addresses", "replicas: 2\n  cluster: {}", "redis.cluster.addresses: give the host:port of at least one node"},
		{"cluster with a database", "url: redis://:hunter2hunter2@n0:6379/3\n  replicas: 2\n  cluster: {addresses: ['n0:6379']}", "redis.url: a Redis Cluster has database 0 only"},
		{"cluster with a brace in the prefix", "urlEnv: U\n  replicas: 2\n  keyPrefix: 'a{b}:'\n  cluster: {addresses: ['n0:6379']}", "redis.keyPrefix: \"a{b}:\" contains a brace"},
		{"cluster and sentinel", "replicas: 2\n  cluster: {addresses: ['n0:6379']}\n  sentinel: {masterName: m, addresses: ['s:1']}", "redis.cluster: a Redis Cluster has no Sentinels"},
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

// TestRequestLimitStormIsNotRetried on two replicas: a storm of
// RequestLimitExceeded costs one call per backoff for both together.
func TestRedisRequestLimitStormIsNotRetried(t *testing.T) {
	r := testenv.StartRedis(t)
	const backoff = 500 * time.Millisecond
	sim, pair := redisPair(t, r, func(cfg *Config) {
		cfg.Budget.Backoff = backoff
		cfg.Budget.MaxWait = 2 * time.Second
	})
	sim.SetFaults(tencentsim.Faults{ErrorCode: "RequestLimitExceeded"})
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
		time.Sleep(300 * time.Millisecond) // waves on the wall clock: the shared budget's pause lives in a real redis-server
	}
	wg.Wait()
	elapsed := time.Since(start)
	calls := upstreamCalls(pair[0])
	if bound := 5 + int64(elapsed/backoff); calls > bound {
		t.Errorf("%d upstream calls in %s of RequestLimitExceeded, want at most %d (5, then one per %s backoff)", calls, elapsed, bound, backoff)
	}
	t.Logf("30 requests on two replicas, %d upstream calls in %s", calls, elapsed.Round(time.Millisecond))
}

// 400 distinct requests spread over two replicas: the upstream never sees
// more than 5 calls in a sliding second nor a RequestLimitExceeded, every
// client gets its logs or a 429, and the window's stats are fetched once
// for both replicas.
func TestRedisReplicasShareTheBudget(t *testing.T) {
	r := testenv.StartRedis(t)
	sim, pair := redisPair(t, r, nil)
	shareTheBudget(t, sim, pair, 400)
}

// shareTheBudget sends n distinct requests of one window, alternately to
// each replica, at once: every client gets its logs or a 429, and the
// budget holds (assertBudgetKept), the window's stats being one flight
// across both replicas.
func shareTheBudget(t *testing.T, sim *testenv.Simulator, pair [2]*proxyEnv, n int) {
	t.Helper()
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = pair[i%2].getStatus(t, logsPath+"?limit=1&offset="+strconv.Itoa(i)+window, tok)
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
	assertBudgetKept(t, sim.Truth(), counts)
}

// assertWithinLimit checks the simulator's ground truth: never more than
// 5 calls in a sliding second, no RequestLimitExceeded.
func assertWithinLimit(t *testing.T, truth tencentsim.Truth) {
	t.Helper()
	if most := truth.MaxCallsInAnySlidingSecond[testenv.SecretID]; most > 5 {
		t.Errorf("the upstream saw %d calls in one sliding second", most)
	}
	if n := truth.TotalRejected[testenv.SecretID]; n != 0 {
		t.Errorf("the upstream answered RequestLimitExceeded %d times", n)
	}
}

// assertSharedCache fetches path on one replica (a MISS) and then on the
// other: a HIT, with the same body.
func assertSharedCache(t *testing.T, pair [2]*proxyEnv, path, tok string) {
	t.Helper()
	first := pair[0].get(t, path, tok)
	if first.status != 200 || first.header.Get("X-Cache") != cacheMiss {
		t.Errorf("a new page: %d X-Cache=%q, want 200 MISS", first.status, first.header.Get("X-Cache"))
	}
	second := pair[1].get(t, path, tok)
	if second.status != 200 || second.header.Get("X-Cache") != cacheHit || string(second.body) != string(first.body) {
		t.Errorf("on the other replica: %d X-Cache=%q, same body %v, want 200 HIT", second.status, second.header.Get("X-Cache"), string(second.body) == string(first.body))
	}
}

// A page fetched through one replica is a cache hit on the other.
func TestRedisReplicasShareTheCache(t *testing.T) {
	r := testenv.StartRedis(t)
	sim, pair := redisPair(t, r, nil)
	assertSharedCache(t, pair, logsPath+"?limit=3"+fixedWindow(), pair[0].token(t, "usr_morgan_de"))
	if got := sim.Truth().TotalAccepted[testenv.SecretID]; got != 3 {
		t.Errorf("%d upstream calls, want 3 (page + 2 stats, once for both replicas)", got)
	}
	_, metrics := scrape(t, pair[1].proxy.AdminHandler(), "/metrics")
	for _, want := range []string{`mudscf_redis_cache_requests_total{kind="page",result="hit"} 1`, "mudscf_redis_up 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The Redis series pass promtool too.
	testenv.CheckMetrics(t, metrics)
}

// Redis crashes mid-run and comes back empty: no client sees a 5xx, the
// upstream never sees more than 5 calls in a sliding second, the replicas
// keep serving on their local shares meanwhile, and each transition is
// logged once.
func TestRedisCrashMidRun(t *testing.T) {
	r := testenv.StartRedis(t)
	// The usual upstream timeout, which a slow machine's simulator stays
	// within: a replica serves locally once Redis's grants have aged out,
	// lease (the timeout and a second) and window (a second) after the
	// loss, so Redis stays down longer than that.
	sim, pair := redisPair(t, r, nil)
	const down = 5 * time.Second
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	var next atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int{}
	var okAfterKill atomic.Int64
	var killed atomic.Bool
	stop := time.Now().Add(time.Second + down + 2500*time.Millisecond)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				s := pair[w%2].getStatus(t, logsPath+"?limit=1&offset="+strconv.FormatInt(next.Add(1), 10)+window, tok)
				mu.Lock()
				statuses[s]++
				mu.Unlock()
				if s == 200 && killed.Load() {
					okAfterKill.Add(1)
				}
				time.Sleep(20 * time.Millisecond) // a client's pace; Redis and its leases keep the wall clock's time
			}
		})
	}
	time.Sleep(time.Second) // a real redis-server and its leases run on the wall clock
	r.Kill()
	killed.Store(true)
	time.Sleep(down) // a real redis-server and its leases run on the wall clock
	r.Start()
	wg.Wait()

	if statuses[200]+statuses[429] != sumValues(statuses) || statuses[200] == 0 {
		t.Errorf("statuses %v: want only 200s and 429s", statuses)
	}
	truth := sim.Truth()
	assertWithinLimit(t, truth)
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
	t.Logf("statuses %v, upstream calls %d, 200s after the crash %d", statuses, truth.TotalAccepted[testenv.SecretID], okAfterKill.Load())
}

// Identical requests on two replicas make one upstream flight between
// them: one page call and the two stats calls.
func TestRedisReplicasCollapseIdenticalRequests(t *testing.T) {
	r := testenv.StartRedis(t)
	// A generous operation timeout: this test is about collapsing, and on a
	// loaded machine a 200ms Redis answer can be late, which sends a replica
	// local (TestRedisHangs covers that).
	sim, pair := redisPair(t, r, func(cfg *Config) { cfg.Redis.OpTimeout = time.Second })
	sim.SetFaults(tencentsim.Faults{Latency: 300 * time.Millisecond})
	tok := pair[0].token(t, "usr_morgan_de")
	path := logsPath + "?limit=5" + fixedWindow()
	statuses := make([]int, 200)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i] = pair[i%2].getStatus(t, path, tok) })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("request %d: %d", i, s)
		}
	}
	if got := sim.Truth().TotalAccepted[testenv.SecretID]; got != 3 {
		t.Errorf("%d upstream calls for 200 identical requests on two replicas, want 3", got)
	}
}

// A Redis that stops answering (rather than refusing) costs requests an
// operation timeout at most, never a 5xx; three timeouts in a row switch
// the replica to local, and answers switch it back.
func TestRedisHangs(t *testing.T) {
	r := testenv.StartRedis(t)
	_, pair := redisPair(t, r, func(cfg *Config) { cfg.Redis.OpTimeout = 100 * time.Millisecond })
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	if s := pair[0].getStatus(t, logsPath+"?limit=1"+window, tok); s != 200 {
		t.Fatalf("warm-up: %d", s)
	}
	if err := r.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if s := pair[0].getStatus(t, logsPath+"?limit=1&offset="+strconv.Itoa(i+1)+window, tok); s != 200 && s != 429 {
			t.Errorf("request %d while Redis hangs: %d", i, s)
		}
	}
	if pair[0].proxy.shared.store.Up() {
		t.Error("Redis has not answered for six requests and the replica still uses it")
	}
	if err := r.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(redisstore.ProbeInterval) // the store probes a real redis-server on the wall clock
	if s := pair[0].getStatus(t, logsPath+"?limit=1&offset=100"+window, tok); s != 200 && s != 429 {
		t.Errorf("after Redis answered again: %d", s)
	}
	if !pair[0].proxy.shared.store.Up() {
		t.Error("Redis answers again and the replica does not use it")
	}
	logs := pair[0].logs.String()
	if strings.Count(logs, "redis unreachable") != 1 || strings.Count(logs, "redis reachable again") != 1 {
		t.Errorf("want one log line for each transition")
	}
}

// testRedisPassword has each character that cuts a URL into pieces, and no
// word of four letters: the suite's witness watches every run of four of
// its characters.
const testRedisPassword = "Zq7x/K9w?Mv3#Tp@Lb:Hd"

// A Redis URL whose password has '/', '?' and '#' in it: as typed, the
// configuration and the start are refused with the reason and no piece of
// the password, wherever the URL came from; percent-encoded, the replica
// shares a Redis that requires the password, and its logs, responses and
// metrics carry none of it (issue 15.2; the suite's witness reads them all).
func TestRedisPasswordNeverShows(t *testing.T) {
	r := testenv.StartRedis(t)
	admin := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
	if err := admin.ConfigSet(context.Background(), "requirepass", testRedisPassword).Err(); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	typed := "redis://:" + testRedisPassword + "@" + r.Addr() + "/0"
	encoded := (&url.URL{Scheme: "redis", User: url.UserPassword("", testRedisPassword), Host: r.Addr(), Path: "/0"}).String()
	clean := func(where, out string) {
		t.Helper()
		for i := 0; i+4 <= len(testRedisPassword); i++ {
			if piece := testRedisPassword[i : i+4]; strings.Contains(out, piece) {
				t.Errorf("%q, a piece of the Redis password, in %s: %s", piece, where, out)
				return
			}
		}
	}

	// As typed, in the configuration file: refused by ParseConfig.
	_, err := ParseConfig([]byte(`jwt: {algorithms: [HS256], secretEnv: S}
projects:
  proj_1: {region: ap-guangzhou, functions: {f1: {name: fn}}}
redis:
  url: '` + typed + `'
  replicas: 1
`))
	suiteWitness.SeeErr("ParseConfig's error", err)
	if err == nil || !strings.Contains(err.Error(), "redis.url: not a redis:// or rediss:// URL") {
		t.Errorf("ParseConfig: %v, want redis.url refused", err)
	} else {
		clean("ParseConfig's error", err.Error())
	}

	// As typed, from the environment or a file: refused by New.
	sim := testenv.StartSimulator(t, nil)
	urlFile := filepath.Join(t.TempDir(), "redis-url")
	if err := os.WriteFile(urlFile, []byte(typed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MUDSCF_TEST_REDIS_URL", typed)
	for _, rc := range []redisstore.Config{{URLEnv: "MUDSCF_TEST_REDIS_URL"}, {URLFile: urlFile}} {
		cfg := testConfig(sim.Host, func(cfg *Config) { rc.Replicas = 1; cfg.Redis = &rc })
		cfg.ApplyDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		var logs testenv.SyncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		_, err := New(ctx, cfg, Options{Logger: testLogger("the proxy's log", &logs)})
		cancel()
		suiteWitness.SeeErr("New's error", err)
		if err == nil || !strings.Contains(err.Error(), "not a redis:// or rediss:// URL") {
			t.Errorf("New with %+v: %v, want the URL refused", rc, err)
			continue
		}
		clean("New's error", err.Error())
		clean("the proxy's log", logs.String())
	}

	// Percent-encoded: the replica uses Redis.
	if err := os.WriteFile(urlFile, []byte(encoded+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := startProxyOn(t, sim, func(cfg *Config) {
		cfg.Redis = &redisstore.Config{URLFile: urlFile, Replicas: 1, DialTimeout: time.Second, OpTimeout: time.Second}
	}, Options{})
	tok := env.token(t, "usr_morgan_de")
	path := logsPath + "?limit=2" + fixedWindow()
	for _, want := range []string{"MISS", "HIT"} {
		if resp := env.get(t, path, tok); resp.status != 200 || resp.header.Get("X-Cache") != want {
			t.Fatalf("%d X-Cache=%q, want 200 %s", resp.status, resp.header.Get("X-Cache"), want)
		}
	}
	_, metrics := scrape(t, env.proxy.AdminHandler(), "/metrics")
	if !strings.Contains(metrics, "mudscf_redis_up 1") {
		t.Errorf("the replica does not use the Redis that requires the password:\n%s", env.logs.String())
	}
	env.get(t, logsPath+"?limit=1", "") // a 401
	clean("the proxy's log", env.logs.String())
	clean("the metrics", metrics)
}
