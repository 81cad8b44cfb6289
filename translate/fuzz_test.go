package translate

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The fuzz targets cover every parser in this package. Seed corpora live in
// testdata/fuzz/<Target>/ and run as ordinary tests with go test.

func FuzzParseQuery(f *testing.F) {
	f.Add("")
	f.Add("limit=2&offset=40")
	f.Add("status=failed&order=asc&since=2024-01-15T00:00:00Z&until=2024-01-15T14:00:00%2B08:00")
	loc := shanghai(f)
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(values, testNow)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || verr.Param == "" || verr.Message == "" {
				t.Fatalf("%q: error %v is not a usable ValidationError", raw, err)
			}
			if f := BadRequest(verr); f.Status != http.StatusBadRequest {
				t.Fatalf("status %d", f.Status)
			}
			return
		}
		if q.Limit < 0 || q.Offset < 0 || q.Offset+q.Limit > MaxOffsetPlusLimit {
			t.Fatalf("%q: paging %d+%d escaped validation", raw, q.Offset, q.Limit)
		}
		if !q.Since.Before(q.Until) || q.Until.Sub(q.Since) > MaxWindow {
			t.Fatalf("%q: window %s..%s escaped validation", raw, q.Since, q.Until)
		}
		req := q.Upstream(Target{FunctionName: "f"}, loc)
		start, err1 := ParseUpstreamTime(req.StartTime, loc)
		end, err2 := ParseUpstreamTime(req.EndTime, loc)
		if err1 != nil || err2 != nil || end.Before(start) || end.Sub(start) > MaxWindow {
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
		e := NewExecution(l, loc)
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
		_ = ComputeStats(GetFunctionLogsResponse{TotalCount: 1, Data: []FunctionLog{l}}, GetFunctionLogsResponse{TotalCount: l.RetCode}, loc)
	})
}

func FuzzParseUpstreamTime(f *testing.F) {
	f.Add("2018-06-11 18:46:45")
	f.Add("2024-01-15 18:30:00.250")
	loc := shanghai(f)
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseUpstreamTime(s, loc)
		if err != nil {
			return
		}
		back, err := ParseUpstreamTime(tm.Format(UpstreamTimeLayout+".999999999"), loc)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q parsed to %s but does not round-trip (%v)", s, tm, err)
		}
	})
}

func FuzzValidateID(f *testing.F) {
	f.Add("proj_AsIu33tafZGe")
	f.Add("MVPQVsgjuHBlvWFB")
	f.Add("65a4f0c2e4b0a1b2c3d4e5f6")
	f.Fuzz(func(t *testing.T, id string) {
		if ValidateID("functionId", id) != nil {
			return
		}
		if len(id) == 0 || len(id) > MaxIDLength {
			t.Fatalf("accepted length %d", len(id))
		}
		if url.PathEscape(id) != id {
			t.Fatalf("accepted %q, which needs escaping in a path", id)
		}
	})
}

func FuzzClassifyUpstream(f *testing.F) {
	f.Add("AuthFailure.SignatureFailure", "The provided credentials could not be validated.", "e2571ff3-da04-4c53-8438-f58bf057ce4a")
	f.Add("InvalidParameterValue.Offset", "Offset is -1", "")
	f.Fuzz(func(t *testing.T, code, message, requestID string) {
		fl := ClassifyUpstream(code, message, requestID)
		switch fl.Status {
		case 400, 404, 429, 502, 503:
		default:
			t.Fatalf("%q mapped to %d", code, fl.Status)
		}
		if fl.Body.Success || fl.Body.Code == "" || fl.Body.Error == "" {
			t.Fatalf("envelope %+v", fl.Body)
		}
		if _, err := json.Marshal(fl.Body); err != nil {
			t.Fatal(err)
		}
	})
}
