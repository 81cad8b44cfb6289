package logsource

import (
	"context"
	"testing"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// The LogSource answers match the simulator's own ground truth.
func TestGetFunctionLogsSourceMatchesGroundTruth(t *testing.T) {
	inBubble(t, testGetFunctionLogsSourceMatchesGroundTruth)
}

func testGetFunctionLogsSourceMatchesGroundTruth(t *testing.T) {
	frozen := time.Now()
	env := startSim(t, func() time.Time { return frozen })
	src := NewGetFunctionLogs(env.caller(t, 5), env.Location)
	target := translate.Target{FunctionName: "APITest", Namespace: "default"}
	// Whole seconds: the upstream's format has no fractions.
	until := frozen.Truncate(time.Second)
	q := translate.Query{Limit: 5, Order: translate.OrderDesc, Since: until.Add(-6 * time.Hour), Until: until}

	page, err := src.Page(context.Background(), target, q)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := src.Stats(context.Background(), target, q)
	if err != nil {
		t.Fatal(err)
	}
	// EndTime has second precision and covers its whole second, so an
	// execution that started within the frozen clock's last fraction of a
	// second is in the upstream's answer: the truth must cover it too.
	truth := env.Executions("ap-guangzhou", "default", "APITest", q.Since, q.Until.Add(time.Second-time.Nanosecond))
	var ok int64
	for _, e := range truth {
		if e.Log.RetCode == 0 {
			ok++
		}
	}
	if page.Total != int64(len(truth)) || stats.TotalExecutions != int64(len(truth)) || stats.Successful != ok {
		t.Fatalf("page total %d, stats %+v; ground truth %d executions, %d successful", page.Total, stats, len(truth), ok)
	}
	if len(truth) < 5 || len(page.Executions) != 5 {
		t.Fatalf("want a full page of 5 from %d executions, got %d", len(truth), len(page.Executions))
	}
	if stats.LastRun == nil || page.Executions[0].ExecutedAt == nil || *stats.LastRun != *page.Executions[0].ExecutedAt {
		t.Errorf("lastRun %v should be the newest execution %v", stats.LastRun, page.Executions[0].ExecutedAt)
	}
}
