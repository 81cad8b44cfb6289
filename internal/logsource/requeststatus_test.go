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
	env := startSim(t, nil, tencentsim.Function{Name: "APITest", RatePerSecond: 0.2, FailureRatio: 0.3})
	caller := env.caller(t, 5)
	src := NewGetFunctionLogs(caller, env.Location)
	// The reference: GetFunctionLogs itself.
	logs := getFunctionLogs{caller: caller, loc: env.Location}

	until := time.Now().Add(-time.Minute).Truncate(time.Second)
	since := until.Add(-time.Hour)
	target := translate.Target{FunctionName: "APITest", Namespace: "default"}
	truth := env.Executions("ap-guangzhou", "default", "APITest", since, until.Add(time.Second-1))
	var succeeded, failed string
	for _, e := range truth {
		if e.Log.RetCode == 0 && e.Log.InvokeFinished == 1 {
			succeeded = e.Log.RequestId
		} else {
			failed = e.Log.RequestId
		}
	}
	if succeeded == "" || failed == "" {
		t.Fatalf("the simulator made no success or no failure among %d executions", len(truth))
	}
	ctx := context.Background()
	query := func(id, status, qualifier string, offset int64) translate.Query {
		return translate.Query{Limit: 10, Offset: offset, Order: translate.OrderDesc, Since: since, Until: until,
			RequestID: id, Status: status, Qualifier: qualifier}
	}
	cases := []struct {
		name, id, status string
		offset           int64
	}{
		{"a success", succeeded, "", 0},
		{"a failure", failed, "", 0},
		{"a failure, failures only", failed, translate.StatusFailed, 0},
		{"a failure, successes only", failed, translate.StatusSuccess, 0},
		{"past the one match", succeeded, "", 1},
		{"unknown", "00000000-0000-0000-0000-000000000000", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := query(c.id, c.status, "", c.offset)
			logsBefore, statusBefore := caller.logs.Load(), caller.status.Load()
			got, err := src.Page(ctx, target, q)
			if err != nil {
				t.Fatal(err)
			}
			if n := caller.logs.Load() - logsBefore; n != 0 {
				t.Errorf("%d GetFunctionLogs calls, want 0", n)
			}
			if n := caller.status.Load() - statusBefore; n != 1 {
				t.Errorf("%d GetRequestStatus calls, want 1", n)
			}
			want, err := logs.Page(ctx, target, q)
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
				// What GetRequestStatus does not carry: the billed duration,
				// the log text, and a failure's own code (it says -1).
				g.BilledDurationMs, g.Log = w.BilledDurationMs, w.Log
				if !w.Success && g.RetCode == -1 {
					g.RetCode = w.RetCode
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("GetRequestStatus\n%+v\nGetFunctionLogs\n%+v", g, w)
				}
			}
		})
	}

	// A qualifier, which GetRequestStatus cannot filter on: GetFunctionLogs.
	before := caller.logs.Load()
	if _, err := src.Page(ctx, target, query(succeeded, "", "$LATEST", 0)); err != nil {
		t.Fatal(err)
	}
	if n := caller.logs.Load() - before; n != 1 {
		t.Errorf("with a qualifier: %d GetFunctionLogs calls, want 1", n)
	}
}
