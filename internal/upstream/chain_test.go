package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/upstream/budget"
)

// fakeTencent answers every action in-process: an error code while one is
// set, else an empty success, after latency. It keeps running a call whose
// client gave up, as Tencent does.
type fakeTencent struct {
	latency time.Duration
	mu      sync.Mutex
	code    string // the error to answer, "" for success
	calls   atomic.Int64
}

func (f *fakeTencent) setCode(code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.code = code
}

func (f *fakeTencent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	time.Sleep(f.latency)
	f.mu.Lock()
	code := f.code
	f.mu.Unlock()
	resp := map[string]any{"RequestId": "fake-request"}
	if code != "" {
		resp["Error"] = map[string]string{"Code": code, "Message": "fake " + code}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": resp})
}

// keepsRunning is h as Tencent runs it: a call whose client gave up runs
// to its end.
func keepsRunning(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	})
}

// testSearch is SearchLog with one concurrent query per topic.
var testSearch = API{service: clsService, Action: "SearchLog", PerSecond: 1000, PerTopic: 1}

func testCaller(t *testing.T, h http.Handler, breakerCfg BreakerConfig) *Caller {
	t.Helper()
	return testCallerOf(t, testAccounts(t, h, breakerCfg, prometheus.NewRegistry()), "p1")
}

// testAccounts are accounts calling h, their metrics on reg.
func testAccounts(t *testing.T, h http.Handler, breakerCfg BreakerConfig, reg prometheus.Registerer) *Accounts {
	t.Helper()
	t.Setenv("CHAIN_TEST_ID", testSecretID)
	t.Setenv("CHAIN_TEST_KEY", testSecretKey)
	return NewAccounts(Options{
		Upstream:   Config{Endpoint: "tencent.test", CLSEndpoint: "tencent.test", Scheme: "http", Timeout: 10 * time.Second, Breaker: breakerCfg},
		Budget:     budget.Config{RequestsPerSecond: 5, MaxWait: 30 * time.Second, Backoff: 3 * time.Second},
		Registerer: reg,
		Transport:  testenv.HandlerTransport{Handler: keepsRunning(h)},
	})
}

// testCallerOn is testCaller registering its metrics on reg.
func testCallerOn(t *testing.T, h http.Handler, breakerCfg BreakerConfig, reg prometheus.Registerer) *Caller {
	t.Helper()
	return testCallerOf(t, testAccounts(t, h, breakerCfg, reg), "p1")
}

// testCallerOf is project's caller, on the test account.
func testCallerOf(t *testing.T, a *Accounts, project string) *Caller {
	t.Helper()
	c, err := a.Caller(project, "ap-guangzhou", CredentialsConfig{SecretIDEnv: "CHAIN_TEST_ID", SecretKeyEnv: "CHAIN_TEST_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var noBreaking = BreakerConfig{Failures: 1000, OpenFor: time.Second}

// A call whose caller gave up keeps its topic slot for as long as a call
// may last (the upstream timeout and a second): Tencent may still be
// running the query, and a new one in the freed slot would be one too many.
func TestAbandonedCallKeepsItsTopicSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeTencent{latency: 5 * time.Second}
		c := testCaller(t, fake, noBreaking)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := call(c.Call(ctx, testSearch, "topic-1", struct{}{}))
		cancel()
		suiteWitness.SeeErr("a chain error", err)
		if Classify(err) != CallerGaveUp && Classify(err) != Timeout {
			t.Fatalf("the abandoned call ended in %v", err)
		}
		if err := call(c.Call(context.Background(), testSearch, "topic-1", struct{}{})); err != nil {
			t.Fatal(err)
		}
		// Abandoned at 1 s, held for the 10 s timeout and a second, then 5 s
		// of the next query.
		if got, want := time.Since(start), 17*time.Second; got != want {
			t.Errorf("the next query on the topic ended %s after the first began, want %s", got, want)
		}
		// Another topic is not held.
		before := time.Now()
		if err := call(c.Call(context.Background(), testSearch, "topic-2", struct{}{})); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(before); got != fake.latency {
			t.Errorf("a query on another topic took %s, want %s", got, fake.latency)
		}
		synctest.Wait()
	})
}

// The upstream's own refusal pauses the budget whose limit it names, and
// only that one: a busy topic holds that topic, RequestLimitExceeded the
// account's rate (every topic).
func TestRefusalPausesItsOwnBudget(t *testing.T) {
	for _, c := range []struct {
		code                string
		sameTopic, otherOne time.Duration // when the next call on each is made
	}{
		{TopicConcurrencyExceeded, 3 * time.Second, 0},
		{"RequestLimitExceeded", 3 * time.Second, 3 * time.Second},
		{"InvalidParameter.Payload", 0, 0},
	} {
		t.Run(c.code, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := &fakeTencent{}
				caller := testCaller(t, fake, noBreaking)
				fake.setCode(c.code)
				err := call(caller.Call(context.Background(), testSearch, "topic-1", struct{}{}))
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Code != c.code {
					t.Fatalf("got %v, want %s", err, c.code)
				}
				fake.setCode("")
				refused := time.Now()
				for _, next := range []struct {
					topic string
					at    time.Duration
				}{{"topic-2", c.otherOne}, {"topic-1", c.sameTopic}} {
					if err := call(caller.Call(context.Background(), testSearch, next.topic, struct{}{})); err != nil {
						t.Fatal(err)
					}
					if got := time.Since(refused); got != next.at {
						t.Errorf("after %s, a call on %s was answered %s after it, want %s", c.code, next.topic, got, next.at)
					}
				}
				synctest.Wait()
			})
		})
	}
}

// Calls made together as one operation close a half-open breaker: the one
// it admits is the probe, and the one it refused is made again after the
// probe succeeded.
func TestTogetherClosesAHalfOpenBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeTencent{latency: 100 * time.Millisecond}
		caller := testCaller(t, fake, BreakerConfig{Failures: 1, OpenFor: 5 * time.Second})
		call := func() error {
			return call(caller.Call(context.Background(), testSearch, "topic-1", struct{}{}))
		}
		fake.setCode("InternalError")
		if err := call(); Classify(err) != InternalError {
			t.Fatalf("got %v, want InternalError", err)
		}
		if err := call(); Classify(err) != BreakerOpen {
			t.Fatalf("got %v, want the breaker open", err)
		}
		time.Sleep(5*time.Second + time.Millisecond) // past openFor: half-open
		fake.setCode("")
		if err := Together(call, call); err != nil {
			t.Fatalf("two calls together on a half-open breaker: %v", err)
		}
		if err := call(); err != nil {
			t.Fatalf("after the probe: %v", err)
		}
		synctest.Wait()
	})
}

// Breakers are as fine as the failures they track: one API's failures
// open its breaker on the account and region, for every project, and
// refuse no other API's calls; for SearchLog, one topic's refuse no other
// topic's.
func TestBreakersArePerAPIAndTopic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeTencent{}
		caller := testCaller(t, fake, BreakerConfig{Failures: 2, OpenFor: time.Minute})
		fake.setCode("ResourceUnavailable")
		for _, c := range []struct {
			api   API
			topic string
		}{{GetFunctionLogs, ""}, {GetFunctionLogs, ""}, {SearchLog, "topic-1"}, {SearchLog, "topic-1"}} {
			_ = call(caller.Call(context.Background(), c.api, c.topic, struct{}{}))
		}
		fake.setCode("")
		for _, c := range []struct {
			api   API
			topic string
			open  bool
		}{
			{GetFunctionLogs, "", true}, {SearchLog, "topic-1", true},
			{GetRequestStatus, "", false}, {GetFunction, "", false}, {SearchLog, "topic-2", false}, {DescribeIndex, "", false},
		} {
			calls := fake.calls.Load()
			err := call(caller.Call(context.Background(), c.api, c.topic, struct{}{}))
			if open := Classify(err) == BreakerOpen; open != c.open || open == (fake.calls.Load() != calls) {
				t.Errorf("%s %s: got %v and %d calls, want the breaker open: %v", c.api.Action, c.topic, err, fake.calls.Load()-calls, c.open)
			}
		}
		synctest.Wait()
	})
}

// call drops the answer of a call whose answer the test does not read.
func call(_ json.RawMessage, err error) error { return err }
