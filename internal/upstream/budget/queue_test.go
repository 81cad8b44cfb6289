package budget

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

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
		b := newLocal(1, window, 2*time.Second, nil)
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
