package proxy

import (
	"context"
	"testing"
	"time"
)

// The refresh picked first is the one with the most reads times age (read
// rate times age squared), not the most reads: a page read 100 times in
// the 10 s since its fetch waits behind one read 20 times in a minute.
func TestRefreshOrderIsReadsTimesAge(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	entry := func(reads int64, age time.Duration) *cached {
		e := &cached{fetched: now.Add(-age)}
		e.reads.Store(reads)
		return e
	}
	r := newRefresher(NewMetrics())
	for _, j := range []*refresh{
		{key: "hot, just stale", entry: entry(100, 10*time.Second)},     // 1,000
		{key: "cooler, older", entry: entry(20, time.Minute)},           // 1,200
		{key: "rare, oldest", entry: entry(1, 10*time.Minute)},          // 600
		{key: "warm, a little older", entry: entry(50, 21*time.Second)}, // 1,050
	} {
		r.add(j)
	}
	var order []string
	for range 4 {
		j, ok := r.next(context.Background(), func() time.Time { return now })
		if !ok {
			t.Fatal("no refresh waiting")
		}
		order = append(order, j.key)
	}
	want := []string{"cooler, older", "warm, a little older", "hot, just stale", "rare, oldest"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("refreshed in the order %q, want %q", order, want)
		}
	}
}
