package scf

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mudscf/mudscf/translate"
)

func TestUpstreamTimeZone(t *testing.T) {
	q := translate.Query{Limit: 1, Order: translate.OrderDesc, Since: testNow.Add(-time.Hour), Until: testNow}
	for _, c := range []struct {
		loc        *time.Location
		start, end string
	}{
		{shanghai(t), "2024-01-15 17:30:00", "2024-01-15 18:30:00"},
		{time.UTC, "2024-01-15 09:30:00", "2024-01-15 10:30:00"},
	} {
		req := LogsRequest(q, translate.Target{FunctionName: "f", Qualifier: "1"}, c.loc)
		if req.StartTime != c.start || req.EndTime != c.end || req.Qualifier != "1" {
			t.Errorf("%s: got %+v", c.loc, req)
		}
	}
	q.Qualifier = "2"
	if req := LogsRequest(q, translate.Target{FunctionName: "f", Qualifier: "1"}, time.UTC); req.Qualifier != "2" {
		t.Errorf("the query's qualifier should override the configured one, got %q", req.Qualifier)
	}
}

func TestInvocation(t *testing.T) {
	loc := shanghai(t)
	cases := []struct {
		name string
		in   FunctionLog
		want string // the execution's JSON, without the extras
	}{
		{"json result", FunctionLog{StartTime: "2024-01-15 18:30:00", RetCode: 0, InvokeFinished: 1, Duration: 124.5, RetMsg: `{"a":[1,2]}`},
			`{"executedAt":"2024-01-15T10:30:00.000Z","executionTime":125,"success":true,"result":{"a":[1,2]}}`},
		{"string result", FunctionLog{StartTime: "2024-01-15 18:30:00.25", RetCode: 0, InvokeFinished: 1, Duration: 3, RetMsg: "done"},
			`{"executedAt":"2024-01-15T10:30:00.250Z","executionTime":3,"success":true,"result":"done"}`},
		{"empty result", FunctionLog{StartTime: "2024-01-15 18:30:00", InvokeFinished: 1},
			`{"executedAt":"2024-01-15T10:30:00.000Z","executionTime":0,"success":true}`},
		{"not finished is a failure", FunctionLog{StartTime: "2024-01-15 18:30:00", RetCode: 0, InvokeFinished: 0},
			`{"executedAt":"2024-01-15T10:30:00.000Z","executionTime":0,"success":false,"error":"invocation did not finish"}`},
		{"failure keeps RetMsg", FunctionLog{StartTime: "2024-01-15 18:30:00", RetCode: 433, InvokeFinished: 1, Duration: 3000, RetMsg: "Invoking task timed out after 3 seconds"},
			`{"executedAt":"2024-01-15T10:30:00.000Z","executionTime":3000,"success":false,"error":"Invoking task timed out after 3 seconds"}`},
		{"failure without RetMsg", FunctionLog{StartTime: "2024-01-15 18:30:00", RetCode: 1, InvokeFinished: 1, RetMsg: "  "},
			`{"executedAt":"2024-01-15T10:30:00.000Z","executionTime":0,"success":false,"error":"function failed with return code 1"}`},
		{"bad start time keeps the record", FunctionLog{StartTime: "yesterday", RetCode: 0, InvokeFinished: 1, Duration: -5, RetMsg: "1"},
			`{"executedAt":null,"executionTime":0,"success":true,"result":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := translate.NewExecution(Invocation(c.in, loc))
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			for _, extra := range []string{"retCode", "memoryUsageBytes", "billedDurationMs", "retryCount"} {
				delete(m, extra)
			}
			var want map[string]any
			_ = json.Unmarshal([]byte(c.want), &want)
			gb, _ := json.Marshal(m)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Errorf("got  %s\nwant %s", gb, wb)
			}
		})
	}
}

func TestStats(t *testing.T) {
	loc := shanghai(t)
	logs := func(durations ...float64) []FunctionLog {
		out := make([]FunctionLog, len(durations))
		for i, d := range durations {
			out[i] = FunctionLog{Duration: d, StartTime: time.Date(2024, 1, 15, 18, 0, i, 0, loc).Format(TimeLayout)}
		}
		return out
	}
	last := "2024-01-15T10:00:02.000Z"
	cases := []struct {
		name           string
		all, succeeded GetFunctionLogsResponse
		want           translate.Stats
	}{
		{"empty window", GetFunctionLogsResponse{}, GetFunctionLogsResponse{}, translate.Stats{}},
		{"95.24 percent", GetFunctionLogsResponse{TotalCount: 42, Data: logs(100, 150, 125)}, GetFunctionLogsResponse{TotalCount: 40},
			translate.Stats{TotalExecutions: 42, Successful: 40, Failed: 2, SuccessRate: 95.24, AvgExecutionTime: 125, LastRun: &last}},
		{"rounds to two decimals", GetFunctionLogsResponse{TotalCount: 3, Data: logs(1, 2, 2)}, GetFunctionLogsResponse{TotalCount: 2},
			translate.Stats{TotalExecutions: 3, Successful: 2, Failed: 1, SuccessRate: 66.67, AvgExecutionTime: 2, LastRun: &last}},
		{"inconsistent upstream totals are clamped", GetFunctionLogsResponse{TotalCount: 1, Data: logs(0, 0, 0)}, GetFunctionLogsResponse{TotalCount: 5},
			translate.Stats{TotalExecutions: 1, Successful: 1, Failed: 0, SuccessRate: 100, AvgExecutionTime: 0, LastRun: &last}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := stats(c.all, c.succeeded, loc)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(c.want)
			if string(gb) != string(wb) {
				t.Errorf("got  %s\nwant %s", gb, wb)
			}
		})
	}
}
