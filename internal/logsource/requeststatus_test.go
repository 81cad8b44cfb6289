package logsource

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/translate"
)

// A page asking for one request ID, on a getFunctionLogs project, is
// served by GetRequestStatus: the same execution GetFunctionLogs gives
// (but for what GetRequestStatus does not carry), filters applied, and not
// one GetFunctionLogs call; a query GetRequestStatus cannot answer (a
// qualifier) stays with GetFunctionLogs.
func TestRequestStatusServesOneRequestID(t *testing.T) {
	const unknown = "00000000-0000-0000-0000-000000000000"
	cases := []struct {
		name, id, status string // id: "succeeded", "failed" or unknown
		offset           int64
	}{
		{"a success", "succeeded", "", 0},
		{"a failure", "failed", "", 0},
		{"a failure, failures only", "failed", translate.StatusFailed, 0},
		{"a failure, successes only", "failed", translate.StatusSuccess, 0},
		{"past the one match", "succeeded", "", 1},
		{"unknown", unknown, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inBubble(t, func(t *testing.T) {
				f := newRequestStatusFixture(t)
				id := c.id
				if known, ok := f.ids[c.id]; ok {
					id = known
				}
				q := f.query(id, c.status, "", c.offset)
				logsBefore, statusBefore := f.caller.logs.Load(), f.caller.status.Load()
				got, err := f.src.Page(context.Background(), f.target, q)
				if err != nil {
					t.Fatal(err)
				}
				if n := f.caller.logs.Load() - logsBefore; n != 0 {
					t.Errorf("%d GetFunctionLogs calls, want 0", n)
				}
				if n := f.caller.status.Load() - statusBefore; n != 1 {
					t.Errorf("%d GetRequestStatus calls, want 1", n)
				}
				want, err := f.logs.Page(context.Background(), f.target, q)
				if err != nil {
					t.Fatal(err)
				}
				if got.Total != want.Total || len(got.Executions) != len(want.Executions) {
					t.Fatalf("total %d, %d executions; GetFunctionLogs: total %d, %d executions", got.Total, len(got.Executions), want.Total, len(want.Executions))
				}
				for i := range got.Executions {
					g, w := got.Executions[i], want.Executions[i]
					if g.BilledDurationMs != nil || g.Log != "" {
						t.Errorf("invented billed duration or log: %+v", g)
					}
					// What GetRequestStatus does not carry: the billed
					// duration, the log text, and a failure's own code (it
					// says -1).
					g.BilledDurationMs, g.Log = w.BilledDurationMs, w.Log
					if !w.Success && g.RetCode == -1 {
						g.RetCode = w.RetCode
					}
					if !reflect.DeepEqual(g, w) {
						t.Errorf("GetRequestStatus\n%+v\nGetFunctionLogs\n%+v", g, w)
					}
				}
			})
		})
	}

	// A qualifier, which GetRequestStatus cannot filter on: GetFunctionLogs.
	t.Run("a qualifier", func(t *testing.T) {
		inBubble(t, func(t *testing.T) {
			f := newRequestStatusFixture(t)
			before := f.caller.logs.Load()
			if _, err := f.src.Page(context.Background(), f.target, f.query(f.ids["succeeded"], "", "$LATEST", 0)); err != nil {
				t.Fatal(err)
			}
			if n := f.caller.logs.Load() - before; n != 1 {
				t.Errorf("with a qualifier: %d GetFunctionLogs calls, want 1", n)
			}
		})
	})
}

// requestStatusFixture is a getFunctionLogs source on a simulator, and a
// succeeded and a failed request ID of its last hour.
type requestStatusFixture struct {
	caller       *countingCaller
	src          LogSource
	logs         getFunctionLogs // the reference: GetFunctionLogs itself
	target       translate.Target
	since, until time.Time
	ids          map[string]string
}

func newRequestStatusFixture(t *testing.T) *requestStatusFixture {
	t.Helper()
	env := startSim(t, nil, tencentsim.Function{Name: "APITest", RatePerSecond: 0.2, FailureRatio: 0.3})
	caller := env.caller(t, 5)
	f := &requestStatusFixture{
		caller: caller, src: NewGetFunctionLogs(caller, env.Location), logs: getFunctionLogs{caller: caller, loc: env.Location},
		target: translate.Target{FunctionName: "APITest", Namespace: "default"},
		until:  time.Now().Add(-time.Minute).Truncate(time.Second),
	}
	f.since = f.until.Add(-time.Hour)
	f.ids = map[string]string{}
	for _, e := range env.Executions("ap-guangzhou", "default", "APITest", f.since, f.until.Add(time.Second-1)) {
		if e.Log.RetCode == 0 && e.Log.InvokeFinished == 1 {
			f.ids["succeeded"] = e.Log.RequestId
		} else {
			f.ids["failed"] = e.Log.RequestId
		}
	}
	if f.ids["succeeded"] == "" || f.ids["failed"] == "" {
		t.Fatalf("the simulator made no success or no failure in the last hour")
	}
	return f
}

func (f *requestStatusFixture) query(id, status, qualifier string, offset int64) translate.Query {
	return translate.Query{Limit: 10, Offset: offset, Order: translate.OrderDesc, Since: f.since, Until: f.until,
		RequestID: id, Status: status, Qualifier: qualifier}
}
