package scf

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// The fuzz targets cover this package's parsers and request builders. Seed
// corpora live in testdata/fuzz/<Target>/ and run as ordinary tests.

// FuzzLogsRequest: every query ParseQuery accepts becomes a window the
// upstream accepts.
func FuzzLogsRequest(f *testing.F) {
	f.Add("")
	f.Add("limit=2&offset=40")
	f.Add("status=failed&order=asc&since=2024-01-15T00:00:00Z&until=2024-01-15T14:00:00%2B08:00")
	f.Add("since=2000-01-01T00:00:00%2B08:00")
	loc := shanghai(f)
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := translate.ParseQuery(values, testNow)
		if err != nil {
			return
		}
		req := LogsRequest(q, translate.Target{FunctionName: "f"}, loc)
		start, err1 := ParseTime(req.StartTime, loc)
		end, err2 := ParseTime(req.EndTime, loc)
		if err1 != nil || err2 != nil || end.Before(start) || end.Sub(start) > translate.MaxWindow {
			t.Fatalf("%q: upstream window %q..%q is not one the upstream accepts", raw, req.StartTime, req.EndTime)
		}
		if _, err := json.Marshal(req); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzNewExecution(f *testing.F) {
	f.Add([]byte(`{"MemUsage":3174400,"RetCode":1,"RetMsg":"Success","Log":"","BillDuration":100,"InvokeFinished":1,"RequestId":"bc309eaa-6d64-11e8-a7fe-5254000b4175","StartTime":"2018-06-11 18:46:45","Duration":0.532,"FunctionName":"APITest","Level":"","Source":"","RetryNum":1}`))
	f.Add([]byte(`{"RetCode":0,"InvokeFinished":1,"RetMsg":"{\"processed\": 1}","StartTime":"2024-01-15 18:30:00","Duration":124.81}`))
	loc := shanghai(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var l FunctionLog
		if json.Unmarshal(body, &l) != nil {
			return
		}
		e := translate.NewExecution(Invocation(l, loc))
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("an upstream record made an unencodable execution: %v", err)
		}
		if e.Success != (l.RetCode == 0 && l.InvokeFinished == 1) {
			t.Fatalf("success %v for RetCode %d InvokeFinished %d", e.Success, l.RetCode, l.InvokeFinished)
		}
		if !e.Success && e.Error == "" {
			t.Fatalf("a failure without an error message: %s", out)
		}
		if e.ExecutionTime < 0 || e.MemoryUsageBytes < 0 || (e.BilledDurationMs == nil || *e.BilledDurationMs < 0) || e.RetryCount < 0 {
			t.Fatalf("negative quantity: %s", out)
		}
		if e.ExecutedAt != nil {
			if _, err := time.Parse(time.RFC3339, *e.ExecutedAt); err != nil {
				t.Fatalf("executedAt %q is not RFC 3339", *e.ExecutedAt)
			}
		}
		_ = stats(GetFunctionLogsResponse{TotalCount: 1, Data: []FunctionLog{l}}, GetFunctionLogsResponse{TotalCount: l.RetCode}, loc)
	})
}

func FuzzParseUpstreamTime(f *testing.F) {
	f.Add("2018-06-11 18:46:45")
	f.Add("2024-01-15 18:30:00.250")
	loc := shanghai(f)
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s, loc)
		if err != nil {
			return
		}
		back, err := ParseTime(tm.Format(TimeLayout+".999999999"), loc)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q parsed to %s but does not round-trip (%v)", s, tm, err)
		}
	})
}
