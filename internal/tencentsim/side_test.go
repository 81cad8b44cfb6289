package tencentsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

func getSide(t *testing.T, s *Simulator, method, target string, out any) int {
	t.Helper()
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	if out != nil && w.Code == 200 {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s: %v", w.Body, err)
		}
	}
	return w.Code
}

func TestSideEndpoints(t *testing.T) {
	s, clock := newSim(t, nil)
	var health map[string]string
	if code := getSide(t, s, "GET", "/_sim/healthz", &health); code != 200 || health["status"] != "ok" {
		t.Fatalf("healthz: %d %v", code, health)
	}

	mustOK(t, call(t, s, clock, `{}`))
	serve(t, s, apiRequest(t, clock, http.MethodPost, `{}`, reqOpts{secretID: "AKIDnobody", secretKey: "x"}))
	var tr Truth
	if code := getSide(t, s, "GET", "/_sim/truth", &tr); code != 200 {
		t.Fatalf("truth: %d", code)
	}
	if tr.TotalAccepted[defaultSecretID] != 1 || tr.TotalAuthFailures[""] != 1 || len(tr.Calls) != 2 {
		t.Fatalf("truth: %+v", tr)
	}

	// thumbnail-worker runs ~60 times in 2 minutes: over a lowered cap.
	s.listCap = 25
	now := clock.Now()
	since, until := now.Add(-2*time.Minute), now
	q := url.Values{"region": {"ap-guangzhou"}, "namespace": {"default"}, "function": {"thumbnail-worker"},
		"since": {since.Format(time.RFC3339Nano)}, "until": {until.Format(time.RFC3339Nano)}}
	var list struct {
		Count      int64
		Executions []Execution
	}
	if code := getSide(t, s, "GET", "/_sim/executions?"+q.Encode(), &list); code != 200 {
		t.Fatalf("executions: %d", code)
	}
	truth := s.Executions("ap-guangzhou", "default", "thumbnail-worker", since, until)
	if list.Count != int64(len(truth)) || len(list.Executions) != s.listCap {
		t.Fatalf("count %d (truth %d), %d listed", list.Count, len(truth), len(list.Executions))
	}
	if list.Executions[0].Log.RequestId != truth[0].Log.RequestId || !list.Executions[0].Start.Equal(truth[0].Start) {
		t.Fatal("the list does not start with the oldest execution")
	}

	for _, tc := range []struct {
		method, target string
		want           int
	}{
		{"GET", "/_sim/executions?since=yesterday", 400},
		{"GET", "/_sim/executions?until=2024-01-01", 400},
		{"POST", "/_sim/truth", 405},
		{"DELETE", "/_sim/faults", 405},
		{"GET", "/_sim/nothing", 404},
	} {
		if code := getSide(t, s, tc.method, tc.target, nil); code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.target, code, tc.want)
		}
	}
}

// The sliding window: five calls at t fill it, five more at t+0.5s are
// rejected without using it up, and it frees again just after t+1s.
func TestSlidingWindow(t *testing.T) {
	s, clock := newSim(t, nil)
	t0 := clock.Now()
	expect := func(at time.Duration, n int, want string) {
		t.Helper()
		clock.Set(t0.Add(at))
		for i := range n {
			if got := call(t, s, clock, `{"Limit":0}`); errCode(got) != want {
				t.Fatalf("at +%v call %d: %q, want %q", at, i, errCode(got), want)
			}
		}
	}
	expect(0, 5, "")
	expect(500*time.Millisecond, 5, "RequestLimitExceeded")
	expect(time.Second+time.Millisecond, 5, "")
	expect(time.Second+2*time.Millisecond, 1, "RequestLimitExceeded")
	expect(1500*time.Millisecond, 1, "RequestLimitExceeded")
	tr := s.Truth()
	if tr.MaxCallsInAnySlidingSecond[defaultSecretID] != 5 || tr.TotalAccepted[defaultSecretID] != 10 ||
		tr.TotalRejected[defaultSecretID] != 7 {
		t.Fatalf("truth: %+v", tr)
	}
	// Another SecretId has its own window.
	s2, clock2 := newSim(t, func(c *Config) {
		c.Accounts = append(c.Accounts, Account{SecretID: "AKIDsecond", SecretKey: "second-key"})
	})
	for range 5 {
		mustOK(t, call(t, s2, clock2, `{}`))
	}
	mustOK(t, serve(t, s2, apiRequest(t, clock2, http.MethodPost, `{}`, reqOpts{secretID: "AKIDsecond", secretKey: "second-key"})))
}

// MaxCallsInAnySlidingSecond is computed from timestamps, not per
// calendar second, and a clock that steps back cannot sneak calls past it.
func TestMaxSliding(t *testing.T) {
	clock := newFakeClock()
	base := time.Unix(1_700_000_000, 900_000_000)
	l := newLedger(clock.Now, map[string]int{scf.ActionGetFunctionLogs: 3, scf.ActionGetFunction: 1})
	at := func(off time.Duration) { clock.Set(base.Add(off)) }
	for _, off := range []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond} {
		at(off)
		if !l.admit(scf.ActionGetFunctionLogs, "a") {
			t.Fatalf("rejected at +%v", off)
		}
	}
	// Next calendar second, same sliding second: rejected.
	at(200 * time.Millisecond)
	if l.admit(scf.ActionGetFunctionLogs, "a") {
		t.Fatal("accepted a 4th call within one sliding second")
	}
	// Each action has its own window.
	if !l.admit(scf.ActionGetFunction, "a") || l.admit(scf.ActionGetFunction, "a") {
		t.Fatal("GetFunction's own limit of 1 not applied")
	}
	// A clock stepped back 2 s lands in no window that has room.
	at(-2 * time.Second)
	if l.admit(scf.ActionGetFunctionLogs, "a") {
		t.Fatal("a clock stepped back admitted a 4th call")
	}
	at(1100 * time.Millisecond)
	if !l.admit(scf.ActionGetFunctionLogs, "a") {
		t.Fatal("rejected after the window moved")
	}
	at(2 * time.Second)
	tr := l.truth()
	if tr.MaxCallsInAnySlidingSecond["a"] != 3 || tr.APIs[scf.ActionGetFunction].MaxCallsInAnySlidingSecond["a"] != 1 ||
		tr.APIs[scf.ActionGetFunction].TotalRejected["a"] != 1 || tr.TotalRejected["a"] != 2 {
		t.Fatalf("truth %+v", tr)
	}
	// Seconds older than 10 minutes are forgotten.
	at(20 * time.Minute)
	l.record("a", outAuthFailed)
	if tr := l.truth(); len(tr.Calls) != 1 || tr.TotalAccepted["a"] != 4 {
		t.Fatalf("calls %+v", tr.Calls)
	}
}
