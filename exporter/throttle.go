package exporter

import (
	"context"
	"errors"
	"sync"
	"time"
)

// throttle holds every request back after a 429: the endpoint's budget is
// shared by every function. While 429s persist the wait doubles, up to 32
// times the Retry-After. Answers to requests sent before the last 429
// arrived say nothing new (they were in flight beside it), so only the
// later ones double the wait or end the doubling.
type throttle struct {
	mu        sync.Mutex
	notBefore time.Time // monotonic
	doublings int
	lastAt    time.Time // when the last 429 arrived
}

// wait is how long requests are still held back.
func (t *throttle) wait() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return time.Until(t.notBefore)
}

// sleep waits until requests may go out again, or ctx ends.
func (t *throttle) sleep(ctx context.Context) error {
	for {
		wait := t.wait()
		if wait <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// note takes the answer err to a request sent at sent.
func (t *throttle) note(err error, sent time.Time) {
	var throttled *ThrottledError
	t.mu.Lock()
	defer t.mu.Unlock()
	if sent.Before(t.lastAt) {
		return
	}
	switch {
	case errors.As(err, &throttled):
		t.doublings = min(t.doublings+1, 6)
		t.lastAt = time.Now()
		t.notBefore = t.lastAt.Add(throttled.RetryAfter * time.Duration(1<<(t.doublings-1)))
	case err == nil:
		t.doublings = 0
	}
}
