package proxy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

// The child process's configuration, from the parent test.
const (
	childUpstreamEnv = "MUDSCF_TEST_CHILD_UPSTREAM"
	childRedisEnv    = "MUDSCF_TEST_CHILD_REDIS"
)

// atDefaultTimeouts shares redisURL with the upstream timeout and
// budget.maxWait at their defaults (testConfig shortens both), as a
// deployment runs: a flight's deadline is then 12 s per call. Pages are
// fresh for a second, so that a test can make them stale.
func atDefaultTimeouts(redisURL string) func(*Config) {
	return func(cfg *Config) {
		cfg.Upstream.Timeout = 0
		cfg.Budget.MaxWait = 0
		cfg.Cache.PageTTL = time.Second
		// A generous operation timeout: the race detector on a busy
		// machine slows Redis answers past the default.
		cfg.Redis = &redisstore.Config{URL: redisURL, Replicas: 2, DialTimeout: time.Second, OpTimeout: time.Second}
	}
}

// TestRedisLockHolderChild is the other replica of
// TestRedisDeadLockHolderFreesQuickly: this test binary, re-executed, so
// that the test can SIGKILL it mid-flight. It serves until its stdin
// closes (the parent died) or it is killed.
func TestRedisLockHolderChild(t *testing.T) {
	upstreamHost := os.Getenv(childUpstreamEnv)
	if upstreamHost == "" {
		t.Skip("the replica TestRedisDeadLockHolderFreesQuickly runs in a process of its own; it runs only as that")
	}
	cfg := testConfig(upstreamHost, atDefaultTimeouts(os.Getenv(childRedisEnv)))
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(context.Background(), cfg, Options{Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	fmt.Printf("replica listening on %s\n", srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin) // its end, not its error, is the news
}

// startLockHolder runs TestRedisLockHolderChild against upstreamHost and
// Redis at redisURL, and returns its URL and the process.
func startLockHolder(t *testing.T, upstreamHost, redisURL string) (string, *os.Process) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRedisLockHolderChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childUpstreamEnv+"="+upstreamHost, childRedisEnv+"="+redisURL)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out testenv.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		// Killed mid-test already, or now: neither error is news.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		suiteWitness.See("the child replica's output", []byte(out.String()))
	})
	return out.WaitFor(t, regexp.MustCompile(`replica listening on (http://\S+)`))[1], cmd.Process
}

// waitForLocks returns the flight locks in r once there are n, polling: the
// replica taking them is another process.
func waitForLocks(t *testing.T, c *redis.Client, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		keys, err := c.Keys(context.Background(), "mudscf:lock:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == n {
			return keys
		}
		if time.Now().After(deadline) { // a guard against a hang, not a measure
			t.Fatalf("after 30s, %d flight locks in Redis, want %d", len(keys), n)
		}
	}
}

// A replica SIGKILLed mid-flight, at the default timeouts, leaves its
// flight locks; they free within a lease (a second, not the flight's 12 s),
// and meanwhile the other replica does not wait on them: it answers a key
// with a shared last answer from that answer at once, and fetches a key
// without one itself once the lock lapsed (issue 21.4).
func TestRedisDeadLockHolderFreesQuickly(t *testing.T) {
	r := testenv.StartRedis(t)
	sim := testenv.StartSimulator(t, nil)
	earlier := startProxyOn(t, sim, atDefaultTimeouts(r.URL()), Options{})
	tok := earlier.token(t, "usr_morgan_de")
	window := fixedWindow()
	withStale, without := logsPath+"?stats=false&limit=3"+window, logsPath+"?stats=false&limit=4"+window
	first := earlier.get(t, withStale, tok)
	if first.status != 200 || first.header.Get("X-Cache") != cacheMiss {
		t.Fatalf("first: %d %s", first.status, first.header.Get("X-Cache"))
	}
	time.Sleep(earlier.proxy.cfg.Cache.PageTTL) // the other replica judges freshness on its own wall clock
	// The replica under test starts now, without a page of its own, as
	// one restarted: what it knows of the first page is in Redis.
	b := startProxyOn(t, sim, atDefaultTimeouts(r.URL()), Options{})

	// The other replica fetches both pages from an upstream that never
	// answers: it holds both keys' locks when it dies.
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // read to its end, the server notices the caller's end
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close) // after the replica's end (cleanups run last first), which ends its calls
	aURL, a := startLockHolder(t, strings.TrimPrefix(hang.URL, "http://"), r.URL())
	for _, path := range []string{withStale, without} {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, aURL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if resp, err := http.DefaultClient.Do(req); err == nil { // the replica dies before it answers
				resp.Body.Close()
			}
		}()
	}
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer c.Close()
	locks := waitForLocks(t, c, 2)
	if err := a.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = a.Wait() // the status of a killed process
	for _, k := range locks {
		// Its lease, on Redis's clock: shorter than maxWait, so no waiter
		// gives up on the lock before it frees.
		if ttl, err := c.PTTL(context.Background(), k).Result(); err != nil || ttl >= b.proxy.cfg.Budget.MaxWait {
			t.Errorf("a dead replica's flight lock lives %v more (%v), want less than maxWait, %v", ttl, err, b.proxy.cfg.Budget.MaxWait)
		}
	}

	calls := upstreamCalls(b)
	began := time.Now()
	stale := b.get(t, withStale, tok)
	tookStale := time.Since(began)
	if stale.status != 200 || stale.header.Get("X-Cache") != cacheStale || string(stale.body) != string(first.body) {
		t.Errorf("a page with a shared last answer, its lock held by a dead replica: %d %s, same body %v, want 200 STALE with the last answer",
			stale.status, stale.header.Get("X-Cache"), string(stale.body) == string(first.body))
	}
	if n := upstreamCalls(b); n != calls {
		t.Errorf("%d upstream calls for a stale answer", n-calls)
	}
	began = time.Now()
	fetched := b.get(t, without, tok)
	tookFetch := time.Since(began)
	if fetched.status != 200 || fetched.header.Get("X-Cache") != cacheMiss || upstreamCalls(b) != calls+1 {
		t.Errorf("a page without one: %d %s after %d upstream calls, want 200 MISS after 1", fetched.status, fetched.header.Get("X-Cache"), upstreamCalls(b)-calls)
	}
	for outcome, want := range map[string]float64{waitStale: 1, waitFreed: 1, waitMaxWait: 0, waitAnswered: 0} {
		if got := metric(t, b, `mudscf_redis_flight_waits_total{outcome="`+outcome+`"}`); got != want {
			t.Errorf("flight waits %s: %v, want %v", outcome, got, want)
		}
	}

	// Once the lease lapsed, the stale page is fetched anew too.
	for deadline := time.Now().Add(30 * time.Second); c.Exists(context.Background(), locks...).Val() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) { // a guard against a hang, not a measure: the lease runs on Redis's clock
			t.Fatal("after 30s the dead replica's locks are still there")
		}
	}
	if again := b.get(t, withStale, tok); again.status != 200 || again.header.Get("X-Cache") != cacheMiss || upstreamCalls(b) != calls+2 {
		t.Errorf("after the lease lapsed: %d %s, want a fetch (MISS)", again.status, again.header.Get("X-Cache"))
	}
	t.Logf("after the SIGKILL: the stale answer took %v, the fetch after the lapsed lock %v (maxWait %v)",
		tookStale.Round(time.Millisecond), tookFetch.Round(time.Millisecond), b.proxy.cfg.Budget.MaxWait)
}

// gated holds every upstream call until open is closed (or the call is
// given up), then sends it on.
type gated struct{ open chan struct{} }

func (g gated) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-g.open:
		return http.DefaultTransport.RoundTrip(r)
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

// A replica whose flight runs long keeps its lock past the lease by
// renewing it; another replica waits on that flight no longer than
// budget.maxWait on its clock, and then answers 429, as a budget without a
// slot that soon would: a flight of its own would spend the account's
// budget on the same answer.
func TestRedisWaitOnALiveFlightEndsAtMaxWait(t *testing.T) {
	r := testenv.StartRedis(t)
	sim := testenv.StartSimulator(t, nil)
	g := gated{open: make(chan struct{})}
	// Pages fresh for longer than the holder's flight runs.
	config := func(cfg *Config) { atDefaultTimeouts(r.URL())(cfg); cfg.Cache.PageTTL = time.Minute }
	holder := startProxyOn(t, sim, config, Options{Transport: g})
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	waiter := startProxyOn(t, sim, config, Options{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	tok := holder.token(t, "usr_morgan_de")
	path := logsPath + "?stats=false&limit=3" + fixedWindow()

	held := make(chan response, 1)
	go func() { held <- holder.get(t, path, tok) }()
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer c.Close()
	lock := waitForLocks(t, c, 1)[0]

	polls := func() int {
		info := c.Info(context.Background(), "commandstats").Val()
		m := regexp.MustCompile(`cmdstat_exists:calls=(\d+)`).FindStringSubmatch(info)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	before := polls()
	waited := make(chan response, 1)
	go func() { waited <- waiter.get(t, path, tok) }()
	// Once the waiter polls (only a waiter looks whether a lock exists),
	// its deadline is set: move its clock past it.
	for deadline := time.Now().Add(30 * time.Second); polls() == before; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) { // a guard against a hang, not a measure
			t.Fatal("after 30s the waiter has not polled the lock")
		}
	}
	now.Add(int64(waiter.proxy.cfg.Budget.MaxWait))
	select {
	case got := <-waited:
		assertEnvelope(t, got, 429, translate.CodeRateLimited)
		wantRetryAfter(t, got)
	case <-time.After(30 * time.Second): // a guard against a hang, not a measure
		t.Fatal("the waiter still waits, 30s after its clock passed maxWait")
	}
	if got := metric(t, waiter, `mudscf_redis_flight_waits_total{outcome="maxwait"}`); got != 1 {
		t.Errorf("waits ended by maxWait: %v, want 1", got)
	}

	// The holder's flight still runs, past two leases: it renews its lock.
	time.Sleep(2 * flightLease) // the lease runs on Redis's clock
	if ttl := c.PTTL(context.Background(), lock).Val(); ttl <= 0 || ttl > flightLease {
		t.Errorf("the live holder's lock, two leases on: PTTL %v, want within (0, %v]", ttl, flightLease)
	}
	calls := upstreamCalls(waiter)
	close(g.open)
	if got := <-held; got.status != 200 {
		t.Errorf("the holder: %d", got.status)
	}
	if n := c.Exists(context.Background(), lock).Val(); n != 0 {
		t.Error("the holder's lock outlived its flight")
	}
	if got := waiter.get(t, path, tok); got.status != 200 || got.header.Get("X-Cache") != cacheHit || upstreamCalls(waiter) != calls+1 {
		t.Errorf("the waiter, after the holder answered: %d %s, %d upstream calls, want a HIT of the holder's one call",
			got.status, got.header.Get("X-Cache"), upstreamCalls(waiter)-calls)
	}
	if calls != 0 {
		t.Errorf("%d upstream calls before the holder's, want none: the waiter does not fetch what another replica fetches", calls)
	}
}
