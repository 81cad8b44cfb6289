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

// Queries that ask a source different things never share a cache key;
// stats share one whenever their window, function and qualifier agree.
func TestCacheKeyDistinguishesQueries(t *testing.T) {
	since := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	base := plan{q: translate.Query{Limit: 2, Offset: 1, Order: translate.OrderDesc, Since: since, Until: since.Add(time.Hour)}}
	target := translate.Target{FunctionName: "f", Namespace: "default"}
	type variant struct {
		change    func(*plan, *translate.Target)
		statsToo  bool // the stats ask something else too
		projectID string
	}
	variants := map[string]variant{
		"project":           {func(*plan, *translate.Target) {}, true, "p2"},
		"function":          {func(_ *plan, t *translate.Target) { t.FunctionName = "g" }, true, ""},
		"namespace":         {func(_ *plan, t *translate.Target) { t.Namespace = "prod" }, true, ""},
		"configured qual":   {func(_ *plan, t *translate.Target) { t.Qualifier = "1" }, true, ""},
		"query qualifier":   {func(p *plan, _ *translate.Target) { p.q.Qualifier = "2" }, true, ""},
		"since":             {func(p *plan, _ *translate.Target) { p.q.Since = p.q.Since.Add(time.Second) }, true, ""},
		"until":             {func(p *plan, _ *translate.Target) { p.q.Until = p.q.Until.Add(time.Second) }, true, ""},
		"ends now":          {func(p *plan, _ *translate.Target) { p.endsNow = true }, true, ""},
		"default window":    {func(p *plan, _ *translate.Target) { p.endsNow, p.relativeStart = true, true }, true, ""},
		"order":             {func(p *plan, _ *translate.Target) { p.q.Order = translate.OrderAsc }, false, ""},
		"status":            {func(p *plan, _ *translate.Target) { p.q.Status = translate.StatusFailed }, false, ""},
		"requestId":         {func(p *plan, _ *translate.Target) { p.q.RequestID = "x" }, false, ""},
		"offset":            {func(p *plan, _ *translate.Target) { p.q.Offset = 2 }, false, ""},
		"limit":             {func(p *plan, _ *translate.Target) { p.q.Limit = 1 }, false, ""},
		"no log":            {func(p *plan, _ *translate.Target) { p.q.SkipLog = true }, false, ""},
		"shifted neighbour": {func(_ *plan, t *translate.Target) { t.FunctionName, t.Namespace = "fdefault", "" }, true, ""},
	}
	key := func(p plan, t translate.Target, project, kind string) string { return p.cacheKey(project, kind, t) }
	pages := map[string]string{key(base, target, "p1", "page"): "base"}
	baseStats := key(base, target, "p1", "stats")
	stats := map[string]string{baseStats: "base"}
	for name, v := range variants {
		p, tg, project := base, target, "p1"
		if v.projectID != "" {
			project = v.projectID
		}
		v.change(&p, &tg)
		k := key(p, tg, project, "page")
		if prev, dup := pages[k]; dup {
			t.Errorf("pages: %s and %s share a cache key", name, prev)
		}
		pages[k] = name
		sk := key(p, tg, project, "stats")
		if !v.statsToo {
			if sk != baseStats {
				t.Errorf("stats: %s, which stats do not depend on, changed their key", name)
			}
			continue
		}
		if prev, dup := stats[sk]; dup {
			t.Errorf("stats: %s and %s share a cache key", name, prev)
		}
		stats[sk] = name
	}
	// Times within one second are one upstream second.
	same := base
	same.q.Since, same.q.Until = base.q.Since.Add(300*time.Millisecond), base.q.Until.Add(999*time.Millisecond)
	if key(same, target, "p1", "page") != key(base, target, "p1", "page") {
		t.Error("the same upstream seconds got different cache keys")
	}
}
