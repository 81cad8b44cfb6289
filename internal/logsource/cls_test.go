package logsource

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
)

// sources are both sources over one simulator.
type sources struct {
	env    *simEnv
	logs   LogSource
	cls    LogSource
	caller *countingCaller
	// first is the newest page of APITest's last hour, from
	// GetFunctionLogs.
	first translate.Page
}

func newSources(t *testing.T, fns ...tencentsim.Function) *sources {
	t.Helper()
	env := startSim(t, nil, fns...)
	caller := env.caller(t, 5)
	return &sources{env: env, logs: getFunctionLogs{caller: caller, loc: env.Location},
		cls: NewCLS(caller, NewTopics(caller, nil)), caller: caller}
}

// sameExecution says how a and b, one invocation as GetFunctionLogs (a) and
// CLS (b) tell it, differ beyond what CLS cannot carry: the billed
// duration (omitted) and the start's milliseconds (which GetFunctionLogs
// drops). The log text is the same lines, from CLS's records.
func sameExecution(a, b translate.Execution) error {
	if b.BilledDurationMs != nil {
		return fmt.Errorf("CLS invented a billed duration %d", *b.BilledDurationMs)
	}
	if b.Log != a.Log {
		return fmt.Errorf("log text\nGetFunctionLogs %q\n            CLS %q", a.Log, b.Log)
	}
	if a.ExecutedAt == nil || b.ExecutedAt == nil {
		return fmt.Errorf("executedAt missing: %v, %v", a.ExecutedAt, b.ExecutedAt)
	}
	ta, _ := time.Parse(time.RFC3339, *a.ExecutedAt)
	tb, err := time.Parse(time.RFC3339, *b.ExecutedAt)
	if err != nil || !tb.Truncate(time.Second).Equal(ta) {
		return fmt.Errorf("executedAt %s, GetFunctionLogs says %s", *b.ExecutedAt, *a.ExecutedAt)
	}
	b.BilledDurationMs, b.ExecutedAt = a.BilledDurationMs, a.ExecutedAt
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("\nGetFunctionLogs %+v\n            CLS %+v", a, b)
	}
	return nil
}

// For the same functions and windows, both sources return the same
// executions, in the same order, with the same totals, for pages in both
// orders, deep offsets and every filter; and the same stats, except the
// average duration, which CLS computes over every execution. Each case in
// a bubble of its own, whose clock starts where every other's does: the
// simulator's executions, and so the windows, are the same in each.
func TestCLSSourceEquivalence(t *testing.T) {
	target := translate.Target{FunctionName: "APITest", Namespace: "default"}
	slow := translate.Target{FunctionName: "slow-worker", Namespace: "default"}
	// Windows end a minute before the bubble's now: every execution in
	// them has finished. with edits the base query, an hour up to then.
	type edit func(q *translate.Query, now time.Time, s *sources)
	cases := []struct {
		name   string
		target translate.Target
		with   edit
	}{
		{"newest", target, nil},
		{"oldest", target, func(q *translate.Query, _ time.Time, _ *sources) { q.Order = translate.OrderAsc }},
		{"deep offset desc", target, func(q *translate.Query, _ time.Time, _ *sources) { q.Offset, q.Limit = 1500, 100 }},
		{"deep offset asc", target, func(q *translate.Query, _ time.Time, _ *sources) {
			q.Offset, q.Limit, q.Order = 1777, 23, translate.OrderAsc
		}},
		{"past the end", target, func(q *translate.Query, _ time.Time, _ *sources) { q.Offset = 5000 }},
		{"failed", target, func(q *translate.Query, _ time.Time, _ *sources) { q.Status = translate.StatusFailed; q.Offset = 30 }},
		{"succeeded", target, func(q *translate.Query, _ time.Time, _ *sources) {
			q.Status = translate.StatusSuccess
			q.Order = translate.OrderAsc
		}},
		{"request ID", target, func(q *translate.Query, _ time.Time, s *sources) { q.RequestID = s.first.Executions[3].RequestID }},
		{"qualifier", target, func(q *translate.Query, _ time.Time, _ *sources) { q.Qualifier = "prod"; q.Offset = 10 }},
		{"configured qualifier", translate.Target{FunctionName: "APITest", Namespace: "default", Qualifier: "2"}, nil},
		{"odd window", target, func(q *translate.Query, now time.Time, _ *sources) {
			q.Since, q.Until = now.Add(-37*time.Minute-300*time.Millisecond), now.Add(-12*time.Minute+700*time.Millisecond)
		}},
		{"timeouts outlive the window", slow, func(q *translate.Query, now time.Time, _ *sources) {
			q.Since, q.Until, q.Limit = now.Add(-10*time.Minute), now.Add(-9*time.Minute), 200
		}},
		{"big page", slow, func(q *translate.Query, _ time.Time, _ *sources) {
			q.Limit, q.Offset, q.Status = 250, 100, translate.StatusFailed
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inBubble(t, func(t *testing.T) {
				s := newSources(t,
					tencentsim.Function{Name: "APITest", RatePerSecond: 0.5, FailureRatio: 0.2, Qualifiers: []string{"$LATEST", "2", "prod"}},
					tencentsim.Function{Name: "slow-worker", RatePerSecond: 2, FailureRatio: 0.9, TimeoutMs: 20000},
				)
				now := time.Now().Add(-time.Minute)
				ctx := context.Background()
				q := translate.Query{Limit: 20, Order: translate.OrderDesc, Since: now.Add(-time.Hour), Until: now}
				var err error
				if s.first, err = s.logs.Page(ctx, target, q); err != nil || len(s.first.Executions) == 0 {
					t.Fatalf("GetFunctionLogs page: %v, %d executions", err, len(s.first.Executions))
				}
				if c.with != nil {
					c.with(&q, now, s)
				}
				testEquivalence(t, s, c.target, q)
			})
		})
	}
}

// testEquivalence checks that both sources of s answer q alike.
func testEquivalence(t *testing.T, s *sources, target translate.Target, q translate.Query) {
	ctx := context.Background()
	want, err := s.logs.Page(ctx, target, q)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.cls.Page(ctx, target, q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != want.Total || len(got.Executions) != len(want.Executions) {
		t.Fatalf("CLS: %d of %d executions, GetFunctionLogs: %d of %d",
			len(got.Executions), got.Total, len(want.Executions), want.Total)
	}
	for i := range want.Executions {
		if err := sameExecution(want.Executions[i], got.Executions[i]); err != nil {
			t.Fatalf("execution %d: %v", i, err)
		}
	}

	wantStats, err := s.logs.Stats(ctx, target, q)
	if err != nil {
		t.Fatal(err)
	}
	calls := s.caller.searches.Load()
	gotStats, err := s.cls.Stats(ctx, target, q)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.caller.searches.Load() - calls; n != 1 {
		t.Errorf("CLS stats cost %d calls, want 1", n)
	}
	if gotStats.LastRun == nil || wantStats.LastRun == nil {
		t.Fatalf("lastRun: CLS %v, GetFunctionLogs %v", gotStats.LastRun, wantStats.LastRun)
	}
	last, _ := time.Parse(time.RFC3339, *gotStats.LastRun)
	if l := translate.FormatMudbaseTime(last.Truncate(time.Second)); l != *wantStats.LastRun {
		t.Errorf("lastRun %s, GetFunctionLogs says %s", *gotStats.LastRun, *wantStats.LastRun)
	}
	gotStats.LastRun = wantStats.LastRun
	truth := exactMean(s.env, target, q)
	if gotStats.AvgExecutionTime != truth {
		t.Errorf("avgExecutionTime %d, the ground truth is %d", gotStats.AvgExecutionTime, truth)
	}
	gotStats.AvgExecutionTime = wantStats.AvgExecutionTime
	if gotStats != wantStats {
		t.Errorf("stats: CLS %+v, GetFunctionLogs %+v", gotStats, wantStats)
	}
}

// exactMean is the mean duration, in whole ms, of every execution of q's
// window and qualifier that the simulator has finished.
func exactMean(env *simEnv, t translate.Target, q translate.Query) int64 {
	qual := t.Qualifier
	if q.Qualifier != "" {
		qual = q.Qualifier
	}
	var sum float64
	var n int
	since := time.Unix(q.Since.Unix(), 0)
	until := time.Unix(q.Until.Unix(), 0).Add(time.Second - time.Nanosecond)
	for _, e := range env.Executions("ap-guangzhou", t.Namespace, t.FunctionName, since, until) {
		if qual == "" || e.Qualifier == qual {
			sum += e.Log.Duration
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return int64(math.Round(sum / float64(n)))
}

// A function whose GetFunction reports no topic is a misconfiguration
// naming it.
func TestCLSSourceNoTopic(t *testing.T) {
	describe := callerFunc(func(_ context.Context, api upstream.API, _ string, _ any) (json.RawMessage, error) {
		if api != upstream.GetFunction {
			t.Fatalf("called %s before the topic was known", api.Action)
		}
		return json.RawMessage(`{"FunctionName":"orphan","MemorySize":128,"RequestId":"r"}`), nil
	})
	src := NewCLS(describe, NewTopics(describe, nil))
	_, err := src.Stats(context.Background(), translate.Target{FunctionName: "orphan", Namespace: "ns1"}, translate.Query{})
	if upstream.Classify(err) != upstream.Misconfigured || !strings.Contains(err.Error(), `"orphan"`) {
		t.Errorf("got %v (%s), want a misconfiguration naming the function", err, upstream.Classify(err))
	}
}

type callerFunc func(ctx context.Context, api upstream.API, topic string, req any) (json.RawMessage, error)

func (f callerFunc) Call(ctx context.Context, api upstream.API, topic string, req any) (json.RawMessage, error) {
	return f(ctx, api, topic, req)
}

// A CLS page's cost is known from its query before any call: its count and
// its report lines, then a batch of lines per 200 executions, three calls
// each with log text.
func TestCLSPageCalls(t *testing.T) {
	src := NewCLS(nil, nil)
	for _, c := range []struct {
		limit       int64
		skipLog     bool
		page, stats int
	}{
		{0, false, 0, 1}, {1, true, 3, 1}, {20, false, 5, 1}, {20, true, 3, 1},
		{200, true, 3, 1}, {201, true, 4, 1}, {600, false, 11, 1}, {10000, true, 52, 1},
	} {
		page, stats := src.Calls(translate.Query{Limit: c.limit, SkipLog: c.skipLog})
		if page != c.page || stats != c.stats {
			t.Errorf("limit %d, skipLog %v: %d and %d calls, want %d and %d", c.limit, c.skipLog, page, stats, c.page, c.stats)
		}
	}
}
