package budget

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// The projects of the fairness cases.
const (
	heavy = "proj_heavy"
	light = "proj_light"
)

// backlog is how many callers one project queues.
type backlog struct {
	project string
	callers int
}

// grantsWhileQueued holds limit grants of l (as the first project's), then
// queues each backlog in turn, all of one project's callers before the
// next's, releases the held grants and returns the projects of the first n
// grants after: instant calls, each done as soon as it is granted. The
// callers still waiting then give up. In a bubble (exact) the grants are
// ordered by their instant, in which the budget serves whole windows; on
// Redis by their arrival, where two grants a Redis round trip apart may
// swap.
func grantsWhileQueued(t *testing.T, l Limiter, limit int, backlogs []backlog, n int, exact bool) []string {
	t.Helper()
	var held []Grant
	for range limit {
		g, _, err := l.Acquire(WithProject(context.Background(), backlogs[0].project), Interactive)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, g)
	}
	type grant struct {
		project string
		at      time.Time
	}
	ctx, giveUp := context.WithCancel(context.Background())
	defer giveUp()
	var mu sync.Mutex
	var grants []grant
	arrived := make(chan struct{}, n)
	var wg sync.WaitGroup
	defer wg.Wait() // after giveUp
	queued := 0
	for _, b := range backlogs {
		for range b.callers {
			wg.Go(func() {
				g, _, err := l.Acquire(WithProject(ctx, b.project), Interactive)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("%s: %v", b.project, err)
					}
					return
				}
				mu.Lock()
				grants = append(grants, grant{b.project, time.Now()})
				mu.Unlock()
				select {
				case arrived <- struct{}{}:
				default:
				}
				g.Done(time.Now())
			})
		}
		queued += b.callers
		waitQueued(l, queued, exact)
	}
	for _, g := range held {
		g.Done(time.Now())
	}
	for range n {
		<-arrived
	}
	giveUp()
	wg.Wait()
	if exact {
		slices.SortStableFunc(grants, func(a, b grant) int { return a.at.Compare(b.at) })
	}
	projects := make([]string, n)
	for i := range n {
		projects[i] = grants[i].project
	}
	return projects
}

// shareOf is the fraction of grants that went to project.
func shareOf(grants []string, project string) float64 {
	n := 0
	for _, p := range grants {
		if p == project {
			n++
		}
	}
	return float64(n) / float64(len(grants))
}

// checkFairShares: one project sending 20 times the other's requests,
// both get at least 45% of the budget while both wait, the light one
// although it queued behind the heavy one's whole backlog. l has limit
// slots.
func checkFairShares(t *testing.T, l Limiter, limit int, exact bool) {
	// n grants take n/2 of the light project's 20: both still wait.
	const n = 20
	grants := grantsWhileQueued(t, l, limit, []backlog{{heavy, 400}, {light, 20}}, n, exact)
	for _, p := range []string{heavy, light} {
		if s := shareOf(grants, p); s < 0.45 {
			t.Errorf("%s had %.0f%% of the first %d grants while both waited, want at least 45%%: %v", p, 100*s, n, grants)
		}
	}
}

// checkWeightedShares: with weights 3 to 1, the heavier project gets 70 to
// 80% of the budget while both wait. l has limit slots and weights
// heavyWeights.
func checkWeightedShares(t *testing.T, l Limiter, limit int, exact bool) {
	const n = 20
	grants := grantsWhileQueued(t, l, limit, []backlog{{heavy, 40}, {light, 40}}, n, exact)
	if s := shareOf(grants, heavy); s < 0.70 || s > 0.80 {
		t.Errorf("weight 3 against 1 had %.0f%% of the first %d grants, want 70 to 80%%: %v", 100*s, n, grants)
	}
}

// heavyWeights are the weights of checkWeightedShares.
var heavyWeights = Weights{heavy: 3}

// checkDrain: callers queued when the budget is drained are refused with
// ErrDraining, none is granted the slots that free after, and a caller
// coming after is refused at once. The budget has limit slots, all held.
func checkDrain(t *testing.T, l Limiter, limit int, exact bool) {
	var held []Grant
	for range limit {
		g, _, err := l.Acquire(context.Background(), Interactive)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, g)
	}
	const waiters = 6
	answers := make(chan error, waiters)
	for i := range waiters {
		go func() {
			ctx := WithProject(context.Background(), []string{heavy, light}[i%2])
			g, _, err := l.Acquire(ctx, Priority(i%3/2))
			if err == nil {
				g.Done(time.Now())
			}
			answers <- err
		}()
	}
	waitQueued(l, waiters, exact)
	l.Drain()
	for _, g := range held {
		g.Done(time.Now()) // slots free: nobody may have them
	}
	for range waiters {
		if err := <-answers; !errors.Is(err, ErrDraining) {
			t.Errorf("a caller queued at the drain got %v, want ErrDraining", err)
		}
	}
	g, waited, err := l.Acquire(context.Background(), Interactive)
	if !errors.Is(err, ErrDraining) {
		if err == nil {
			g.Done(time.Now())
		}
		t.Fatalf("a caller after the drain got %v, want ErrDraining", err)
	}
	if exact && waited != 0 {
		t.Errorf("a caller after the drain was refused after %s, want at once", waited)
	}
}
