package proxy

import (
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
)

// searchLogConcurrency is Tencent's limit of concurrent SearchLog queries
// on one topic, which the simulator enforces too.
const searchLogConcurrency = 15

// 200 distinct concurrent requests to a CLS-backed project: the topic
// never runs more than 15 SearchLog queries at once, CLS never answers a
// limit error, and every client gets its logs or a 429 with Retry-After,
// some of each. In-process, on a synctest bubble's clock: the queries'
// injected latency, not the machine's speed, decides who waits past the
// budget's maxWait (on the wall clock a slow machine answered every client
// 429).
func TestCLSBudgetHoldsUnderDistinctLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := simulateInBubble(t, 12)
		env := startProxyOn(t, sim, readFromCLS, Options{})
		counts := runDistinctCLSLoad(t, sim, []*proxyEnv{env})
		if counts[200] == 0 || counts[429] == 0 {
			t.Errorf("statuses %v: want some of each", counts)
		}
	})
}

// The same across two replicas sharing the topic's slots in Redis, whose
// clock is the wall's: how many clients wait past maxWait depends on the
// machine's speed, so only what the budget guarantees whatever the timing
// is checked.
func TestRedisCLSReplicasShareTheTopicConcurrency(t *testing.T) {
	r := testenv.StartRedis(t)
	// A twelfth of the usual rate: the simulator builds a window's log
	// records for every SearchLog, and under -race its CPU, not the
	// topic's slots, would otherwise be the bottleneck.
	sim := simulateTestFunctions(t, 12)
	pair := redisPairOn(t, sim, r, both(readFromCLS, slowUpstreamTimeout))
	runDistinctCLSLoad(t, sim, pair[:])
}

// slowUpstreamTimeout leaves room for the latency injected below on a
// machine slowed by the race detector.
func slowUpstreamTimeout(cfg *Config) { cfg.Upstream.Timeout = 10 * time.Second }

// runDistinctCLSLoad sends 200 distinct requests of one window over the
// replicas while each SearchLog takes a while, so that queries overlap,
// checks the simulator's ground truth, and returns the count of each
// status.
func runDistinctCLSLoad(t *testing.T, sim *testenv.Simulator, replicas []*proxyEnv) map[int]int {
	t.Helper()
	// Each query holds its topic slot for the injected latency: 200
	// clients with three queries each keep far more than 15 waiting.
	sim.SetFaults(tencentsim.Faults{Latency: 50 * time.Millisecond})
	tok := replicas[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	statuses := make([]int, 200)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = replicas[i%len(replicas)].getStatus(t, logsPath+"?limit=1&offset="+strconv.Itoa(i)+window, tok)
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[200]+counts[429] != len(statuses) {
		t.Errorf("statuses %v: want only 200s and 429s", counts)
	}
	truth := sim.Truth()
	topic := tencentsim.DefaultClsTopicID("ap-guangzhou", "default", "APITest")
	most := truth.SearchLog.MaxConcurrentPerTopic[topic]
	switch {
	case most > searchLogConcurrency:
		t.Errorf("the topic ran %d SearchLog queries at once, over Tencent's %d", most, searchLogConcurrency)
	case most <= 1:
		// Otherwise the limit was never approached and the test shows
		// nothing.
		t.Errorf("the topic never ran more than %d query at once: the load did not exercise the limit", most)
	}
	for what, n := range map[string]int64{
		"LimitExceeded.LogSearch": truth.SearchLog.ConcurrencyLimited[testenv.SecretID],
		"RequestLimitExceeded":    truth.SearchLog.RateLimited[testenv.SecretID],
	} {
		if n != 0 {
			t.Errorf("CLS answered %s %d times", what, n)
		}
	}
	if n := truth.SearchLog.Accepted[testenv.SecretID]; n == 0 {
		t.Errorf("no SearchLog call reached CLS")
	}
	if len(truth.TotalAccepted) != 0 {
		t.Errorf("a CLS-backed project called GetFunctionLogs: %v", truth.TotalAccepted)
	}
	t.Logf("statuses %v, SearchLog calls %d, at most %d at once on the topic", counts,
		truth.SearchLog.Accepted[testenv.SecretID], most)
	return counts
}
