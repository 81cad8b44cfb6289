package proxy

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/testenv"
)

// Two replicas that both find one key past its TTL both answer at once
// and both queue a background refresh, yet the upstream is called once
// for it: the refresh is a flight, and the key's SET NX claim in Redis
// makes one flight across replicas (the other takes its answer). The
// replicas share a clock the test moves; the simulator counts the calls.
func TestRedisReplicasRefreshAKeyOnce(t *testing.T) {
	r := testenv.StartRedis(t)
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	sim := testenv.StartSimulator(t, nil)
	var pair [2]*proxyEnv
	for i := range pair {
		pair[i] = startProxyOn(t, sim, func(cfg *Config) {
			cfg.Redis = &redisstore.Config{URL: r.URL(), Replicas: 2, DialTimeout: time.Second, OpTimeout: time.Second}
		}, Options{Now: clock})
	}
	tok := pair[0].token(t, "usr_morgan_de")
	path := logsPath + "?limit=3&stats=false" + fixedWindow()
	if first := pair[0].get(t, path, tok); first.status != 200 || first.header.Get("X-Cache") != cacheMiss {
		t.Fatalf("first: %d %s", first.status, first.header.Get("X-Cache"))
	}
	if second := pair[1].get(t, path, tok); second.status != 200 || second.header.Get("X-Cache") != cacheHit {
		t.Fatalf("on the other replica: %d %s", second.status, second.header.Get("X-Cache"))
	}

	now.Add(int64(pair[0].proxy.cfg.Cache.PageTTL + time.Second)) // past the TTL, within staleWhileRevalidate
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if got := pair[i%2].get(t, path, tok); got.status != 200 || got.header.Get("X-Cache") == cacheMiss {
				t.Errorf("past the TTL: %d %s, want an answer from the cache", got.status, got.header.Get("X-Cache"))
			}
		})
	}
	wg.Wait()
	// Both replicas queued a refresh; wait for both to end. A poll, with a
	// guard against a hang (not a measure): the refreshes claim their key
	// in a real redis-server, outside any synctest bubble.
	const ok = `mudscf_cache_refreshes_total{result="ok"}`
	for deadline := time.Now().Add(30 * time.Second); metric(t, pair[0], ok)+metric(t, pair[1], ok) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s, %v and %v refreshes done", metric(t, pair[0], ok), metric(t, pair[1], ok))
		}
	}
	if got := sim.Truth().TotalAccepted[testenv.SecretID]; got != 2 {
		t.Errorf("%d upstream calls, want 2: the first fetch and one refresh for both replicas", got)
	}
	for i, p := range pair {
		if got := p.get(t, path, tok); got.status != 200 || got.header.Get("X-Cache") != cacheHit {
			t.Errorf("replica %d after the refresh: %d %s", i, got.status, got.header.Get("X-Cache"))
		}
	}
}
