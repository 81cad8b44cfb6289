package budget

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// newLimiter makes a budget of limit calls per window whose callers wait
// at most maxWait, shared by projects with weights; each replica call
// makes another view of the same account (the local budget has only one).
type newLimiter func(t *testing.T, limit int, window, maxWait time.Duration, weights Weights) Limiter

// conformance is what every budget promises, run against the local budget
// under synctest (its clock is the bubble's: exact) and against the shared
// budget on a real Redis (whose clock is its own: the checks there hold
// in one direction only, never too early).
type conformance struct {
	make newLimiter
	// exact: time is synthetic, so waits can be asserted to the
	// nanosecond.
	exact bool
	// run wraps a test body: synctest.Test for the local budget.
	run func(t *testing.T, body func(t *testing.T))
}

func (c conformance) test(t *testing.T) {
	for _, tc := range []struct {
		name string
		body func(t *testing.T, c conformance)
	}{
		{"SlidingWindow", testSlidingWindow},
		{"FailsFast", testFailsFast},
		{"InFlightHoldsSlot", testInFlightHoldsSlot},
		{"Pause", testPause},
		{"InteractiveFirst", testInteractiveFirst},
		{"GaveUpHoldsNothing", func(t *testing.T, c conformance) {
			checkGaveUpHoldsNothing(t, c.make(t, 1, 100*time.Millisecond, time.Second, nil))
		}},
		{"FairShares", func(t *testing.T, c conformance) {
			checkFairShares(t, c.make(t, 5, 100*time.Millisecond, time.Minute, nil), 5, c.exact)
		}},
		{"WeightedShares", func(t *testing.T, c conformance) {
			checkWeightedShares(t, c.make(t, 5, 100*time.Millisecond, time.Minute, heavyWeights), 5, c.exact)
		}},
		{"Drain", func(t *testing.T, c conformance) {
			checkDrain(t, c.make(t, 2, 100*time.Millisecond, time.Minute, nil), 2, c.exact)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { c.run(t, func(t *testing.T) { tc.body(t, c) }) })
	}
}

// grantTimes runs n instant calls at once and returns when each was
// granted, sorted.
func grantTimes(t *testing.T, l Limiter, n int, p Priority) []time.Time {
	var mu sync.Mutex
	var grants []time.Time
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			g, _, err := l.Acquire(context.Background(), p)
			if err != nil {
				t.Error(err)
				return
			}
			now := time.Now()
			g.Done(now)
			mu.Lock()
			grants = append(grants, now)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(grants, time.Time.Compare)
	return grants
}

// Saturated, a budget grants limit calls per window and never limit+1 in
// any sliding window.
func testSlidingWindow(t *testing.T, c conformance) {
	const limit, window = 5, 200 * time.Millisecond
	l := c.make(t, limit, window, 5*time.Second, nil)
	grants := grantTimes(t, l, 25, Interactive)
	if len(grants) != 25 {
		t.Fatalf("%d of 25 calls granted", len(grants))
	}
	for i := limit; i < len(grants); i++ {
		if gap := grants[i].Sub(grants[i-limit]); gap < window {
			t.Fatalf("grants %d and %d are %s apart: %d calls inside one window", i-limit, i, gap, limit+1)
		}
	}
	if c.exact {
		// Instant calls: 5 at once, then 5 more each window, no slot wasted.
		if span := grants[len(grants)-1].Sub(grants[0]); span != 4*window {
			t.Errorf("25 grants took %s, want exactly %s", span, 4*window)
		}
	}
}

// A wait that cannot end before the deadline is refused at once, with the
// time a slot frees.
func testFailsFast(t *testing.T, c conformance) {
	const window = time.Second
	l := c.make(t, 1, window, 100*time.Millisecond, nil)
	g, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	g.Done(done)
	_, waited, err := l.Acquire(context.Background(), Interactive)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.RetryAfter <= 0 || refused.RetryAfter > window {
		t.Fatalf("got %v, want a RefusedError with a Retry-After up to %s", err, window)
	}
	if c.exact && (waited != 0 || refused.RetryAfter != window) {
		t.Errorf("refused after waiting %s with Retry-After %s, want at once with %s", waited, refused.RetryAfter, window)
	}
}

// A call still in flight holds its slot: the upstream may count it at any
// moment until its answer is back. Its window starts at its completion.
func testInFlightHoldsSlot(t *testing.T, c conformance) {
	const window = 100 * time.Millisecond
	l := c.make(t, 1, window, 300*time.Millisecond, nil)
	slow, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	var refused *RefusedError
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := l.Acquire(short, Interactive); err == nil {
		t.Fatal("a second call was admitted while the first was in flight")
	} else if !errors.As(err, &refused) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v while the first call was in flight", err)
	}
	time.Sleep(50 * time.Millisecond) // the call in flight; on the shared budget, on Redis's clock, the wall's
	done := time.Now()
	slow.Done(done)
	time.Sleep(window / 2) // a caller finding the queue empty, inside the window (the wall clock's on Redis)
	g, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	granted := time.Now()
	g.Done(granted)
	if since := granted.Sub(done); since < window || c.exact && since != window {
		t.Errorf("admitted %s after the previous call completed, want %s", since, window)
	}
}

// Pause refuses every call until it ends, saying how long remains.
func testPause(t *testing.T, c conformance) {
	const pause = 400 * time.Millisecond
	l := c.make(t, 5, 100*time.Millisecond, 100*time.Millisecond, nil)
	start := time.Now()
	l.Pause(pause)
	var refused *RefusedError
	if _, _, err := l.Acquire(context.Background(), Interactive); !errors.As(err, &refused) || refused.RetryAfter < pause/2 {
		t.Fatalf("got %v during the pause, want a RefusedError with the pause's remainder", err)
	}
	patient := c.make(t, 5, 100*time.Millisecond, time.Second, nil) // another replica (the same budget, locally)
	if c.exact {
		patient = l
		time.Sleep(pause - 50*time.Millisecond)
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
func testInteractiveFirst(t *testing.T, c conformance) {
	const window = 100 * time.Millisecond
	l := c.make(t, 2, window, 2*time.Second, nil)
	var held []Grant
	for range 2 {
		g, _, err := l.Acquire(context.Background(), Interactive)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, g)
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
		g.Done(time.Now())
	}
	wg.Go(func() { acquire("background", Background) })
	waitQueued(l, 1, c.exact) // queued first...
	wg.Go(func() { acquire("interactive", Interactive) })
	waitQueued(l, 2, c.exact)
	held[0].Done(time.Now()) // ...one slot frees
	first := <-order
	held[1].Done(time.Now())
	wg.Wait()
	if second := <-order; first != "interactive" || second != "background" {
		t.Errorf("grant order %s, %s: the interactive waiter should go first", first, second)
	}
}

// queued is how many callers wait on a limiter's queue.
func (q *localQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiters.len()
}

func (q *redisQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiters.len()
}

// waitQueued returns once n callers wait on l, so that callers the test
// starts one after another queue in that order however slow the machine,
// and have settled into their wait. Queued is seen by yielding, not on any
// clock. Settled: in a bubble (exact), blocked; on Redis, past the try a
// waiter may have begun while it was still first, which could take a slot
// that frees ahead of a later, more urgent waiter (a poll of Redis cannot
// be atomic with the replica's queue).
func waitQueued(l Limiter, n int, exact bool) {
	for l.(interface{ queued() int }).queued() < n {
		runtime.Gosched()
	}
	if exact {
		synctest.Wait()
		return
	}
	time.Sleep(2 * redisPoll) // a try in flight is one Redis round trip, on the wall clock
}

func TestLocalConformance(t *testing.T) {
	conformance{
		make: func(t *testing.T, limit int, window, maxWait time.Duration, weights Weights) Limiter {
			return newLocal(limit, window, maxWait, weights)
		},
		exact: true,
		run: func(t *testing.T, body func(t *testing.T)) {
			synctest.Test(t, body)
		},
	}.test(t)
}
