package translate

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

func TestParseQueryRejects(t *testing.T) {
	cases := []struct {
		query, param, message string
	}{
		{"limit=-1", "limit", "non-negative integer"},
		{"limit=abc", "limit", "non-negative integer"},
		{"limit=1.5", "limit", "non-negative integer"},
		{"limit=", "limit", "empty value"},
		{"limit=%2B5", "limit", "non-negative integer"},
		{"limit=10001", "limit", "at most 10000"},
		{"limit=99999999999999999999", "limit", "at most 10000"},
		{"offset=-3", "offset", "non-negative integer"},
		{"offset=0x10", "offset", "non-negative integer"},
		{"offset=9990&limit=11", "limit", "offset+limit is 10001"},
		{"limit=1&limit=2", "limit", "given 2 times"},
		{"status=ok", "status", `must be "success" or "failed"`},
		{"status=SUCCESS", "status", `must be "success" or "failed"`},
		{"order=up", "order", `must be "asc" or "desc"`},
		{"since=yesterday", "since", "RFC 3339"},
		{"until=2024-01-15", "until", "RFC 3339"},
		{"since=2024-01-15T10:00:00Z&until=2024-01-15T10:00:00Z", "since", "must be before until"},
		{"since=2024-01-15T11:00:00Z&until=2024-01-15T10:00:00Z", "since", "must be before until"},
		{"since=2024-01-13T10:00:00Z&until=2024-01-15T10:00:00Z", "since", "at most 24h0m0s"},
		{"since=2024-01-14T10:29:59Z", "since", "at most 24h0m0s"},
		{"requestId=a%20b", "requestId", "not allowed"},
		{"requestId=", "requestId", "1 to 128"},
		{"qualifier=" + strings.Repeat("x", 129), "qualifier", "1 to 128"},
		{"qualifier=v1%2Fx", "qualifier", "not allowed"},
		{"stats=no", "stats", `must be "true" or "false"`},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			v, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseQuery(v, testNow)
			verr, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			if verr.Param != c.param || !strings.Contains(verr.Message, c.message) {
				t.Errorf("got %q on %q, want %q on %q", verr.Message, verr.Param, c.message, c.param)
			}
			if f := BadRequest(verr); f.Status != http.StatusBadRequest || f.Body.Code != CodeInvalidParameter || !strings.Contains(f.Body.Error, c.param) {
				t.Errorf("failure %+v", f)
			}
		})
	}
}

func TestParseQueryAccepts(t *testing.T) {
	cases := []struct {
		query string
		want  Query
	}{
		{"", Query{Limit: 20, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"limit=0&offset=10000", Query{Limit: 0, Offset: 10000, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"limit=007", Query{Limit: 7, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"status=failed&order=asc&unknown=ignored", Query{Limit: 20, Status: "failed", Order: "asc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"stats=false", Query{Limit: 20, Order: "desc", SkipStats: true, Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"stats=true", Query{Limit: 20, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"since=2024-01-15T09:30:00Z", Query{Limit: 20, Order: "desc", Since: testNow.Add(-time.Hour), Until: testNow}},
		{"until=2024-01-15T09:30:00%2B01:00", Query{Limit: 20, Order: "desc", Since: testNow.Add(-26 * time.Hour), Until: testNow.Add(-2 * time.Hour)}},
		{"since=2024-01-14T10:30:00Z&until=2024-01-15T10:30:00Z", Query{Limit: 20, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"requestId=bc309eaa-6d64-11e8-a7fe-5254000b4175&qualifier=%24LATEST", Query{Limit: 20, Order: "desc", RequestID: "bc309eaa-6d64-11e8-a7fe-5254000b4175", Qualifier: "$LATEST", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			v, _ := url.ParseQuery(c.query)
			got, err := ParseQuery(v, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Since.Equal(c.want.Since) || !got.Until.Equal(c.want.Until) {
				t.Errorf("window %s..%s, want %s..%s", got.Since, got.Until, c.want.Since, c.want.Until)
			}
			got.Since, got.Until, c.want.Since, c.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestUpstreamTimeZone(t *testing.T) {
	q := Query{Limit: 1, Order: OrderDesc, Since: testNow.Add(-time.Hour), Until: testNow}
	for _, c := range []struct {
		loc        *time.Location
		start, end string
	}{
		{shanghai(t), "2024-01-15 17:30:00", "2024-01-15 18:30:00"},
		{time.UTC, "2024-01-15 09:30:00", "2024-01-15 10:30:00"},
	} {
		req := q.Upstream(Target{FunctionName: "f", Qualifier: "1"}, c.loc)
		if req.StartTime != c.start || req.EndTime != c.end || req.Qualifier != "1" {
			t.Errorf("%s: got %+v", c.loc, req)
		}
	}
	q.Qualifier = "2"
	if req := q.Upstream(Target{FunctionName: "f", Qualifier: "1"}, time.UTC); req.Qualifier != "2" {
		t.Errorf("the query's qualifier should override the configured one, got %q", req.Qualifier)
	}
}

func TestNewExecution(t *testing.T) {
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
			e := NewExecution(c.in, loc)
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

func TestComputeStats(t *testing.T) {
	loc := shanghai(t)
	logs := func(durations ...float64) []FunctionLog {
		out := make([]FunctionLog, len(durations))
		for i, d := range durations {
			out[i] = FunctionLog{Duration: d, StartTime: time.Date(2024, 1, 15, 18, 0, i, 0, loc).Format(UpstreamTimeLayout)}
		}
		return out
	}
	last := "2024-01-15T10:00:02.000Z"
	cases := []struct {
		name           string
		all, succeeded GetFunctionLogsResponse
		want           Stats
	}{
		{"empty window", GetFunctionLogsResponse{}, GetFunctionLogsResponse{}, Stats{}},
		{"95.24 percent", GetFunctionLogsResponse{TotalCount: 42, Data: logs(100, 150, 125)}, GetFunctionLogsResponse{TotalCount: 40},
			Stats{TotalExecutions: 42, Successful: 40, Failed: 2, SuccessRate: 95.24, AvgExecutionTime: 125, LastRun: &last}},
		{"rounds to two decimals", GetFunctionLogsResponse{TotalCount: 3, Data: logs(1, 2, 2)}, GetFunctionLogsResponse{TotalCount: 2},
			Stats{TotalExecutions: 3, Successful: 2, Failed: 1, SuccessRate: 66.67, AvgExecutionTime: 2, LastRun: &last}},
		{"inconsistent upstream totals are clamped", GetFunctionLogsResponse{TotalCount: 1, Data: logs(0, 0, 0)}, GetFunctionLogsResponse{TotalCount: 5},
			Stats{TotalExecutions: 1, Successful: 1, Failed: 0, SuccessRate: 100, AvgExecutionTime: 0, LastRun: &last}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ComputeStats(c.all, c.succeeded, loc)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(c.want)
			if string(gb) != string(wb) {
				t.Errorf("got  %s\nwant %s", gb, wb)
			}
		})
	}
}

// Every code of the seed's error table, RequestLimitExceeded and the
// AuthFailure family map to a deliberate status; none falls through to the
// catch-all, and AuthFailure never reaches the client as a 401.
func TestClassifyUpstream(t *testing.T) {
	cases := []struct {
		code   string
		status int
		mcode  string
	}{
		{"FailedOperation", 502, CodeUpstreamError},
		{"FailedOperation.AuthFailure", 502, CodeUpstreamAuth},
		{"FailedOperation.QueryError", 502, CodeUpstreamError},
		{"FailedOperation.TopicNotExist", 502, CodeUpstreamConfig},
		{"InternalError", 502, CodeUpstreamError},
		{"InternalError.ES", 502, CodeUpstreamError},
		{"InternalError.Exception", 502, CodeUpstreamError},
		{"InternalError.System", 502, CodeUpstreamError},
		{"InvalidParameter.Cls", 502, CodeUpstreamError},
		{"InvalidParameter.ParamError", 502, CodeUpstreamError},
		{"InvalidParameter.Payload", 502, CodeUpstreamError},
		{"InvalidParameter.RoleCheck", 502, CodeUpstreamConfig},
		{"InvalidParameterValue", 502, CodeUpstreamConfig}, // e.g. an unknown region
		{"InvalidParameterValue.DateTime", 400, CodeInvalidParameter},
		{"InvalidParameterValue.FunctionType", 502, CodeUpstreamError},
		{"InvalidParameterValue.ImageType", 502, CodeUpstreamError},
		{"InvalidParameterValue.Offset", 400, CodeInvalidParameter},
		{"InvalidParameterValue.Order", 400, CodeInvalidParameter},
		{"InvalidParameterValue.OrderBy", 502, CodeUpstreamError},
		{"InvalidParameterValue.RetCode", 400, CodeInvalidParameter},
		{"InvalidParameterValue.StartTimeOrEndTime", 400, CodeInvalidParameter},
		{"LimitExceeded.Offset", 400, CodeInvalidParameter},
		{"ResourceNotFound.Function", 404, CodeFunctionNotFound},
		{"ResourceNotFound.FunctionName", 404, CodeFunctionNotFound},
		{"ResourceNotFound.RoleCheck", 502, CodeUpstreamConfig},
		{"UnauthorizedOperation.CAM", 502, CodeUpstreamPermission},
		{"UnsupportedOperation.NotSupportRegion", 502, CodeUpstreamConfig},
		{"RequestLimitExceeded", 429, CodeRateLimited},
		{"RequestLimitExceeded.UinLimitExceeded", 429, CodeRateLimited},
		{"AuthFailure.SignatureFailure", 502, CodeUpstreamAuth},
		{"AuthFailure.SecretIdNotFound", 502, CodeUpstreamAuth},
		{"AuthFailure.SignatureExpire", 502, CodeUpstreamAuth},
		{"AuthFailure.TokenFailure", 502, CodeUpstreamAuth},
		{"AuthFailure.InvalidAuthorization", 502, CodeUpstreamAuth},
		{"AuthFailure.UnauthorizedOperation", 502, CodeUpstreamAuth},
		{"ResourceUnavailable", 503, CodeUpstreamDown},
		{"InvalidAction", 502, CodeUpstreamError},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			f := ClassifyUpstream(c.code, "Offset is -1", "req-1")
			if f.Status != c.status || f.Body.Code != c.mcode {
				t.Errorf("got %d %s, want %d %s", f.Status, f.Body.Code, c.status, c.mcode)
			}
			if f.Body.Success || f.Body.UpstreamCode != c.code || f.Body.RequestID != "req-1" || !strings.Contains(f.Body.Error, c.code) {
				t.Errorf("envelope %+v", f.Body)
			}
			if c.code != "InvalidAction" && strings.Contains(f.Body.Error, "does not expect") {
				t.Errorf("%s fell through to the catch-all", c.code)
			}
			if strings.HasPrefix(c.code, "AuthFailure") && strings.Contains(f.Body.Error, "Offset is -1") {
				t.Errorf("upstream auth messages are not for clients: %q", f.Body.Error)
			}
		})
	}
}

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"proj_AsIu33tafZGe", "MVPQVsgjuHBlvWFB", "65a4f0c2e4b0a1b2c3d4e5f6", "a", strings.Repeat("z", 64)} {
		if err := ValidateID("projectId", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("z", 65), "a b", "../etc", "proj.1", "ü", "a%2F"} {
		if err := ValidateID("projectId", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
