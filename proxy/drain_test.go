package proxy

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// Requests queued for a budget slot when the proxy starts draining get no
// upstream call: the one with a cached answer is answered stale, the
// others 503 with Retry-After, at once; the slots that free afterwards go
// to nobody. In-process, on a synctest bubble's clock: the waiters are
// queued (durably blocked on the budget) when the drain starts.
func TestQueuedWaitersAtDrain(t *testing.T) { synctest.Test(t, testQueuedWaitersAtDrain) }

func testQueuedWaitersAtDrain(t *testing.T) {
	env := startProxyOn(t, simulateInBubble(t, 1), func(cfg *Config) {
		cfg.Budget.MaxWait = 5 * time.Second
		cfg.Cache.PageTTL = 100 * time.Millisecond
		// Stale only when a fetch fails: no background refresh.
		cfg.Cache.StaleWhileRevalidate = time.Nanosecond
	}, Options{})
	tok := env.token(t, "usr_morgan_de")
	window := fixedWindow()
	page := func(offset int) string {
		return logsPath + "?stats=false&limit=1&offset=" + strconv.Itoa(offset) + window
	}
	if r := env.get(t, page(0), tok); r.status != 200 {
		t.Fatalf("warm-up: %d %s", r.status, r.body)
	}
	time.Sleep(time.Second) // the budget's window: its 5 slots are free again; page(0) is past its TTL

	// Five distinct misses take the account's 5 slots for a second; three
	// more queue behind them, page(0) among them.
	for i := 1; i <= 5; i++ {
		if r := env.get(t, page(i), tok); r.status != 200 {
			t.Fatalf("filling the budget: %d %s", r.status, r.body)
		}
	}
	calls := upstreamCalls(env)
	queued := []int{0, 6, 7}
	answers := make([]response, len(queued))
	var wg sync.WaitGroup
	for i, offset := range queued {
		wg.Go(func() { answers[i] = env.get(t, page(offset), tok) })
	}
	synctest.Wait() // every one waits for a slot
	start := time.Now()
	env.proxy.drain() // what Serve does at SIGTERM
	wg.Wait()
	if waited := time.Since(start); waited != 0 {
		t.Errorf("the queued requests were answered %s into the drain, want at once", waited)
	}
	time.Sleep(2 * time.Second) // past the window in which slots free
	if got := upstreamCalls(env); got != calls {
		t.Errorf("%d upstream calls after the drain began, want none", got-calls)
	}
	if r := answers[0]; r.status != 200 || r.header.Get("X-Cache") != "STALE" {
		t.Errorf("queued with a cached answer: %d X-Cache %q, want 200 STALE", r.status, r.header.Get("X-Cache"))
	}
	for _, r := range answers[1:] {
		assertEnvelope(t, r, http.StatusServiceUnavailable, translate.CodeUpstreamDown)
		wantRetryAfter(t, r)
	}
	// Refused calls never reached the upstream: the breaker did not count
	// them.
	if got := metric(t, env, `mudscf_upstream_breaker_state{account="default",api="GetFunctionLogs",region="ap-guangzhou",state="closed"}`); got != 1 {
		t.Errorf("the drain opened the breaker")
	}
}
