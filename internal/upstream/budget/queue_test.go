package budget

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// The queue serves Interactive before Background, FIFO within each, and a
// newcomer counts only the waiters it must let go first.
func TestWaitQueue(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pushed   []Priority
		order    []int // indexes into pushed, in serving order
		aheadOfI int
		aheadOfB int
	}{
		{"empty", nil, nil, 0, 0},
		{"fifo", []Priority{Interactive, Interactive, Interactive}, []int{0, 1, 2}, 3, 3},
		{"background fifo", []Priority{Background, Background}, []int{0, 1}, 0, 2},
		{"interactive first", []Priority{Background, Interactive, Background, Interactive}, []int{1, 3, 0, 2}, 2, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q waitQueue[int]
			for i, p := range tc.pushed {
				q.push(p, i)
			}
			if got := q.ahead(Interactive); got != tc.aheadOfI {
				t.Errorf("an interactive newcomer is behind %d, want %d", got, tc.aheadOfI)
			}
			if got := q.ahead(Background); got != tc.aheadOfB {
				t.Errorf("a background newcomer is behind %d, want %d", got, tc.aheadOfB)
			}
			for _, want := range tc.order {
				if h, _ := q.head(); h != want {
					t.Fatalf("head %d, want %d", h, want)
				}
				if got, ok := q.pop(); !ok || got != want {
					t.Fatalf("served %d, want %d", got, want)
				}
			}
			if _, ok := q.pop(); ok || q.len() != 0 {
				t.Errorf("%d left after serving all", q.len())
			}
		})
	}
}

// checkGaveUpHoldsNothing: a caller that stopped waiting takes no slot
// with it, for any limiter of one slot whose callers may wait a second.
func checkGaveUpHoldsNothing(t *testing.T, l Limiter) {
	held, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatal(err)
	}
	impatient, cancel := context.WithCancel(context.Background())
	defer time.AfterFunc(20*time.Millisecond, cancel).Stop() // the bubble's clock for local limiters, the wall's on Redis (cancelled early, the caller fails all the same)
	if _, _, err := l.Acquire(impatient, Interactive); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the caller's own cancellation", err)
	}
	held.Done(time.Now())
	g, _, err := l.Acquire(context.Background(), Interactive)
	if err != nil {
		t.Fatalf("the slot went to the caller that gave up: %v", err)
	}
	g.Done(time.Now())
}

// A pause that starts while callers queue for a slot freeing earlier
// holds them until its end, then they are served.
func TestLocalPauseWhileQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const window, pause = 100 * time.Millisecond, 300 * time.Millisecond
		b := newLocal(1, window, 2*time.Second)
		g, _, err := b.Acquire(context.Background(), Interactive)
		if err != nil {
			t.Fatal(err)
		}
		g.Done(time.Now())
		time.AfterFunc(10*time.Millisecond, func() { b.Pause(pause) })
		start := time.Now()
		g, waited, err := b.Acquire(context.Background(), Interactive)
		if err != nil {
			t.Fatalf("the queued caller was not served after the pause: %v", err)
		}
		g.Done(time.Now())
		if want := 10*time.Millisecond + pause; waited != want || time.Since(start) != want {
			t.Errorf("served after %s, want at the pause's end, %s", waited, want)
		}
	})
}
