package proxy

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// Two replicas share a Redis Cluster of three masters: every script's
// keys share one hash tag, so no operation fails with CROSSSLOT (each
// failure would count in mudscf_redis_errors_total and send the replica
// local). The budget keeps its count across both, a page fetched on one is
// a hit on the other, RequestLimitExceeded pauses the account, and a
// topic's semaphore counts its holders, with the keys spread over the
// nodes.
func TestRedisCluster(t *testing.T) {
	nodes := testenv.StartRedisCluster(t, 3)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr())
	}
	sim := testenv.StartSimulator(t, nil)
	var pair [2]*proxyEnv
	for i := range pair {
		pair[i] = startProxyOn(t, sim, func(cfg *Config) {
			// Past maxWait: a paused account refuses at once.
			cfg.Budget.Backoff = time.Minute
			// Each replica is given a different first node and learns the
			// others from it. Generous timeouts for the race detector.
			cfg.Redis = &redisstore.Config{Cluster: &redisstore.ClusterConfig{Addresses: addrs[i:]},
				Replicas: 2, DialTimeout: time.Second, OpTimeout: time.Second}
		}, Options{})
	}
	shareTheBudget(t, sim, pair, 100)
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()
	assertSharedCache(t, pair, logsPath+"?limit=3&stats=false"+window, tok)

	time.Sleep(time.Second) // the budget's window, on Redis's clock
	sim.SetFaults(tencentsim.Faults{ErrorCode: "RequestLimitExceeded"})
	assertEnvelope(t, pair[0].get(t, logsPath+"?limit=1&offset=200"+window, tok), 429, translate.CodeRateLimited)
	// The pause reached the other replica through the cluster: it refuses
	// before calling.
	before := upstreamCalls(pair[1])
	assertEnvelope(t, pair[1].get(t, logsPath+"?limit=1&offset=201"+window, tok), 429, translate.CodeRateLimited)
	if n := upstreamCalls(pair[1]) - before; n != 0 {
		t.Errorf("%d upstream calls during the pause", n)
	}

	// A topic's semaphore (CLS's), straight on the store.
	store := pair[0].proxy.shared.store
	sem := budget.NewConcurrencyLimiter(2, budget.Config{MaxWait: 100 * time.Millisecond}, store, "topic", time.Second)
	var grants []budget.Grant
	for range 2 {
		g, _, err := sem.Acquire(context.Background(), budget.Interactive)
		if err != nil {
			t.Fatalf("the semaphore: %v", err)
		}
		grants = append(grants, g)
	}
	if _, _, err := sem.Acquire(context.Background(), budget.Interactive); err == nil {
		t.Error("a third holder of a semaphore of two")
	}
	for _, g := range grants {
		g.Done(time.Now())
	}
	sem.Pause(10 * time.Millisecond)

	for i, p := range pair {
		for _, op := range []string{"budget_acquire", "budget_done", "budget_pause", "cache_get", "cache_set", "cache_lock"} {
			if n := metric(t, p, `mudscf_redis_errors_total{op="`+op+`"}`); n != 0 {
				t.Errorf("replica %d: %v Redis errors in %s:\n%s", i, n, op, p.logs.String())
			}
		}
	}
	spread := 0
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.Addr()})
		if keys := c.DBSize(context.Background()).Val(); keys > 0 {
			spread++
		}
		c.Close()
	}
	if spread < 2 {
		t.Errorf("the keys are on %d of the 3 nodes: the test did not exercise a cluster", spread)
	}
}
