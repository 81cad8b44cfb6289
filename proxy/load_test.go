package proxy

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
)

// 200 distinct concurrent requests: the upstream never sees more than 5
// calls in a sliding second, never answers RequestLimitExceeded, and every
// client gets its logs or a 429 with Retry-After, some of each. In-process,
// on a synctest bubble's clock: the budget's rate and maxWait, not the
// machine's speed, decide who is served.
func TestBudgetHoldsUnderDistinctLoad(t *testing.T) {
	synctest.Test(t, testBudgetHoldsUnderDistinctLoad)
}

func testBudgetHoldsUnderDistinctLoad(t *testing.T) {
	env := startProxyOn(t, simulateInBubble(t, 1), nil, Options{})
	tok := env.token(t, "usr_morgan_de")
	window := fixedWindow()
	statuses := make([]int, 200)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() { statuses[i] = env.getStatus(t, logsPath+"?limit=1&offset="+strconv.Itoa(i)+window, tok) })
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[200]+counts[429] != len(statuses) || counts[200] == 0 || counts[429] == 0 {
		t.Errorf("statuses %v: want only 200s and 429s, some of each", counts)
	}
	assertBudgetKept(t, env.sim.Truth(), counts)
}

// assertBudgetKept checks the simulator's ground truth after distinct
// requests of one window: never more than 5 calls in a sliding second, no
// RequestLimitExceeded, and one page call per 200 plus the window's two
// stats calls, made once.
func assertBudgetKept(t *testing.T, truth tencentsim.Truth, counts map[int]int) {
	t.Helper()
	if most := truth.MaxCallsInAnySlidingSecond[testenv.SecretID]; most > 5 || most < 1 {
		t.Errorf("the upstream saw %d calls in one sliding second", most)
	}
	if n := truth.TotalRejected[testenv.SecretID]; n != 0 {
		t.Errorf("the upstream answered RequestLimitExceeded %d times", n)
	}
	if got, want := truth.TotalAccepted[testenv.SecretID], int64(counts[200]+2); got != want {
		t.Errorf("upstream calls %d, want %d (one per 200 plus two for stats)", got, want)
	}
	t.Logf("statuses %v, upstream calls %d", counts, truth.TotalAccepted[testenv.SecretID])
}

// 500 identical concurrent requests make one page call and the two stats
// calls, nothing more. In-process, on a synctest bubble's clock: however
// slowly 500 clients are served, the one flight takes the injected latency
// and no more, inside the upstream timeout.
func TestIdenticalRequestsCollapse(t *testing.T) { synctest.Test(t, testIdenticalRequestsCollapse) }

func testIdenticalRequestsCollapse(t *testing.T) {
	env := startProxyOn(t, simulateInBubble(t, 1), nil, Options{})
	// Slow the upstream so every request arrives while the flight is out.
	env.sim.SetFaults(tencentsim.Faults{Latency: 300 * time.Millisecond})
	tok := env.token(t, "usr_morgan_de")
	path := logsPath + "?limit=5" + fixedWindow()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 500 {
		wg.Go(func() {
			s := env.getStatus(t, path, tok)
			mu.Lock()
			statuses[s]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 500 {
		t.Errorf("statuses %v, want 500 200s", statuses)
	}
	if got := env.sim.Truth().TotalAccepted[testenv.SecretID]; got != 3 {
		t.Errorf("%d upstream calls for 500 identical requests, want 3 (page + 2 stats)", got)
	}
}

// A client that hangs up does not fail the others waiting on the same
// flight. On a synctest bubble's clock: the second client comes while the
// first waits, and the first hangs up while the flight is out.
func TestFlightSurvivesCallerHangingUp(t *testing.T) {
	synctest.Test(t, testFlightSurvivesCallerHangingUp)
}

func testFlightSurvivesCallerHangingUp(t *testing.T) {
	env := startProxyOn(t, simulateInBubble(t, 1), nil, Options{})
	env.sim.SetFaults(tencentsim.Faults{Latency: 300 * time.Millisecond})
	tok := env.token(t, "usr_morgan_de")
	path := logsPath + "?" + fixedWindow()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	go func() {
		if resp, err := env.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(10 * time.Millisecond)
	if r := env.get(t, path, tok); r.status != 200 {
		t.Fatalf("the patient client got %d: %s", r.status, r.body)
	}
	if got := env.sim.Truth().TotalAccepted[testenv.SecretID]; got != 3 {
		t.Errorf("%d upstream calls, want 3: the second client should have joined the first flight", got)
	}
}

// stats=false answers "stats": null and spends one upstream call, not three.
func TestSkipStatsCostsOneCall(t *testing.T) {
	env := startProxy(t, nil)
	r := env.get(t, logsPath+"?limit=2&stats=false"+fixedWindow(), env.token(t, "usr_morgan_de"))
	if r.status != 200 || !strings.HasSuffix(string(r.body), `,"stats":null}}`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := env.sim.Truth().TotalAccepted[testenv.SecretID]; got != 1 {
		t.Errorf("%d upstream calls, want 1", got)
	}
}
