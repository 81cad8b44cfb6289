package budget

import (
	"context"
	"math/rand/v2"
	"testing"
)

// The queue serves projects by turns, in proportion to their weights, and
// Interactive before Background inside each, FIFO within one; a newcomer
// counts only the waiters served before it.
func TestWaitQueueOrder(t *testing.T) {
	a, b := place{"a", Interactive}, place{"b", Interactive}
	aBg, bBg := place{"a", Background}, place{"b", Background}
	for _, tc := range []struct {
		name    string
		weights Weights
		pushed  []place
		order   []int         // indexes into pushed, in serving order
		ahead   map[place]int // of a newcomer at each place, before any is served
	}{
		{name: "empty", ahead: map[place]int{a: 0, aBg: 0}},
		{name: "fifo", pushed: []place{a, a, a}, order: []int{0, 1, 2}, ahead: map[place]int{a: 3, aBg: 3, b: 1}},
		{name: "interactive first in a project", pushed: []place{aBg, a, aBg, a}, order: []int{1, 3, 0, 2},
			ahead: map[place]int{a: 2, aBg: 4}},
		{name: "projects take turns", pushed: []place{a, a, a, a, b, b}, order: []int{0, 4, 1, 5, 2, 3},
			ahead: map[place]int{a: 6, b: 5, place{"c", Interactive}: 2}},
		// A project's background waiter has its project's turn: the
		// other project's interactive ones do not pass it.
		{name: "a turn is the project's", pushed: []place{aBg, b, b}, order: []int{0, 1, 2},
			ahead: map[place]int{a: 0, aBg: 2, bBg: 3}},
		{name: "weights", weights: Weights{"a": 3}, pushed: []place{a, a, a, a, a, a, a, a, a, b, b, b},
			order: []int{0, 9, 1, 2, 3, 10, 4, 5, 6, 11, 7, 8}, ahead: map[place]int{b: 12, a: 12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := waitQueue[int]{weights: tc.weights}
			for i, at := range tc.pushed {
				q.push(at, i)
			}
			for at, want := range tc.ahead {
				if got := q.ahead(at); got != want {
					t.Errorf("a newcomer at %+v is behind %d, want %d", at, got, want)
				}
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

// A project that starts waiting behind another's long line is served
// within one round, and one that leaves and comes back gains no turn.
func TestWaitQueueJoining(t *testing.T) {
	q := waitQueue[string]{}
	for range 10 {
		q.push(place{"a", Interactive}, "a")
	}
	q.pop()
	q.pop()
	q.push(place{"b", Interactive}, "b1")
	if got, _ := q.pop(); got != "b1" {
		t.Fatalf("served %s after a latecomer joined, want the latecomer", got)
	}
	// b has had its turn and left; back at once, it waits for a's.
	q.push(place{"b", Interactive}, "b2")
	if got, _ := q.pop(); got != "a" {
		t.Errorf("served %s, want a: b rejoined and jumped its turn", got)
	}
	if got, _ := q.pop(); got != "b2" {
		t.Errorf("served %s, want b2", got)
	}
	q.remove(place{"a", Interactive}, "a")
	if q.len() != 6 {
		t.Errorf("%d waiting after a removal, want 6", q.len())
	}
}

// A waiter granted without being popped (a replica's first waiter, which
// tries Redis itself) costs its project a turn all the same.
func TestWaitQueueServedIsATurn(t *testing.T) {
	q := waitQueue[string]{}
	q.push(place{"b", Interactive}, "b1")
	q.push(place{"b", Interactive}, "b2")
	q.push(place{"a", Interactive}, "a1")
	q.served(place{"b", Interactive}, "b1")
	for _, want := range []string{"a1", "b2"} {
		if got, _ := q.pop(); got != want {
			t.Fatalf("served %s, want %s", got, want)
		}
	}
}

// ahead is what happens: for queues built at random, a newcomer is served
// after exactly the waiters ahead said.
func TestWaitQueueAheadIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	projects := []string{"a", "b", "c", "d"}
	for round := range 500 {
		q := waitQueue[int]{weights: Weights{"a": 1 + rng.IntN(4), "c": 1 + rng.IntN(4)}}
		id := 0
		for range rng.IntN(30) {
			if q.len() > 0 && rng.IntN(3) == 0 {
				q.pop()
				continue
			}
			q.push(place{projects[rng.IntN(len(projects))], Priority(rng.IntN(2))}, id)
			id++
		}
		at := place{projects[rng.IntN(len(projects))], Priority(rng.IntN(2))}
		want := q.ahead(at)
		q.push(at, -1)
		served := 0
		for {
			w, ok := q.pop()
			if !ok {
				t.Fatalf("round %d: the newcomer was never served", round)
			}
			if w == -1 {
				break
			}
			served++
		}
		if served != want {
			t.Fatalf("round %d: a newcomer at %+v was served after %d, ahead said %d", round, at, served, want)
		}
	}
}

func TestProjectOf(t *testing.T) {
	ctx := WithPriority(WithProject(context.Background(), "proj_a"), Background)
	if got := ProjectOf(ctx); got != "proj_a" {
		t.Errorf("ProjectOf = %q", got)
	}
	if got := ProjectOf(context.Background()); got != "" {
		t.Errorf("ProjectOf an unmarked context = %q, want \"\"", got)
	}
}
