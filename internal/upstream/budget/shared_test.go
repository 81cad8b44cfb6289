package budget

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/testenv"
)

// testAccount is the SecretId the shared budgets are keyed by.
const testAccount = "AKIDmudscfTest000000000000000001"

// testStore is one replica's connection to r.
func testStore(t *testing.T, url string, replicas int) *redisstore.Store {
	t.Helper()
	cfg := redisstore.Config{URL: url, Replicas: replicas}
	cfg.ApplyDefaults()
	if err := cfg.Validate(5); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := redisstore.New(ctx, cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The shared budget keeps every promise of the local one, on a real Redis,
// each view of the account being another replica.
func TestSharedConformance(t *testing.T) {
	r := testenv.StartRedis(t)
	conformance{
		make: func(t *testing.T, limit int, window, maxWait time.Duration, weights Weights) Limiter {
			// Each test is an account of its own: the server is shared.
			return newShared(testStore(t, r.URL(), 1), t.Name(), limit, window, maxWait, time.Second, weights)
		},
		run: func(t *testing.T, body func(t *testing.T)) { body(t) },
	}.test(t)
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
	r := testenv.StartRedis(t)
	const limit, window = 5, 150 * time.Millisecond
	budgets := []*shared{
		newShared(testStore(t, r.URL(), 1), testAccount, limit, window, 5*time.Second, 100*time.Millisecond, nil),
		newShared(testStore(t, r.URL(), 1), testAccount, limit, window, 5*time.Second, 100*time.Millisecond, nil),
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
			time.Sleep(time.Duration(i%4) * 5 * time.Millisecond) // in flight, on the wall clock: Redis's TIME is the budget's clock
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
	keys, err := budgets[0].store.Client().Keys(context.Background(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatal(keys, err)
	}
	for _, k := range keys {
		if strings.Contains(k, testAccount) {
			t.Errorf("key %q holds the SecretId", k)
		}
	}
}

// A call in flight on one replica holds its slot for the other; its
// completion starts the window.
func TestRedisBudgetInFlightHoldsSlot(t *testing.T) {
	r := testenv.StartRedis(t)
	const window = 100 * time.Millisecond
	a := newShared(testStore(t, r.URL(), 1), testAccount, 1, window, 150*time.Millisecond, time.Second, nil)
	b := newShared(testStore(t, r.URL(), 1), testAccount, 1, window, 150*time.Millisecond, time.Second, nil)
	slow, _, err := a.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	var be *RefusedError
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
	r := testenv.StartRedis(t)
	const window, timeout = 100 * time.Millisecond, 50 * time.Millisecond
	dead := newShared(testStore(t, r.URL(), 1), testAccount, 1, window, 3*time.Second, timeout, nil)
	alive := newShared(testStore(t, r.URL(), 1), testAccount, 1, window, 3*time.Second, timeout, nil)
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
	r := testenv.StartRedis(t)
	a := newShared(testStore(t, r.URL(), 1), testAccount, 5, 100*time.Millisecond, 100*time.Millisecond, time.Second, nil)
	b := newShared(testStore(t, r.URL(), 1), testAccount, 5, 100*time.Millisecond, time.Second, time.Second, nil)
	start := time.Now()
	a.Pause(400 * time.Millisecond)
	var be *RefusedError
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
	r := testenv.StartRedis(t)
	const limit, window, pause = 5, 100 * time.Millisecond, 300 * time.Millisecond
	budgets := []*shared{
		newShared(testStore(t, r.URL(), 1), testAccount, limit, window, 5*time.Second, time.Second, nil),
		newShared(testStore(t, r.URL(), 1), testAccount, limit, window, 5*time.Second, time.Second, nil),
	}
	limited, _, err := budgets[0].Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	budgets[0].Pause(pause)
	limited.Done(time.Now())

	grants := make(chan Grant, 10)
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
	next := func() Grant {
		g := <-grants
		if g == nil {
			t.FailNow()
		}
		return g
	}
	probe := next()
	// Every other waiter has had many polls (one per redisPoll) in which
	// to find a slot; a grant now would be a second call in flight.
	time.Sleep(8 * redisPoll) // the waiters poll a real redis-server on the wall clock (a slow machine polls less: it can hide a breach, never invent one)
	if n := len(grants); n != 0 {
		t.Fatalf("%d more grants while the probe was in flight, want none", n)
	}
	for i, b := range budgets {
		if g, _, err := b.try(context.Background(), Interactive); err != nil || g != nil {
			t.Fatalf("replica %d: got grant %v, error %v while the probe was in flight", i, g != nil, err)
		}
	}
	if ttl, err := budgets[0].store.Client().PTTL(context.Background(), budgets[0].probeKey).Result(); err != nil || ttl <= 0 {
		t.Errorf("the probing state has TTL %v (%v): it must expire", ttl, err)
	}
	probe.Done(time.Now())

	// Probing is over: the four slots the probe's completion leaves free
	// go out together, with none of them done yet.
	var held []Grant
	for range limit - 1 {
		held = append(held, next())
	}
	if n, err := budgets[0].store.Client().Exists(context.Background(), budgets[0].probeKey).Result(); err != nil || n != 0 {
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

// The exporter's background calls leave a slot for interactive ones.
func TestRedisBudgetBackgroundLeavesASlot(t *testing.T) {
	r := testenv.StartRedis(t)
	b := newShared(testStore(t, r.URL(), 1), testAccount, 3, time.Second, 100*time.Millisecond, time.Second, nil)
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

// Losing Redis, a replica grants nothing locally until every call Redis
// granted has completed and aged out (lease + window), then keeps to its
// share; Redis back but empty, the whole account stays reserved.
func TestRedisBudgetTransitions(t *testing.T) {
	r := testenv.StartRedis(t)
	const limit, window, timeout = 5, 100 * time.Millisecond, 50 * time.Millisecond
	lease := timeout + time.Second
	store := testStore(t, r.URL(), 2)
	b := newShared(store, testAccount, limit, window, 3*time.Second, timeout, nil)
	g, _, err := b.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	g.Done(time.Now())

	r.Kill()
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
	if store.Up() {
		t.Fatal("Redis is dead but the store says up")
	}
	if first := calls[0].granted.Sub(killed); first < lease+window {
		t.Errorf("the first local grant came %s after Redis died, before lease+window %s", first, lease+window)
	}
	if n := maxLive(calls, window); n != limit/2 {
		t.Errorf("%d local calls held slots at once, want this replica's share %d", n, limit/2)
	}

	r.Start() // empty: the calls it had granted are forgotten
	// The store probes a real redis-server on the wall clock.
	time.Sleep(redisstore.ProbeInterval)
	b.maxWait = 100 * time.Millisecond
	_, _, err = b.Acquire(context.Background(), Interactive)
	var be *RefusedError
	if !errors.As(err, &be) || be.RetryAfter < lease+window {
		t.Fatalf("got %v from an emptied Redis, want a RefusedError until the reserve ends", err)
	}
	if !store.Up() {
		t.Error("Redis is back but the store says down")
	}
	if n, _ := store.Client().ZCard(context.Background(), b.slotsKey).Result(); n != limit {
		t.Errorf("%d slots reserved after data loss, want all %d", n, limit)
	}
}
