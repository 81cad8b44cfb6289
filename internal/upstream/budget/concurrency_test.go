package budget

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
)

// newConcurrency makes a concurrency limit of limit calls whose callers
// wait at most maxWait; each call makes another view of the same key
// (another replica; the local limiter has only one).
type newConcurrency func(t *testing.T, limit int, maxWait time.Duration, weights Weights) Limiter

// concurrencyConformance is what every concurrency limit promises, run
// against the local one under synctest and the shared one on a real Redis.
type concurrencyConformance struct {
	make  newConcurrency
	exact bool
	run   func(t *testing.T, body func(t *testing.T))
}

func (c concurrencyConformance) test(t *testing.T) {
	for _, tc := range []struct {
		name string
		body func(t *testing.T, c concurrencyConformance)
	}{
		{"NeverExceeded", testNeverExceeded},
		{"RefusedAtDeadline", testRefusedAtDeadline},
		{"DoneOnce", testDoneOnce},
		{"Pause", testConcurrencyPause},
		{"InteractiveFirst", testConcurrencyInteractiveFirst},
		{"GaveUpHoldsNothing", func(t *testing.T, c concurrencyConformance) {
			checkGaveUpHoldsNothing(t, c.make(t, 1, time.Second, nil))
		}},
		{"FairShares", func(t *testing.T, c concurrencyConformance) {
			checkFairShares(t, c.make(t, 3, time.Minute, nil), 3, c.exact)
		}},
		{"WeightedShares", func(t *testing.T, c concurrencyConformance) {
			checkWeightedShares(t, c.make(t, 3, time.Minute, heavyWeights), 3, c.exact)
		}},
		{"Drain", func(t *testing.T, c concurrencyConformance) {
			checkDrain(t, c.make(t, 2, time.Minute, nil), 2, c.exact)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { c.run(t, func(t *testing.T) { tc.body(t, c) }) })
	}
}

// Many callers on two views of the limit, each holding its slot a while,
// never have more than limit calls in flight, and all are served.
func testNeverExceeded(t *testing.T, c concurrencyConformance) {
	const limit, callers = 3, 30
	views := []Limiter{c.make(t, limit, 10*time.Second, nil)}
	views = append(views, views[0])
	if !c.exact {
		views[1] = c.make(t, limit, 10*time.Second, nil) // another replica
	}
	var live, most, served atomic.Int64
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			g, _, err := views[i%2].Acquire(context.Background(), Priority(i%2))
			if err != nil {
				t.Error(err)
				return
			}
			n := live.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() { //nolint:revive // the loop's header is the whole work: raise most to n
			}
			time.Sleep(time.Duration(10+i%4*10) * time.Millisecond) // the call in flight; on Redis, on the wall clock
			live.Add(-1)
			g.Done(time.Now())
			served.Add(1)
		})
	}
	wg.Wait()
	if most.Load() > limit {
		t.Errorf("%d calls in flight at once, limit %d", most.Load(), limit)
	}
	if served.Load() != callers {
		t.Errorf("%d of %d callers served", served.Load(), callers)
	}
	if c.exact && most.Load() != limit {
		t.Errorf("at most %d calls in flight, want the whole limit of %d used", most.Load(), limit)
	}
}

// A caller finding every slot busy until its deadline is refused then,
// with a Retry-After.
func testRefusedAtDeadline(t *testing.T, c concurrencyConformance) {
	const maxWait = 100 * time.Millisecond
	l := c.make(t, 1, maxWait, nil)
	g, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Done(time.Now())
	_, waited, err := l.Acquire(context.Background(), Interactive)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.RetryAfter <= 0 {
		t.Fatalf("got %v, want a RefusedError with a Retry-After", err)
	}
	if waited < maxWait || c.exact && waited != maxWait {
		t.Errorf("refused after %s, want after the %s wait", waited, maxWait)
	}
}

// Done twice frees one slot, not two.
func testDoneOnce(t *testing.T, c concurrencyConformance) {
	l := c.make(t, 2, 50*time.Millisecond, nil)
	a, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Done(time.Now())
	a.Done(time.Now())
	a.Done(time.Now())
	x, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Done(time.Now())
	if _, _, err := l.Acquire(context.Background(), Interactive); err == nil {
		t.Error("a third call was admitted with two in flight: a second Done freed a slot again")
	}
}

// Pause refuses at once a caller whose deadline is inside it, and grants
// after it.
func testConcurrencyPause(t *testing.T, c concurrencyConformance) {
	const pause = 300 * time.Millisecond
	l := c.make(t, 5, 100*time.Millisecond, nil)
	start := time.Now()
	l.Pause(pause)
	var refused *RefusedError
	_, waited, err := l.Acquire(context.Background(), Interactive)
	if !errors.As(err, &refused) || refused.RetryAfter < pause/2 {
		t.Fatalf("got %v during the pause, want a RefusedError with the pause's remainder", err)
	}
	if c.exact && waited != 0 {
		t.Errorf("refused after %s, want at once", waited)
	}
	patient := c.make(t, 5, time.Second, nil)
	if c.exact {
		patient = NewConcurrency(5, time.Second, nil)
		patient.Pause(pause)
	}
	g, _, err := patient.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	g.Done(time.Now())
	if since := time.Since(start); since < pause {
		t.Errorf("granted %s into a %s pause", since, pause)
	}
}

// Queued, an interactive caller goes before a background one that queued
// first.
func testConcurrencyInteractiveFirst(t *testing.T, c concurrencyConformance) {
	l := c.make(t, 1, 2*time.Second, nil)
	held, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 2)
	var wg sync.WaitGroup
	acquire := func(name string, p Priority) {
		g, _, err := l.Acquire(context.Background(), p)
		if err != nil {
			t.Error(err)
			order <- "refused " + name
			return
		}
		order <- name
		time.Sleep(10 * time.Millisecond) // the call in flight; on Redis, on the wall clock
		g.Done(time.Now())
	}
	wg.Go(func() { acquire("background", Background) })
	waitQueued(l, 1, c.exact)
	wg.Go(func() { acquire("interactive", Interactive) })
	waitQueued(l, 2, c.exact)
	held.Done(time.Now())
	wg.Wait()
	if first, second := <-order, <-order; first != "interactive" || second != "background" {
		t.Errorf("grant order %s, %s: the interactive waiter should go first", first, second)
	}
}

func TestLocalConcurrencyConformance(t *testing.T) {
	concurrencyConformance{
		make: func(t *testing.T, limit int, maxWait time.Duration, weights Weights) Limiter {
			return NewConcurrency(limit, maxWait, weights)
		},
		exact: true,
		run:   func(t *testing.T, body func(t *testing.T)) { synctest.Test(t, body) },
	}.test(t)
}

// The shared limit keeps every promise of the local one on a real Redis,
// each view of the key being another replica.
func TestSharedConcurrencyConformance(t *testing.T) {
	r := testenv.StartRedis(t)
	concurrencyConformance{
		make: func(t *testing.T, limit int, maxWait time.Duration, weights Weights) Limiter {
			// Each test is a key of its own: the server is shared.
			return newSharedConcurrency(testStore(t, r.URL(), 1), t.Name(), limit, maxWait, time.Second, weights)
		},
		run: func(t *testing.T, body func(t *testing.T)) { body(t) },
	}.test(t)
}
