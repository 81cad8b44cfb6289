package proxy

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mudscf/mudscf/internal/upstream/budget"
)

// refresher refreshes entries past their TTL in the background
// (stale-while-revalidate), at the budget's background priority, one
// flight per key, the one whose refresh lowers the age of answers most
// first.
//
// That is the entry with the most reads since it was fetched times its
// age: reads (hits and stale answers alike, counted on the entry itself,
// so a refresh starts its count over) are its read rate times its age, so
// the score is rate × age². Refreshing by it gives each page a refresh
// interval proportional to 1/√rate, which is what minimises the
// request-weighted mean age for a fixed number of calls (the sum over
// pages of rate × interval / 2, with the sum of 1 / interval fixed). By
// reads alone (rate × age) the interval would go as 1/rate: the most read
// pages refreshed far more often than pays, the long tail left to age out,
// which the budget benchmark showed as a higher p99 Age. Only a request
// queues a refresh: an entry nobody reads is never refreshed. The pick is
// made when a worker is free, which in overload is just after the budget's
// last grant, so it sees the demand of the whole wait.
type refresher struct {
	mu     sync.Mutex
	queued map[string]*refresh // waiting or running, by key
	wake   chan struct{}
	m      *Metrics
}

// refresh is one queued revalidation.
type refresh struct {
	kind, key string
	ttl       time.Duration
	fetch     fetcher
	entry     *cached // the stale entry, whose reads are the demand
	running   bool
}

func newRefresher(m *Metrics) *refresher {
	return &refresher{queued: map[string]*refresh{}, wake: make(chan struct{}, 1), m: m}
}

// queuedFor reports whether key already has a refresh waiting or running.
func (r *refresher) queuedFor(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.queued[key]
	return ok
}

// add queues j unless its key has a refresh already.
func (r *refresher) add(j *refresh) {
	r.mu.Lock()
	if _, ok := r.queued[j.key]; !ok {
		r.queued[j.key] = j
		r.m.refreshQueue.Set(float64(len(r.queued)))
	}
	r.mu.Unlock()
	r.signal()
}

func (r *refresher) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// next takes the waiting refresh that scores highest at the clock's
// reading, waiting for one until ctx ends.
func (r *refresher) next(ctx context.Context, clock func() time.Time) (*refresh, bool) {
	for {
		r.mu.Lock()
		var best *refresh
		bestScore, waiting, now := 0.0, 0, clock()
		for _, j := range r.queued {
			if j.running {
				continue
			}
			waiting++
			if score := j.score(now); best == nil || score > bestScore {
				best, bestScore = j, score
			}
		}
		if best != nil {
			best.running = true
		}
		r.mu.Unlock()
		if best != nil {
			if waiting > 1 {
				r.signal() // for another free worker
			}
			return best, true
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-r.wake:
		}
	}
}

// score is the entry's reads since its fetch times its age: its read rate
// times its age squared.
func (j *refresh) score(now time.Time) float64 {
	return float64(j.entry.reads.Load()) * now.Sub(j.entry.fetched).Seconds()
}

// done ends j: gone from the queue, or back in it (keeping its reads)
// when the budget refused it.
func (r *refresher) done(j *refresh, again bool) {
	r.mu.Lock()
	if again {
		j.running = false
	} else {
		delete(r.queued, j.key)
	}
	r.m.refreshQueue.Set(float64(len(r.queued)))
	r.mu.Unlock()
}

// refreshWorker runs queued refreshes until ctx ends. A refresh the budget
// refuses goes back in the queue, and the worker waits as long as the
// budget said, since every other refresh would be refused as well.
func (s *Server) refreshWorker(ctx context.Context) {
	bctx := budget.WithPriority(ctx, budget.Background)
	for {
		j, ok := s.refresh.next(ctx, s.clock)
		if !ok {
			return
		}
		_, err, _ := s.flights.Do(j.key, s.flight(bctx, !s.draining.Load(), j.kind, j.key, j.ttl, j.fetch))
		var refused *budget.RefusedError
		switch {
		case err == nil:
			s.metrics.refreshes.WithLabelValues("ok").Inc()
		case errors.As(err, &refused):
			s.metrics.refreshes.WithLabelValues("refused").Inc()
		default:
			s.metrics.refreshes.WithLabelValues("error").Inc()
		}
		s.refresh.done(j, refused != nil)
		if refused != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(refused.RetryAfter):
			}
		}
	}
}
