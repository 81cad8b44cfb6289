package budget

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
)

// Losing Redis, a replica grants nothing locally until every call Redis
// granted has ended (a lease), then keeps to its share, refusing with a
// Retry-After a caller its share cannot fit before the deadline.
func TestRedisConcurrencyTransitions(t *testing.T) {
	r := testenv.StartRedis(t)
	const limit, timeout = 4, 50 * time.Millisecond
	lease := timeout + time.Second
	store := testStore(t, r.URL(), 2)
	c := newSharedConcurrency(store, t.Name(), limit, 3*time.Second, timeout, nil)
	g, _, err := c.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	g.Done(time.Now())

	r.Kill()
	killed := time.Now()
	var held []Grant
	var first time.Duration
	for range limit / 2 {
		g, _, err := c.Acquire(context.Background(), Interactive)
		if err != nil {
			t.Fatalf("the local fallback refused: %v", err)
		}
		if held = append(held, g); len(held) == 1 {
			first = time.Since(killed)
		}
	}
	if first < lease {
		t.Errorf("the first local grant came %s after Redis died, before a lease %s", first, lease)
	}
	if store.Up() {
		t.Fatal("Redis is dead but the store says up")
	}
	c.maxWait = 100 * time.Millisecond
	_, _, err = c.Acquire(context.Background(), Interactive)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.RetryAfter != BusyRetryAfter {
		t.Errorf("got %v with this replica's share of %d in flight, want a RefusedError after %s", err, limit/2, BusyRetryAfter)
	}
	for _, h := range held {
		h.Done(time.Now())
	}
}
