package proxy

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/scfsim"
)

// 200 distinct concurrent requests: the upstream never sees more than 5
// calls in a sliding second, never answers RequestLimitExceeded, and every
// client gets its logs or a 429 with Retry-After.
func TestBudgetHoldsUnderDistinctLoad(t *testing.T) {
	env := startProxy(t, nil)
	tok := env.token(t, "usr_morgan_de")
	window := fixedWindow()
	statuses := make([]int, 200)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, env.url+logsPath+"?limit=1&offset="+strconv.Itoa(i)+window, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
			if resp.StatusCode == http.StatusTooManyRequests {
				if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
					t.Errorf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
				}
			}
		}()
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[200]+counts[429] != len(statuses) || counts[200] == 0 || counts[429] == 0 {
		t.Errorf("statuses %v: want only 200s and 429s, some of each", counts)
	}
	assertBudgetKept(t, env.sim.sim.Truth(), counts)
}

// assertBudgetKept checks the simulator's ground truth after distinct
// requests of one window: never more than 5 calls in a sliding second, no
// RequestLimitExceeded, and one page call per 200 plus the window's two
// stats calls, made once.
func assertBudgetKept(t *testing.T, truth scfsim.Truth, counts map[int]int) {
	t.Helper()
	if most := truth.MaxCallsInAnySlidingSecond[testSecretID]; most > 5 || most < 1 {
		t.Errorf("the upstream saw %d calls in one sliding second", most)
	}
	if n := truth.TotalRejected[testSecretID]; n != 0 {
		t.Errorf("the upstream answered RequestLimitExceeded %d times", n)
	}
	if got, want := truth.TotalAccepted[testSecretID], int64(counts[200]+2); got != want {
		t.Errorf("upstream calls %d, want %d (one per 200 plus two for stats)", got, want)
	}
	t.Logf("statuses %v, upstream calls %d", counts, truth.TotalAccepted[testSecretID])
}

// 500 identical concurrent requests make one page call and the two stats
// calls, nothing more.
func TestIdenticalRequestsCollapse(t *testing.T) {
	// A generous upstream timeout: on a loaded machine 500 clients under
	// -race can hold the one flight past the usual 2 s, which would fail
	// every waiter and start a second flight.
	env := startProxy(t, func(c *Config) { c.Upstream.Timeout = 15 * time.Second })
	// Slow the upstream so every request arrives while the flight is out.
	env.sim.sim.SetFaults(scfsim.Faults{Latency: 300 * time.Millisecond})
	tok := env.token(t, "usr_morgan_de")
	path := logsPath + "?limit=5" + fixedWindow()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, env.url+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[200] != 500 {
		t.Errorf("statuses %v, want 500 200s", statuses)
	}
	if got := env.sim.sim.Truth().TotalAccepted[testSecretID]; got != 3 {
		t.Errorf("%d upstream calls for 500 identical requests, want 3 (page + 2 stats)", got)
	}
}

// A client that hangs up does not fail the others waiting on the same
// flight.
func TestFlightSurvivesCallerHangingUp(t *testing.T) {
	env := startProxy(t, nil)
	env.sim.sim.SetFaults(scfsim.Faults{Latency: 300 * time.Millisecond})
	tok := env.token(t, "usr_morgan_de")
	path := logsPath + "?" + fixedWindow()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(10 * time.Millisecond)
	if r := env.get(t, path, tok); r.status != 200 {
		t.Fatalf("the patient client got %d: %s", r.status, r.body)
	}
	if got := env.sim.sim.Truth().TotalAccepted[testSecretID]; got != 3 {
		t.Errorf("%d upstream calls, want 3: the second client should have joined the first flight", got)
	}
}

// The exporter's background traffic waits behind interactive clients.
func TestBackgroundYieldsToInteractive(t *testing.T) {
	b := NewBudget(1, 100*time.Millisecond, 2*time.Second)
	first, _, err := b.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	first.Done(time.Now())
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	acquire := func(name string, p Priority) {
		defer wg.Done()
		g, _, err := b.Acquire(context.Background(), p)
		if err != nil {
			t.Error(err)
			return
		}
		g.Done(time.Now())
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
	}
	wg.Add(1)
	go acquire("background", Background)
	time.Sleep(20 * time.Millisecond) // queued first...
	wg.Add(1)
	go acquire("interactive", Interactive)
	wg.Wait()
	if fmt.Sprint(order) != "[interactive background]" {
		t.Errorf("grant order %v: the interactive waiter should go first", order)
	}
}

// Saturated, the budget grants exactly limit per window and never limit+1
// in any sliding window.
func TestBudgetSlidingWindow(t *testing.T) {
	const limit, window = 5, 200 * time.Millisecond
	b := NewBudget(limit, window, 5*time.Second)
	var mu sync.Mutex
	var grants []time.Time
	var wg sync.WaitGroup
	for range 25 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, _, err := b.Acquire(context.Background(), Interactive)
			if err != nil {
				t.Error(err)
				return
			}
			now := time.Now()
			g.Done(now) // an instant call
			mu.Lock()
			grants = append(grants, now)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sortTimes(grants)
	for i := limit; i < len(grants); i++ {
		if gap := grants[i].Sub(grants[i-limit]); gap < window {
			t.Fatalf("grants %d and %d are %s apart: %d calls inside one window", i-limit, i, gap, limit+1)
		}
	}
	// 25 grants at 5 per window need 4 windows beyond the first burst;
	// much more would mean the budget wastes slots.
	if span := grants[len(grants)-1].Sub(grants[0]); span > 6*window {
		t.Errorf("25 grants took %s; the budget is not using its full rate", span)
	}
}

// fixedWindow pins since and until: the default window follows the clock,
// and a load test must not straddle one of its alignment steps.
func fixedWindow() string {
	until := time.Now().Truncate(time.Second)
	return "&since=" + until.Add(-time.Hour).UTC().Format(time.RFC3339) + "&until=" + until.UTC().Format(time.RFC3339)
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// A wait that cannot end before the deadline is refused at once, with the
// time a slot frees.
func TestBudgetFailsFast(t *testing.T) {
	b := NewBudget(1, time.Second, 100*time.Millisecond)
	g, _, err := b.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	g.Done(time.Now())
	start := time.Now()
	_, _, err = b.Acquire(context.Background(), Interactive)
	be, ok := err.(*BudgetError)
	if !ok || be.RetryAfter <= 0 || be.RetryAfter > time.Second {
		t.Fatalf("got %v, want a BudgetError with a Retry-After up to 1s", err)
	}
	if time.Since(start) > 50*time.Millisecond {
		t.Errorf("a hopeless wait took %s; it should fail fast", time.Since(start))
	}
}

// A call still in flight holds its slot: the upstream may count it at any
// moment until its answer is back.
func TestBudgetInFlightHoldsSlot(t *testing.T) {
	b := NewBudget(1, 50*time.Millisecond, 150*time.Millisecond)
	slow, _, err := b.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Acquire(context.Background(), Interactive); err == nil {
		t.Fatal("a second call was admitted while the first was in flight")
	}
	done := time.Now()
	slow.Done(done)
	g, _, err := b.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	if since := time.Since(done); since < 50*time.Millisecond {
		t.Errorf("admitted %s after the previous call completed, inside the window", since)
	}
	g.Done(time.Now())
}

// stats=false answers "stats": null and spends one upstream call, not three.
func TestSkipStatsCostsOneCall(t *testing.T) {
	env := startProxy(t, nil)
	r := env.get(t, logsPath+"?limit=2&stats=false"+fixedWindow(), env.token(t, "usr_morgan_de"))
	if r.status != 200 || !strings.HasSuffix(string(r.body), `,"stats":null}}`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := env.sim.sim.Truth().TotalAccepted[testSecretID]; got != 1 {
		t.Errorf("%d upstream calls, want 1", got)
	}
}
