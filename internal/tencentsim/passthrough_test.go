package tencentsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestPassthroughOffByDefault(t *testing.T) {
	s, _ := newSim(t, nil)
	if code := getSide(t, s, "GET", "/_sim/passthrough/logs?function=APITest", nil); code != http.StatusNotFound {
		t.Fatalf("status %d, want 404 while the route is off", code)
	}
}

func TestPassthroughPagesAndLimit(t *testing.T) {
	s, clock := newSim(t, func(c *Config) { c.Passthrough = true })
	get := func(target string) (int, map[string]json.RawMessage) {
		t.Helper()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		var env struct{ Response map[string]json.RawMessage }
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s: %s: %v", target, w.Body, err)
		}
		return w.Code, env.Response
	}

	for _, tc := range []struct {
		target string
		status int
		code   string
	}{
		{"/_sim/passthrough/logs?function=nope", http.StatusNotFound, `"ResourceNotFound.Function"`},
		{"/_sim/passthrough/logs?function=APITest&limit=x", http.StatusBadRequest, `"InvalidParameterValue"`},
		{"/_sim/passthrough/logs?function=APITest&offset=9990&limit=11", http.StatusBadRequest, `"InvalidParameterValue"`},
	} {
		status, resp := get(tc.target)
		var e struct{ Code json.RawMessage }
		_ = json.Unmarshal(resp["Error"], &e)
		if status != tc.status || string(e.Code) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.target, status, e.Code, tc.status, tc.code)
		}
	}

	// The clock stands still: three calls above were counted already, two
	// more fill the second, the sixth is over the limit.
	clock.Add(2 * time.Second)
	for i := range 5 {
		status, resp := get("/_sim/passthrough/logs?function=thumbnail-worker&limit=3")
		var data []struct{ StartTime string }
		if err := json.Unmarshal(resp["Data"], &data); err != nil || status != http.StatusOK || len(data) != 3 {
			t.Fatalf("call %d: %d, %d records (%v)", i, status, len(data), err)
		}
		if data[0].StartTime < data[1].StartTime {
			t.Fatalf("call %d: not newest first: %s before %s", i, data[0].StartTime, data[1].StartTime)
		}
	}
	status, resp := get("/_sim/passthrough/logs?function=thumbnail-worker&limit=3")
	if status != http.StatusTooManyRequests || resp["Error"] == nil {
		t.Fatalf("sixth call in one second: %d %v", status, resp)
	}
	tr := s.Truth()
	if tr.TotalAccepted[PassthroughAccount] != 8 || tr.TotalRejected[PassthroughAccount] != 1 ||
		tr.MaxCallsInAnySlidingSecond[PassthroughAccount] != 5 {
		t.Fatalf("truth: accepted %d, rejected %d, max sliding %d", tr.TotalAccepted[PassthroughAccount],
			tr.TotalRejected[PassthroughAccount], tr.MaxCallsInAnySlidingSecond[PassthroughAccount])
	}
}
