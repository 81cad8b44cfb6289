package proxy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// The cache stays under its byte bound however much is stored, evicting
// the oldest first, and replacing a key does not leak its old size.
func TestCacheIsBounded(t *testing.T) {
	const maxBytes = 1 << 20
	c := newCache(maxBytes, time.Hour, NewMetrics())
	body := []byte(strings.Repeat("x", 10_000))
	start := time.Now()
	for i := range 1000 {
		c.Set(fmt.Sprintf("k%04d", i), &cached{body: body, fetched: start.Add(time.Duration(i) * time.Millisecond)})
		if c.Bytes() > maxBytes {
			t.Fatalf("after %d entries the cache holds %d bytes, over its %d bound", i+1, c.Bytes(), maxBytes)
		}
	}
	if _, ok := c.Get("k0000"); ok {
		t.Error("the oldest entry survived eviction")
	}
	if _, ok := c.Get("k0999"); !ok {
		t.Error("the newest entry was evicted")
	}

	before := c.Bytes()
	for range 100 {
		c.Set("k0999", &cached{body: body, fetched: time.Now()})
	}
	if c.Bytes() != before {
		t.Errorf("replacing one key 100 times moved the size from %d to %d", before, c.Bytes())
	}
	if c.Set("huge", &cached{body: make([]byte, maxBytes/2), fetched: time.Now()}); c.Bytes() != before {
		t.Error("an entry over a quarter of the bound was cached")
	}
}

// Entries leave the cache once their retention has passed since they were
// fetched (not since they were stored: another replica's answer arrives
// already old), and a listing never deletes an entry set after it.
func TestCacheExpiresByFetchTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const retain = 10 * time.Minute
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		c := newCache(1<<20, retain, NewMetrics())
		go c.sweep(ctx)
		now := time.Now()
		c.Set("old", &cached{body: []byte("o"), fetched: now.Add(-retain + 30*time.Second)})
		c.Set("new", &cached{body: []byte("n"), fetched: now})
		time.Sleep(time.Minute + time.Millisecond)
		synctest.Wait()
		if _, ok := c.Get("old"); ok {
			t.Error("an entry fetched over the retention ago survived the sweep")
		}
		if _, ok := c.Get("new"); !ok {
			t.Error("an entry within its retention was swept")
		}
		if want := cost("new", &cached{body: []byte("n")}); c.Bytes() != want {
			t.Errorf("the cache counts %d bytes, want %d", c.Bytes(), want)
		}

		stale := &cached{body: []byte("s"), fetched: now.Add(-2 * retain)}
		c.Set("k", stale)
		c.Set("k", &cached{body: []byte("f"), fetched: time.Now()})
		if c.deleteIfSame("k", stale) {
			t.Error("deleted a key that no longer held the listed entry")
		}
		if e, ok := c.Get("k"); !ok || string(e.body) != "f" {
			t.Error("the fresh entry is gone")
		}
	})
}

// Different upstream parameters never share a cache key.
func TestKeyOfDistinguishesParameters(t *testing.T) {
	one, two := int64(1), int64(2)
	base := translate.GetFunctionLogsRequest{FunctionName: "f", Namespace: "default", Offset: &one, Limit: &two, Order: "desc", OrderBy: "start_time", StartTime: "2024-01-15 00:00:00", EndTime: "2024-01-15 01:00:00"}
	variants := map[string]func(*translate.GetFunctionLogsRequest){
		"function":  func(r *translate.GetFunctionLogsRequest) { r.FunctionName = "g" },
		"namespace": func(r *translate.GetFunctionLogsRequest) { r.Namespace = "prod" },
		"qualifier": func(r *translate.GetFunctionLogsRequest) { r.Qualifier = "1" },
		"order":     func(r *translate.GetFunctionLogsRequest) { r.Order = "asc" },
		"requestId": func(r *translate.GetFunctionLogsRequest) { r.FunctionRequestId = "x" },
		"start":     func(r *translate.GetFunctionLogsRequest) { r.StartTime = "2024-01-15 00:00:01" },
		"end":       func(r *translate.GetFunctionLogsRequest) { r.EndTime = "2024-01-15 01:00:01" },
		"offset":    func(r *translate.GetFunctionLogsRequest) { r.Offset = &two },
		"no offset": func(r *translate.GetFunctionLogsRequest) { r.Offset = nil },
		"limit":     func(r *translate.GetFunctionLogsRequest) { r.Limit = &one },
		"filter":    func(r *translate.GetFunctionLogsRequest) { r.Filter = &translate.LogFilter{RetCode: "is0"} },
		// Fields shifted between neighbours must not collide.
		"shifted": func(r *translate.GetFunctionLogsRequest) { r.FunctionName, r.Namespace = "fdefault", "" },
	}
	seen := map[string]string{keyOf(base): "base"}
	for name, change := range variants {
		r := base
		change(&r)
		k := keyOf(r)
		if prev, dup := seen[k]; dup {
			t.Errorf("%s and %s share a cache key", name, prev)
		}
		seen[k] = name
	}
	// Equal parameters built apart (other pointers for offset and limit)
	// share a key: keyOf reads values, never addresses.
	same := base
	o, l := int64(1), int64(2)
	same.Offset, same.Limit = &o, &l
	if keyOf(same) != keyOf(base) {
		t.Error("equal parameters got different cache keys")
	}
}
