package proxy

// Freshness of the response cache on a fake clock (testing/synctest): keys
// that live their whole TTL, stale-while-revalidate and the order of
// refreshes. The upstream is a fake LogSource, so that nothing leaves the
// bubble.

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// fakeSource answers pages at once, through an optional budget, and
// records every call: its offset (which tells keys apart) and window.
type fakeSource struct {
	budget budget.Limiter // nil: no budget
	mu     sync.Mutex
	calls  []fakeCall
	err    error // when set, every call fails with it
	// hold, when set, holds background calls until it is closed.
	hold chan struct{}
	// pageCalls is what a page costs (0: 1 call).
	pageCalls int
}

type fakeCall struct {
	offset       int64
	since, until time.Time
	priority     budget.Priority
}

func (f *fakeSource) Page(ctx context.Context, _ translate.Target, q translate.Query) (translate.Page, error) {
	if f.hold != nil && budget.PriorityOf(ctx) == budget.Background {
		<-f.hold
	}
	if f.budget != nil && f.failing() == nil {
		g, _, err := f.budget.Acquire(ctx, budget.PriorityOf(ctx))
		if err != nil {
			return translate.Page{}, err
		}
		defer func() { g.Done(time.Now()) }()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return translate.Page{}, f.err
	}
	f.calls = append(f.calls, fakeCall{q.Offset, q.Since, q.Until, budget.PriorityOf(ctx)})
	return translate.Page{Executions: []translate.Execution{{RequestID: "as-of-" + q.Until.UTC().Format(time.RFC3339Nano)}}}, nil
}

func (f *fakeSource) Stats(context.Context, translate.Target, translate.Query) (translate.Stats, error) {
	panic("the fake source serves pages only: ask with stats=false")
}

// Calls: one call for a page, as a GetFunctionLogs page costs, unless
// pageCalls says otherwise.
func (f *fakeSource) Calls(translate.Query) (page, stats int) { return max(f.pageCalls, 1), 1 }

func (f *fakeSource) failing() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeSource) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSource) taken() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

// fakeEnv is a proxy, built inside a synctest bubble, on a fake source.
type fakeEnv struct {
	proxy *Server
	src   *fakeSource
	token string
}

func startFake(t *testing.T, src *fakeSource, tweak func(*Config)) *fakeEnv {
	t.Helper()
	cfg := testConfig("127.0.0.1:1", tweak)
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(t.Context(), cfg, Options{Logger: testLogger("the proxy's log")})
	if err != nil {
		t.Fatal(err)
	}
	p.projects[testProject].source = src
	tok, err := jwtauth.MintToken([]byte(testJWTSecret), jwtauth.Config{}, jwtauth.TokenClaims{Subject: "usr_morgan_de", TTL: 10000 * time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &fakeEnv{proxy: p, src: src, token: tok}
}

// get serves one request in the bubble.
func (e *fakeEnv) get(t *testing.T, query string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, logsPath+"?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	rec := httptest.NewRecorder()
	e.proxy.Handler().ServeHTTP(rec, req)
	return rec
}

// Two identical requests inside the TTL are a HIT every time: the second
// of each pair comes at a random instant before the first's entry is a
// TTL old, on a clock that crosses every old alignment step. The entry's
// Age is the time since its fetch, and the upstream got an explicit window
// ending at the fetch.
func TestDefaultWindowHitsForItsWholeTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := startFake(t, &fakeSource{}, nil)
		ttl := env.proxy.cfg.Cache.PageTTL
		// Past the entry's retention: the next request is a miss.
		gone := max(ttl, env.proxy.cfg.Cache.StatsTTL) + env.proxy.cfg.Cache.StaleMaxAge + time.Minute
		rng := rand.New(rand.NewPCG(13, 13))
		const pairs = 200
		for i := range pairs {
			time.Sleep(gone + rand.N(ttl) + time.Duration(rng.Int64N(int64(ttl))))
			first := env.get(t, "stats=false&limit=5")
			if first.Code != http.StatusOK || first.Header().Get("X-Cache") != cacheMiss {
				t.Fatalf("pair %d: the first request got %d %s", i, first.Code, first.Header().Get("X-Cache"))
			}
			fetched := time.Now()
			calls := env.src.taken()
			if len(calls) != i+1 || !calls[i].until.Equal(fetched) || !calls[i].since.Equal(fetched.Add(-translate.DefaultWindow)) {
				t.Fatalf("pair %d: upstream calls %+v, want %d, the last for the day up to %v", i, calls, i+1, fetched)
			}
			for range 3 {
				time.Sleep(time.Duration(rng.Int64N(int64(ttl-time.Since(fetched)) / 2)))
				second := env.get(t, "stats=false&limit=5")
				age := time.Since(fetched)
				if got := second.Header().Get("X-Cache"); got != cacheHit {
					t.Fatalf("pair %d: the same request %s after a miss (at %s) was a %s", i, age, fetched.Format("15:04:05.000"), got)
				}
				if got := second.Header().Get("Age"); got != strconv.Itoa(int(age.Seconds())) {
					t.Errorf("pair %d: Age %s, want %d (the time since the fetch)", i, got, int(age.Seconds()))
				}
				if second.Body.String() != first.Body.String() {
					t.Fatalf("pair %d: a hit answered %s, the miss %s", i, second.Body, first.Body)
				}
			}
		}
		if n := len(env.src.taken()); n != pairs {
			t.Errorf("%d upstream calls for %d misses", n, pairs)
		}
	})
}

// A window with a fixed since and no until also ends at each fetch, and
// stops being valid once it would span more than the upstream's day,
// although its plan was remembered.
func TestSinceOnlyWindowEndsAtTheFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := startFake(t, &fakeSource{}, nil)
		time.Sleep(48 * time.Hour) // the bubble's clock starts at 2000-01-01, Mudbase's earliest time
		query := "stats=false&since=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		if r := env.get(t, query); r.Code != http.StatusOK {
			t.Fatalf("%d %s", r.Code, r.Body)
		}
		time.Sleep(time.Hour)
		if r := env.get(t, query); r.Code != http.StatusOK {
			t.Fatalf("%d %s", r.Code, r.Body)
		}
		calls := env.src.taken()
		if len(calls) != 2 || !calls[1].until.Equal(time.Now()) || calls[1].since != calls[0].since {
			t.Fatalf("calls %+v, want the second for the same since up to now", calls)
		}
		time.Sleep(23 * time.Hour)
		if r := env.get(t, query); r.Code != http.StatusBadRequest {
			t.Fatalf("a since 24h ago and a second: %d %s, want 400", r.Code, r.Body)
		}
	})
}

// Past its TTL and within staleWhileRevalidate an entry is answered at
// once, marked STALE with its true Age, and one background refresh is
// made however many requests see it, at background priority; the next
// request is a hit on the refreshed entry. When the budget cannot serve a
// request, the last good answer goes out instead of a 429, up to
// staleMaxAge; a 429 only when there is nothing to give.
func TestStaleWhileRevalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeSource{hold: make(chan struct{})}
		env := startFake(t, src, nil)
		cache := env.proxy.cfg.Cache
		const query = "stats=false&limit=3"
		if r := env.get(t, query); r.Header().Get("X-Cache") != cacheMiss {
			t.Fatalf("first request: %d %s", r.Code, r.Header().Get("X-Cache"))
		}
		time.Sleep(cache.PageTTL + 5*time.Second)
		stale := strconv.Itoa(int((cache.PageTTL + 5*time.Second).Seconds()))
		for i := range 20 {
			r := env.get(t, query) // while the refresh is held
			got := r.Header().Get("X-Cache") + " " + r.Header().Get("Age")
			if r.Code != http.StatusOK || got != cacheStale+" "+stale {
				t.Fatalf("request %d past the TTL: %d, X-Cache and Age %s; want 200 STALE %s at once", i, r.Code, got, stale)
			}
			synctest.Wait()
		}
		close(src.hold)
		synctest.Wait()
		calls := src.taken()
		if len(calls) != 2 || calls[1].priority != budget.Background {
			t.Fatalf("upstream calls %+v: want the fill and one background refresh", calls)
		}
		if r := env.get(t, query); r.Header().Get("X-Cache") != cacheHit || r.Header().Get("Age") != "0" {
			t.Fatalf("after the refresh: X-Cache %s, Age %s; want a fresh HIT", r.Header().Get("X-Cache"), r.Header().Get("Age"))
		}

		// The budget refuses everything from now on.
		src.fail(&budget.RefusedError{RetryAfter: time.Second})
		time.Sleep(cache.PageTTL + cache.StaleWhileRevalidate)
		r := env.get(t, query)
		if r.Code != http.StatusOK || r.Header().Get("X-Cache") != cacheStale {
			t.Fatalf("budget spent, answer %s old: %d %s; want the last good answer", cache.PageTTL+cache.StaleWhileRevalidate, r.Code, r.Header().Get("X-Cache"))
		}
		time.Sleep(cache.StaleMaxAge)
		if r := env.get(t, query); r.Code != http.StatusTooManyRequests {
			t.Fatalf("budget spent, answer past staleMaxAge: %d %s; want 429", r.Code, r.Header().Get("X-Cache"))
		}
		if r := env.get(t, "stats=false&limit=4"); r.Code != http.StatusTooManyRequests {
			t.Fatalf("budget spent, nothing cached: %d; want 429", r.Code)
		}
	})
}

// Under a budget of 1 call a second, 10 pages of unequal popularity whose
// refreshes need twice that: every request is answered, the most read
// pages are refreshed most often, and a page nobody reads is never
// refreshed.
func TestRefreshesFollowDemand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limiter := budget.New(budget.Config{RequestsPerSecond: 1, MaxWait: 2 * time.Second}, nil, "test", time.Second)
		src := &fakeSource{budget: limiter}
		env := startFake(t, src, func(cfg *Config) {
			cfg.Budget.RequestsPerSecond = 1
			cfg.Cache.PageTTL = 5 * time.Second
		})
		const keys = 10 // and one more, filled and never read again
		query := func(k int) string { return "stats=false&limit=2&offset=" + strconv.Itoa(k) }
		for k := range keys + 1 {
			if r := env.get(t, query(k)); r.Code != http.StatusOK {
				t.Fatalf("filling page %d: %d %s", k, r.Code, r.Body)
			}
			time.Sleep(1100 * time.Millisecond)
		}
		filled := len(src.taken())
		// Page k is read every (k+1)th tick of 100 ms, for a minute.
		answered := map[int]int{}
		for tick := range 600 {
			for k := range keys {
				if tick%(k+1) == 0 {
					r := env.get(t, query(k))
					answered[r.Code]++
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Minute) // the refreshes still queued
		synctest.Wait()
		if len(answered) != 1 || answered[http.StatusOK] == 0 {
			t.Errorf("answers by status %v, want every one 200", answered)
		}
		refreshes := make([]int, keys+1)
		for _, c := range src.taken()[filled:] {
			refreshes[c.offset]++
		}
		t.Logf("refreshes by page, most read first: %v", refreshes)
		if refreshes[keys] != 0 {
			t.Errorf("the page nobody read was refreshed %d times", refreshes[keys])
		}
		top, bottom := refreshes[0]+refreshes[1]+refreshes[2], refreshes[7]+refreshes[8]+refreshes[9]
		if refreshes[0] < refreshes[keys-1]+3 || top < bottom+6 {
			t.Errorf("refreshes by page %v: want the most read pages refreshed most", refreshes)
		}
	})
}

// staleMaxAge bounds every stale answer, revalidating ones included: with
// the settings (pageTTL 1s, staleMaxAge 3s, staleWhileRevalidate
// left to its default, which now fits inside), a failing upstream gets
// answers no older than 3 s, then errors.
func TestStaleAnswersNeverPassStaleMaxAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := startFake(t, &fakeSource{}, func(cfg *Config) {
			cfg.Cache.PageTTL, cfg.Cache.StaleMaxAge = time.Second, 3*time.Second
		})
		if got := env.proxy.cfg.Cache.StaleWhileRevalidate; got != 2*time.Second {
			t.Errorf("staleWhileRevalidate defaulted to %s, want the 2s left of staleMaxAge past pageTTL", got)
		}
		if r := env.get(t, "stats=false"); r.Code != http.StatusOK {
			t.Fatalf("warm-up: %d", r.Code)
		}
		env.src.fail(&upstream.TransportError{Outcome: upstream.Unreachable, Err: errors.New("down")})
		stale := 0
		for range 20 {
			time.Sleep(500 * time.Millisecond)
			synctest.Wait()
			r := env.get(t, "stats=false")
			if r.Code != http.StatusOK {
				continue
			}
			stale++
			if age, _ := strconv.Atoi(r.Header().Get("Age")); age > 3 {
				t.Errorf("an answer with Age %d past staleMaxAge 3s (X-Cache %s)", age, r.Header().Get("X-Cache"))
			}
		}
		if stale == 0 {
			t.Error("no stale answer at all: the test shows nothing")
		}
	})
}

// A page that would cost more upstream calls than upstream.maxCallsPerPage
// is refused before any call, with a 400 that says what to ask instead.
func TestPageOverTheCallBoundIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := startFake(t, &fakeSource{pageCalls: 13}, nil)
		r := env.get(t, "stats=false&limit=5000")
		if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.String(), "costs up to 13 upstream calls") ||
			!strings.Contains(r.Body.String(), "at most 12 per page") || !strings.Contains(r.Body.String(), translate.CodeInvalidParameter) {
			t.Errorf("%d %s", r.Code, r.Body)
		}
		if calls := env.src.taken(); len(calls) != 0 {
			t.Errorf("%d calls made for a refused page", len(calls))
		}
		env.src.pageCalls = 12
		if r := env.get(t, "stats=false&limit=5000"); r.Code != http.StatusOK {
			t.Errorf("a page within the bound: %d %s", r.Code, r.Body)
		}
	})
}
