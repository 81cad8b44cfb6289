package invocations

import "slices"

// TopK keeps the first K items of an order (Cmp) in a bounded max-heap
// whose root is the last kept, so that a query holds at most what its page
// needs however many records match.
type TopK[T any] struct {
	K   int
	Cmp func(a, b *T) int
	h   []T
}

// Add offers x.
func (t *TopK[T]) Add(x T) {
	switch {
	case t.K <= 0:
	case len(t.h) < t.K:
		t.h = append(t.h, x)
		t.up(len(t.h) - 1)
	case t.Cmp(&x, &t.h[0]) < 0:
		t.h[0] = x
		t.down(0)
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
	slices.SortFunc(t.h, func(a, b T) int { return t.Cmp(&a, &b) })
	return t.h
}
