package proxy

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
)

// Each of the simulator's faults, with and without a cached answer: the
// cached one is served marked stale, otherwise the client gets the clear
// error of the table in docs/operations.md. Faults that mean the upstream is
// unhealthy open the breaker, which then answers without calling; the first
// request after the upstream recovers and the breaker's openFor has passed
// is served fresh. In-process, on a synctest bubble's clock: only the
// injected latency crosses the upstream timeout, never a slow machine.
func TestUpstreamFaults(t *testing.T) {
	cases := []struct {
		name      string
		faults    tencentsim.Faults
		status    int
		code      string
		unhealthy bool // counts toward opening the breaker
	}{
		{"gateway 502", tencentsim.Faults{HTTPStatus: 502}, 502, translate.CodeUpstreamBadReply, true},
		{"gateway 503 page", tencentsim.Faults{HTTPStatus: 503}, 502, translate.CodeUpstreamBadReply, true},
		{"malformed JSON", tencentsim.Faults{MalformedJSON: true}, 502, translate.CodeUpstreamBadReply, true},
		{"InternalError", tencentsim.Faults{ErrorCode: "InternalError"}, 502, translate.CodeUpstreamError, true},
		{"ResourceUnavailable", tencentsim.Faults{ErrorCode: "ResourceUnavailable"}, 503, translate.CodeUpstreamDown, true},
		{"connection reset", tencentsim.Faults{ResetConnection: true}, 503, translate.CodeUpstreamDown, true},
		{"latency past the timeout", tencentsim.Faults{Latency: 2 * time.Second}, 504, translate.CodeUpstreamTimeout, true},
		{"auth failure", tencentsim.Faults{ErrorCode: "AuthFailure.SignatureFailure"}, 502, translate.CodeUpstreamAuth, false},
		{"function gone", tencentsim.Faults{ErrorCode: "ResourceNotFound.Function"}, 404, translate.CodeFunctionNotFound, false},
		{"upstream limit", tencentsim.Faults{ErrorCode: "RequestLimitExceeded"}, 429, translate.CodeRateLimited, false},
	}
	forEachSource(t, func(t *testing.T, src logSource) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) { testUpstreamFault(t, src, c.faults, c.status, c.code, c.unhealthy) })
			})
		}
	})
}

func testUpstreamFault(t *testing.T, src logSource, faults tencentsim.Faults, status int, code string, unhealthy bool) {
	const openFor = 300 * time.Millisecond
	env := src.startInBubble(t, func(cfg *Config) {
		cfg.Cache.PageTTL, cfg.Cache.StatsTTL = 50*time.Millisecond, 50*time.Millisecond
		// Stale-if-error alone: no background refresh calling the faulty
		// upstream besides the requests counted here.
		cfg.Cache.StaleWhileRevalidate = time.Nanosecond
		cfg.Upstream.Timeout = 300 * time.Millisecond
		cfg.Upstream.Breaker = upstream.BreakerConfig{Failures: 2, OpenFor: openFor}
		cfg.Budget.Backoff = 200 * time.Millisecond
	})
	tok := env.token(t, "usr_morgan_de")
	// stats=false: one call per request keeps the test within the budget
	// (5 calls a second) without waiting; stats and page share the code
	// under test.
	cachedPath := logsPath + "?limit=2&stats=false"
	if r := env.get(t, cachedPath, tok); r.status != 200 {
		t.Fatalf("warm-up: %d %s", r.status, r.body)
	}
	env.sim.SetFaults(faults)
	time.Sleep(60 * time.Millisecond) // past both TTLs

	// Without a cached answer: one upstream call, one clear error.
	r := env.get(t, logsPath+"?limit=2&offset=1&stats=false", tok)
	body := assertEnvelope(t, r, status, code)
	if status == 429 {
		wantRetryAfter(t, r)
	}
	if faults.ErrorCode != "" && body.UpstreamCode != faults.ErrorCode {
		t.Errorf("the upstream code is missing: %+v", body)
	}
	// With one: stale.
	stale := env.get(t, cachedPath, tok)
	if stale.status != 200 || stale.header.Get("X-Cache") != "STALE" || stale.header.Get("Age") == "" {
		t.Errorf("with a cached answer: %d X-Cache=%q Age=%q", stale.status, stale.header.Get("X-Cache"), stale.header.Get("Age"))
	}

	// Two unhealthy answers in a row have opened the breaker: no more
	// calls, stale where cached, else 503 with Retry-After.
	if unhealthy {
		// Counted by the proxy: the simulator records a call the proxy
		// timed out only once it notices the hang-up.
		before := src.admitted(t, env)
		open := env.get(t, logsPath+"?limit=2&offset=2&stats=false", tok)
		assertEnvelope(t, open, 503, translate.CodeUpstreamDown)
		wantRetryAfter(t, open)
		if s := env.get(t, cachedPath, tok); s.status != 200 || s.header.Get("X-Cache") != "STALE" {
			t.Errorf("cached, breaker open: %d X-Cache=%q", s.status, s.header.Get("X-Cache"))
		}
		if after := src.admitted(t, env); after != before {
			t.Errorf("%v upstream calls while the breaker was open", after-before)
		}
	} else if got := metric(t, env, `mudscf_upstream_breaker_state{account="default",api="`+src.api+`",region="ap-guangzhou",state="closed"}`); got != 1 {
		t.Errorf("%+v opened the breaker: the upstream answered", faults)
	}

	env.sim.SetFaults(tencentsim.Faults{})
	time.Sleep(openFor + 50*time.Millisecond) // past the TTLs, the backoff and the breaker's openFor
	if r := env.get(t, cachedPath, tok); r.status != 200 || r.header.Get("X-Cache") != "MISS" {
		t.Errorf("after recovery: %d X-Cache=%q %s", r.status, r.header.Get("X-Cache"), r.body)
	}
}

// A storm of RequestLimitExceeded answers: every client gets a 429 with
// Retry-After, and the proxy does not storm back. Before the first answer
// arrives the budget's slots (5) may all be out; after it, each such answer
// pauses the account for budget.backoff and then lets one probe call
// through, so the upstream sees one call per backoff, however many clients
// ask (without the probe rule: 15 calls in this test). On a synctest
// bubble's clock: the waves and the backoff are exact.
func TestRequestLimitStormIsNotRetried(t *testing.T) {
	forEachSource(t, func(t *testing.T, src logSource) {
		synctest.Test(t, func(t *testing.T) { testRequestLimitStorm(t, src) })
	})
}

func testRequestLimitStorm(t *testing.T, src logSource) {
	const backoff = 500 * time.Millisecond
	env := src.startInBubble(t, func(cfg *Config) {
		cfg.Budget.Backoff = backoff
		cfg.Budget.MaxWait = 2 * time.Second
	})
	env.sim.SetFaults(tencentsim.Faults{ErrorCode: "RequestLimitExceeded"})
	tok := env.token(t, "usr_morgan_de")
	window := fixedWindow()
	start := time.Now()
	var wg sync.WaitGroup
	for wave := range 3 {
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := env.get(t, logsPath+"?stats=false&limit=1&offset="+strconv.Itoa(wave*10+i)+window, tok)
				assertEnvelope(t, r, 429, translate.CodeRateLimited)
				wantRetryAfter(t, r)
			}()
		}
		time.Sleep(300 * time.Millisecond)
	}
	wg.Wait()
	elapsed := time.Since(start)
	calls := src.calls(env)
	if bound := src.burst + int64(elapsed/backoff); calls > bound {
		t.Errorf("%d upstream calls in %s of RequestLimitExceeded, want at most %d (%d, then one per %s backoff)", calls, elapsed, bound, src.burst, backoff)
	}
	t.Logf("30 requests, %d upstream calls in %s", calls, elapsed.Round(time.Millisecond))
}

// With the upstream dead, the breaker lets exactly `failures` calls
// through, then none until openFor has passed, then a single probe however
// many clients ask; calls it refuses spend no budget. When the upstream is
// back, the probe's success closes it. On a synctest bubble's clock.
func TestBreakerStopsCallingADeadUpstream(t *testing.T) {
	forEachSource(t, func(t *testing.T, src logSource) {
		synctest.Test(t, func(t *testing.T) { testBreakerStopsCalling(t, src) })
	})
}

func testBreakerStopsCalling(t *testing.T, src logSource) {
	const failures, openFor = 3, 400 * time.Millisecond
	env := src.startInBubble(t, func(cfg *Config) {
		cfg.Upstream.Breaker = upstream.BreakerConfig{Failures: failures, OpenFor: openFor}
	})
	env.sim.SetFaults(tencentsim.Faults{ResetConnection: true})
	tok := env.token(t, "usr_morgan_de")
	window := fixedWindow()
	path := func(i int) string { return logsPath + "?stats=false&limit=1&offset=" + strconv.Itoa(i) + window }

	for i := range 20 {
		r := env.get(t, path(i), tok)
		body := assertEnvelope(t, r, 503, translate.CodeUpstreamDown)
		if i >= failures {
			wantRetryAfter(t, r)
			if !strings.Contains(body.Error, "stopped calling it") {
				t.Errorf("request %d: message %q does not say the breaker is open", i, body.Error)
			}
		}
	}
	// The breaker counts pages: a CLS page's parallel queries are one
	// call to it.
	calls := src.calls(env)
	if calls < failures || calls > failures*src.parallel {
		t.Errorf("20 requests to a dead upstream made %d calls, want %d pages' (%d to %d calls)", calls, failures, failures, failures*src.parallel)
	}
	// A CLS query cancelled with its page may have taken its slot and
	// not reached the upstream.
	if got := src.admitted(t, env); got < float64(calls) || got > float64(failures*src.parallel) {
		t.Errorf("%v budget slots taken for %d calls of %d pages: refused calls must not spend budget", got, calls, failures)
	}
	if got := metric(t, env, `mudscf_upstream_breaker_state{account="default",api="`+src.api+`",region="ap-guangzhou",state="open"}`); got != 1 {
		t.Errorf("breaker state open = %v", got)
	}

	time.Sleep(openFor + 50*time.Millisecond)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assertEnvelope(t, env.get(t, path(100+i), tok), 503, translate.CodeUpstreamDown)
		}()
	}
	wg.Wait()
	if probe := src.calls(env) - calls; probe < 1 || probe > src.parallel {
		t.Errorf("10 concurrent requests to a half-open breaker made %d calls, want 1 probe page", probe)
	}

	env.sim.SetFaults(tencentsim.Faults{})
	time.Sleep(openFor + 50*time.Millisecond)
	if r := env.get(t, path(200), tok); r.status != 200 {
		t.Fatalf("after recovery: %d %s", r.status, r.body)
	}
	if r := env.get(t, path(201), tok); r.status != 200 {
		t.Fatalf("after the probe: %d %s", r.status, r.body)
	}
	for series, want := range map[string]float64{
		`mudscf_upstream_breaker_state{account="default",api="` + src.api + `",region="ap-guangzhou",state="closed"}`:             1,
		`mudscf_upstream_breaker_state{account="default",api="` + src.api + `",region="ap-guangzhou",state="open"}`:               0,
		`mudscf_upstream_breaker_transitions_total{account="default",api="` + src.api + `",region="ap-guangzhou",state="open"}`:   2,
		`mudscf_upstream_breaker_transitions_total{account="default",api="` + src.api + `",region="ap-guangzhou",state="closed"}`: 1,
	} {
		if got := metric(t, env, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

// A client that sends its headers a byte at a time is cut off at the
// header timeout, and other clients are served meanwhile.
func TestSlowLorisIsCutOff(t *testing.T) {
	env := startProxy(t, nil)
	env.proxy.readHeaderTimeout = 300 * time.Millisecond
	base := serve(t, env)

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// 200 bytes at one per 50ms would take 10s to send.
	request := "GET " + logsPath + " HTTP/1.1\r\nHost: mudscf\r\nX-Slow: " + strings.Repeat("s", 200)
	stop := make(chan struct{})
	finished := make(chan int, 1)
	go func() {
		for i := range len(request) {
			select {
			case <-stop:
				finished <- i
				return
			case <-time.After(50 * time.Millisecond): // a client on a real socket, whose header timeout runs on the wall clock
			}
			if _, err := conn.Write([]byte{request[i]}); err != nil {
				finished <- i
				return
			}
		}
		finished <- len(request)
	}()
	closed := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(conn) // returns when the server drops the connection
		closed <- err
	}()

	// Served while the slow client is still sending.
	if r := getURL(t, base+logsPath, env.token(t, "usr_morgan_de")); r.status != 200 {
		t.Errorf("a normal client during the slow one: %d %s", r.status, r.body)
	}
	select {
	case err := <-closed:
		t.Logf("the server dropped the slow client (%v)", err)
		close(stop)
		if sent := <-finished; sent >= len(request) {
			t.Errorf("the slow client sent its whole request (%d bytes)", sent)
		}
	case sent := <-finished:
		t.Fatalf("the slow client sent %d bytes, its whole request, without being cut off", sent)
	}
}
