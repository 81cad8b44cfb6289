package invocations

import "sort"

// TopK keeps the first K items of an order (Cmp) in a bounded max-heap
// whose root is the last kept, so that a query holds at most what its page
// needs however many records match. Items are compared in place, by
// pointer: a candidate waits in spare, so nothing escapes per item.
type TopK[T any] struct {
	K     int
	Cmp   func(a, b *T) int
	h     []T
	spare T
}

// Add offers x.
func (t *TopK[T]) Add(x T) {
	switch {
	case t.K <= 0:
	case len(t.h) < t.K:
		t.h = append(t.h, x)
		t.up(len(t.h) - 1)
	default:
		t.spare = x
		if t.Cmp(&t.spare, &t.h[0]) < 0 {
			t.h[0] = t.spare
			t.down(0)
		}
	}
}

func (t *TopK[T]) worse(i, j int) bool { return t.Cmp(&t.h[i], &t.h[j]) > 0 }

func (t *TopK[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.worse(i, p) {
			return
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *TopK[T]) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(t.h) {
			return
		}
		m := l
		if r := l + 1; r < len(t.h) && t.worse(r, l) {
			m = r
		}
		if !t.worse(m, i) {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// Sorted returns the items kept, in order.
func (t *TopK[T]) Sorted() []T {
	sort.Sort(inOrder[T]{t})
	return t.h
}

type inOrder[T any] struct{ t *TopK[T] }

func (s inOrder[T]) Len() int           { return len(s.t.h) }
func (s inOrder[T]) Less(i, j int) bool { return s.t.Cmp(&s.t.h[i], &s.t.h[j]) < 0 }
func (s inOrder[T]) Swap(i, j int)      { s.t.h[i], s.t.h[j] = s.t.h[j], s.t.h[i] }
