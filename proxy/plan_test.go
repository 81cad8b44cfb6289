package proxy

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// A memoized plan is exactly what resolving the query afresh gives, for
// every shape of window, as the clock moves; no key moves with it; invalid
// queries and overlong ones are never remembered; the memo stays within
// its bound.
func TestPlanMemoMatchesFreshResolution(t *testing.T) {
	var clock atomic.Int64
	base := time.Date(2026, 3, 1, 10, 0, 3, 0, time.UTC)
	clock.Store(base.UnixNano())
	env := startProxyWith(t, nil, Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	s := env.proxy
	s.plans = newPlanMemo(4)
	target, _ := s.projects[testProject].target(testFunction)
	ctxFor := func(query string) echo.Context {
		return echo.New().NewContext(httptest.NewRequest(http.MethodGet, logsPath+"?"+query, nil), httptest.NewRecorder())
	}

	// Whether the page's window ends at the clock.
	queries := map[string]bool{
		"": true,
		"limit=5&offset=10&order=asc&status=failed":             true,
		"since=2026-03-01T08:00:00Z":                            true,
		"until=2026-03-01T08:00:00Z":                            false,
		"since=2026-03-01T08:00:00Z&until=2026-03-01T09:00:00Z": false,
		"stats=false&requestId=abc-1&qualifier=$LATEST":         true,
		"limit=0": false, // no page at all
	}
	firstPageKey := map[string]string{}
	for _, step := range []time.Duration{0, 4 * time.Second, 10 * time.Second, 25 * time.Second} {
		clock.Store(base.Add(step).UnixNano())
		for query, followsClock := range queries {
			for range 2 { // the second lookup is served by the memo
				got, err := s.planFor(ctxFor(query), testProject, testFunction, s.projects[testProject], target, s.now())
				if err != nil {
					t.Fatalf("%q at +%s: %v", query, step, err)
				}
				want, err := s.resolve(ctxFor(query), testProject, s.projects[testProject], target, s.now())
				if err != nil {
					t.Fatal(err)
				}
				// The window is placed when the fetch starts.
				placed, fresh := *got, *want
				placed.q, fresh.q = got.at(s.now()), want.at(s.now())
				if placed != fresh {
					t.Errorf("%q at +%s: memoized plan %+v, resolved afresh %+v", query, step, placed, fresh)
				}
				if len(s.plans.plans) > s.plans.maxEntries {
					t.Fatalf("the memo holds %d plans, over its bound of %d", len(s.plans.plans), s.plans.maxEntries)
				}
			}
			got, _ := s.planFor(ctxFor(query), testProject, testFunction, s.projects[testProject], target, s.now())
			if first, seen := firstPageKey[query]; !seen {
				firstPageKey[query] = got.pageKey
			} else if first != got.pageKey {
				t.Errorf("%q at +%s: page key %q, first %q; a key must not move with the clock", query, step, got.pageKey, first)
			} else if endsNow := strings.Contains(got.pageKey, movingWindow+"\x00"); endsNow != followsClock {
				t.Errorf("%q: page key %q; a window ending now is keyed as such, and only it", query, got.pageKey)
			}
		}
	}

	before := len(s.plans.plans)
	s.plans.maxEntries = 100
	for range 2 {
		if _, err := s.planFor(ctxFor("limit=x"), testProject, testFunction, s.projects[testProject], target, s.now()); err == nil {
			t.Fatal("limit=x was accepted")
		}
	}
	if len(s.plans.plans) != before {
		t.Errorf("an invalid query was remembered: %d plans, %d before", len(s.plans.plans), before)
	}
	long := "limit=3&pad=" + strings.Repeat("x", maxMemoQuery)
	if p, err := s.planFor(ctxFor(long), testProject, testFunction, s.projects[testProject], target, s.now()); err != nil || p.q.Limit != 3 {
		t.Fatalf("a long valid query: %+v, %v", p, err)
	}
	if len(s.plans.plans) != before {
		t.Errorf("a query over %d bytes was remembered", maxMemoQuery)
	}
}

// An incoming X-Request-Id is kept when it is short printable ASCII;
// without one, or with any other, each request gets its own 128-bit hex ID,
// and the rejected one appears neither in the response nor in the log.
func TestRequestIDs(t *testing.T) {
	env := startProxy(t, nil)
	get := func(id string) string {
		req := httptest.NewRequest(http.MethodGet, logsPath, nil)
		if id != "" {
			req.Header.Set(echo.HeaderXRequestID, id)
		}
		rec := httptest.NewRecorder()
		env.proxy.Handler().ServeHTTP(rec, req)
		return rec.Header().Get(echo.HeaderXRequestID)
	}
	if got := get("client-chosen-42"); got != "client-chosen-42" {
		t.Errorf("incoming X-Request-Id answered as %q", got)
	}
	longest := strings.Repeat("r", MaxRequestIDBytes)
	for _, kept := range []string{"client-chosen-42", "0f8fad5b-d9cb-469f-a165-70867728950e", "a!~:/+=@.", longest} {
		if got := get(kept); got != kept {
			t.Errorf("incoming X-Request-Id %q answered as %q", kept, got)
		}
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, bad := range []string{
		strings.Repeat("x", 60<<10), longest + "r", "caf\xc3", "\xff\xfe\xfd", "caf\u00e9", "two words", "tab\there", "nul\x00", "del\x7f",
	} {
		if got := get(bad); !hex32.MatchString(got) {
			t.Errorf("X-Request-Id %.40q answered as %.40q, want a new ID", bad, got)
		}
		if strings.Contains(env.logs.String(), bad) {
			t.Errorf("X-Request-Id %.40q was written to the log", bad)
		}
	}
	seen := map[string]bool{}
	for range 100 {
		id := get("")
		if !hex32.MatchString(id) || seen[id] {
			t.Fatalf("generated X-Request-Id %q: want 32 hex digits, unique (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}
