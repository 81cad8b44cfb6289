package tencentsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// callAction sends a signed call of any action and decodes its answer
// into out (when it is not an error).
func callAction(t *testing.T, s *Simulator, clock *fakeClock, method, action, bodyOrQuery string, out any) *tcapi.APIError {
	t.Helper()
	r := apiRequest(t, clock, method, bodyOrQuery, reqOpts{headers: map[string]string{"X-TC-Action": action}})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var env struct {
		Response json.RawMessage
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || w.Code != http.StatusOK {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	var e struct {
		Error     *tcapi.APIError
		RequestId string
	}
	if err := json.Unmarshal(env.Response, &e); err != nil || e.RequestId == "" {
		t.Fatalf("envelope %s: %v", env.Response, err)
	}
	if e.Error == nil && out != nil {
		dec := json.NewDecoder(bytes.NewReader(env.Response))
		dec.DisallowUnknownFields()
		if err := dec.Decode(out); err != nil {
			t.Fatalf("decode %s: %v", env.Response, err)
		}
	}
	return e.Error
}

// wantCode checks a call's error against code ("" for success) and
// reports whether there is a successful answer left to check.
func wantCode(t *testing.T, e *tcapi.APIError, code string) bool {
	t.Helper()
	switch {
	case code == "" && e != nil:
		t.Fatalf("unexpected error %+v", e)
	case code != "" && (e == nil || e.Code != code):
		t.Fatalf("got %+v, want %s", e, code)
	}
	return code == ""
}

func TestGetFunction(t *testing.T) {
	s, clock := newSim(t, func(c *Config) {
		c.Functions = append(c.Functions, Function{Name: "configured", ClsTopicID: "topic-1", ClsLogsetID: "logset-1",
			Runtime: "Nodejs16.13", Description: "a configured function", TimeoutMs: 2500})
	})
	tests := []struct {
		name, method, params string
		want                 scf.FunctionDetail
		code                 string
	}{
		{name: "defaults derived", method: "POST", params: `{"FunctionName":"orders-webhook"}`, want: scf.FunctionDetail{
			FunctionName: "orders-webhook", Namespace: "default", MemorySize: 256, Timeout: 10, Runtime: "Python3.6",
			ClsTopicId:  DefaultClsTopicID("ap-guangzhou", "default", "orders-webhook"),
			ClsLogsetId: DefaultClsLogsetID("ap-guangzhou"), Qualifier: "$LATEST", FunctionVersion: "$LATEST"}},
		{name: "configured, GET", method: "GET", params: "FunctionName=configured&Qualifier=%24LATEST", want: scf.FunctionDetail{
			FunctionName: "configured", Namespace: "default", MemorySize: 128, Timeout: 3, Runtime: "Nodejs16.13",
			Description: "a configured function", ClsTopicId: "topic-1", ClsLogsetId: "logset-1",
			Qualifier: "$LATEST", FunctionVersion: "$LATEST"}},
		{name: "a published version", method: "POST", params: `{"FunctionName":"orders-webhook","Qualifier":"2"}`, want: scf.FunctionDetail{
			FunctionName: "orders-webhook", Namespace: "default", MemorySize: 256, Timeout: 10, Runtime: "Python3.6",
			ClsTopicId:  DefaultClsTopicID("ap-guangzhou", "default", "orders-webhook"),
			ClsLogsetId: DefaultClsLogsetID("ap-guangzhou"), Qualifier: "2", FunctionVersion: "2"}},
		{name: "unknown function", method: "POST", params: `{"FunctionName":"nope"}`, code: "ResourceNotFound.Function"},
		{name: "unknown namespace", method: "POST", params: `{"FunctionName":"APITest","Namespace":"nope"}`, code: "ResourceNotFound.Function"},
		{name: "unknown version", method: "POST", params: `{"FunctionName":"APITest","Qualifier":"7"}`, code: "ResourceNotFound.Version"},
		{name: "no name", method: "POST", params: `{}`, code: "MissingParameter"},
		{name: "unknown parameter", method: "POST", params: `{"FunctionName":"APITest","Limit":1}`, code: "UnknownParameter"},
		{name: "unknown parameter GET", method: "GET", params: "FunctionName=APITest&Nope=1", code: "UnknownParameter"},
		{name: "name not a string", method: "POST", params: `{"FunctionName":1}`, code: "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got scf.FunctionDetail
			e := callAction(t, s, clock, tc.method, scf.ActionGetFunction, tc.params, &got)
			if !wantCode(t, e, tc.code) {
				return
			}
			if got.FunctionName != tc.want.FunctionName || got.Namespace != tc.want.Namespace ||
				got.MemorySize != tc.want.MemorySize || got.Timeout != tc.want.Timeout || got.Runtime != tc.want.Runtime ||
				got.Description != tc.want.Description || got.ClsTopicId != tc.want.ClsTopicId ||
				got.ClsLogsetId != tc.want.ClsLogsetId || got.Qualifier != tc.want.Qualifier ||
				got.FunctionVersion != tc.want.FunctionVersion || got.Status != "Active" ||
				!strings.HasPrefix(got.FunctionId, "lam-") || got.AddTime > got.ModTime {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestListFunctions(t *testing.T) {
	s, clock := newSim(t, func(c *Config) {
		c.Functions = append(c.Functions, Function{Name: "other-ns", Namespace: "team"},
			Function{Name: "shanghai", Region: "ap-shanghai"})
	})
	list := func(t *testing.T, method, params string) (scf.ListFunctionsResponse, *tcapi.APIError) {
		var got scf.ListFunctionsResponse
		e := callAction(t, s, clock, method, scf.ActionListFunctions, params, &got)
		return got, e
	}
	names := func(r scf.ListFunctionsResponse) []string {
		var n []string
		for _, f := range r.Functions {
			n = append(n, f.FunctionName)
		}
		return n
	}
	all := []string{"APITest", "nightly-report", "orders-webhook", "thumbnail-worker"}
	tests := []struct {
		name, method, params string
		want                 []string
		total                int64
		code                 string
	}{
		{name: "by name", method: "POST", params: `{"Orderby":"FunctionName","Order":"ASC"}`, want: all, total: 4},
		{name: "by name desc, GET", method: "GET", params: "Orderby=FunctionName&Order=DESC", want: []string{"thumbnail-worker", "orders-webhook", "nightly-report", "APITest"}, total: 4},
		{name: "page", method: "POST", params: `{"Orderby":"FunctionName","Order":"ASC","Offset":1,"Limit":2}`, want: all[1:3], total: 4},
		{name: "past the end", method: "POST", params: `{"Offset":9}`, want: nil, total: 4},
		{name: "search key", method: "POST", params: `{"SearchKey":"ORDER"}`, want: []string{"orders-webhook"}, total: 1},
		{name: "namespace", method: "GET", params: "Namespace=team", want: []string{"other-ns"}, total: 1},
		// SCF's default delivery: one topic holds the region's functions.
		{name: "filter by topic", method: "POST", params: `{"Filters":[{"Name":"ClsTopicId","Values":["` +
			DefaultClsTopicID("ap-guangzhou", "default", "APITest") + `"]}],"Orderby":"FunctionName","Order":"ASC"}`, want: all, total: 4},
		{name: "filter flattened", method: "GET", params: "Filters.0.Name=Runtime&Filters.0.Values.0=Go1&Filters.0.Values.1=Python3.6&Orderby=FunctionName&Order=ASC", want: all, total: 4},
		{name: "tag filter matches nothing", method: "POST", params: `{"Filters":[{"Name":"tag-team","Values":["a"]}]}`, want: nil, total: 0},
		{name: "unknown namespace", method: "POST", params: `{"Namespace":"nope"}`, code: "ResourceNotFound.Namespace"},
		{name: "bad order", method: "POST", params: `{"Order":"up"}`, code: "InvalidParameterValue"},
		{name: "bad orderby", method: "POST", params: `{"Orderby":"Size"}`, code: "InvalidParameterValue"},
		{name: "negative limit", method: "POST", params: `{"Limit":-1}`, code: "InvalidParameterValue"},
		{name: "unknown filter", method: "POST", params: `{"Filters":[{"Name":"Color","Values":["red"]}]}`, code: "InvalidParameterValue"},
		{name: "two topics", method: "POST", params: `{"Filters":[{"Name":"ClsTopicId","Values":["a","b"]}]}`, code: "InvalidParameterValue"},
		{name: "unknown parameter", method: "POST", params: `{"FunctionName":"x"}`, code: "UnknownParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, e := list(t, tc.method, tc.params)
			if !wantCode(t, e, tc.code) {
				return
			}
			if tc.want != nil && !slices.Equal(names(got), tc.want) || tc.want == nil && len(got.Functions) != 0 ||
				got.TotalCount != tc.total {
				t.Fatalf("got %v (total %d), want %v (total %d)", names(got), got.TotalCount, tc.want, tc.total)
			}
		})
	}
	// The default order (newest AddTime first) pages through every
	// function exactly once.
	var paged []string
	for off := 0; off < 4; off += 3 {
		got, e := list(t, "POST", `{"Limit":3,"Offset":`+itoa(int64(off))+`}`)
		if e != nil {
			t.Fatal(e)
		}
		for i, f := range got.Functions {
			if i > 0 && f.AddTime > got.Functions[i-1].AddTime {
				t.Fatalf("not newest first: %v", got.Functions)
			}
		}
		paged = append(paged, names(got)...)
	}
	slices.Sort(paged)
	if !slices.Equal(paged, all) {
		t.Fatalf("paged %v", paged)
	}
}

func TestGetRequestStatus(t *testing.T) {
	s, clock := newSim(t, noRateLimit)
	now := clock.Now()
	truth := s.Executions("ap-guangzhou", "default", "thumbnail-worker", now.Add(-14*time.Minute), now)
	var ok, failed *Execution
	for i := range truth {
		if truth[i].Log.RetCode == 0 && ok == nil {
			ok = &truth[i]
		}
		if truth[i].Log.RetCode != 0 && failed == nil {
			failed = &truth[i]
		}
	}
	if ok == nil || failed == nil {
		t.Fatal("no success and failure in the last 14 minutes")
	}
	old := s.Executions("ap-guangzhou", "default", "thumbnail-worker", now.Add(-time.Hour), now.Add(-50*time.Minute))[0]
	lookup := func(id string, extra string) string {
		return `{"FunctionName":"thumbnail-worker","FunctionRequestId":"` + id + `"` + extra + `}`
	}
	tests := []struct {
		name, method, params string
		want                 *Execution
		code                 string
	}{
		{name: "success", method: "POST", params: lookup(ok.Log.RequestId, ""), want: ok},
		{name: "failure", method: "POST", params: lookup(failed.Log.RequestId, ""), want: failed},
		{name: "upper-case id, GET", method: "GET", params: "FunctionName=thumbnail-worker&FunctionRequestId=" + strings.ToUpper(ok.Log.RequestId), want: ok},
		{name: "older than the default 15 minutes", method: "POST", params: lookup(old.Log.RequestId, "")},
		{name: "in an explicit window", method: "POST", params: lookup(old.Log.RequestId, `,"StartTime":"`+
			old.Start.Add(-time.Minute).Format(scf.TimeLayout)+`","EndTime":"`+
			old.Start.Add(time.Minute).Format(scf.TimeLayout)+`"`), want: &old},
		{name: "another function's id", method: "POST", params: `{"FunctionName":"APITest","FunctionRequestId":"` + ok.Log.RequestId + `"}`},
		{name: "not an id", method: "POST", params: lookup("nope", "")},
		{name: "start without end", method: "POST", params: lookup(ok.Log.RequestId, `,"StartTime":"2024-01-01 00:00:00"`), code: "InvalidParameterValue.StartTimeOrEndTime"},
		{name: "bad time", method: "POST", params: lookup(ok.Log.RequestId, `,"StartTime":"yesterday","EndTime":"today"`), code: "InvalidParameterValue.DateTime"},
		{name: "no id", method: "POST", params: `{"FunctionName":"APITest"}`, code: "MissingParameter"},
		{name: "unknown function", method: "POST", params: `{"FunctionName":"nope","FunctionRequestId":"x"}`, code: "ResourceNotFound.Function"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got scf.GetRequestStatusResponse
			e := callAction(t, s, clock, tc.method, scf.ActionGetRequestStatus, tc.params, &got)
			if !wantCode(t, e, tc.code) {
				return
			}
			if tc.want == nil {
				if got.TotalCount != 0 || len(got.Data) != 0 {
					t.Fatalf("found %+v", got)
				}
				return
			}
			l := tc.want.Log
			if got.TotalCount != 1 || len(got.Data) != 1 {
				t.Fatalf("got %+v", got)
			}
			d := got.Data[0]
			retCode := int64(0) // success; any failure is -1
			if l.RetCode != 0 {
				retCode = -1
			}
			if d.RequestId != l.RequestId || d.FunctionName != l.FunctionName || d.StartTime != l.StartTime ||
				d.RetMsg != l.RetMsg || d.RetCode != retCode || d.Duration != l.Duration ||
				d.RetryNum != l.RetryNum || d.MemUsage != float64(l.MemUsage)/(1<<20) {
				t.Fatalf("got %+v, truth %+v", d, l)
			}
		})
	}
	// An execution that has started but not finished is running (1): the
	// newest one, halfway through.
	running := truth[len(truth)-1]
	clock.Set(running.Start.Add(time.Duration(running.Log.Duration * float64(time.Millisecond) / 2)))
	var got scf.GetRequestStatusResponse
	if e := callAction(t, s, clock, "POST", scf.ActionGetRequestStatus, lookup(running.Log.RequestId, ""), &got); e != nil ||
		len(got.Data) != 1 || got.Data[0].RetCode != 1 || got.Data[0].Duration != 0 {
		t.Fatalf("running: %+v %+v", e, got)
	}
}

// Each action has Tencent's documented limit, its own window and its own
// ground truth.
func TestActionRateLimits(t *testing.T) {
	for _, tc := range []struct {
		action, params string
		limit          int
	}{
		{scf.ActionGetRequestStatus, `{"FunctionName":"APITest","FunctionRequestId":"x"}`, 20},
		{scf.ActionGetFunction, `{"FunctionName":"APITest"}`, 100},
		{scf.ActionListFunctions, `{}`, 100},
		{scf.ActionGetFunctionLogs, `{"Limit":1}`, 5},
	} {
		t.Run(tc.action, func(t *testing.T) {
			s, clock := newSim(t, nil) // the clock stands still: one instant
			for i := range tc.limit {
				if e := callAction(t, s, clock, "POST", tc.action, tc.params, nil); e != nil {
					t.Fatalf("call %d: %v", i, e)
				}
			}
			if e := callAction(t, s, clock, "POST", tc.action, tc.params, nil); e == nil || e.Code != "RequestLimitExceeded" {
				t.Fatalf("call %d: %v", tc.limit, e)
			}
			// Another action's budget is untouched.
			other := scf.ActionGetFunction
			if tc.action == other {
				other = scf.ActionGetFunctionLogs
			}
			if e := callAction(t, s, clock, "POST", other, `{"FunctionName":"APITest"}`, nil); e != nil && e.Code == "RequestLimitExceeded" {
				t.Fatalf("%s limited by %s", other, tc.action)
			}
			tr := s.Truth().APIs[tc.action]
			if tr.Limit != tc.limit || tr.MaxCallsInAnySlidingSecond[defaultSecretID] != tc.limit ||
				tr.TotalAccepted[defaultSecretID] != int64(tc.limit) || tr.TotalRejected[defaultSecretID] != 1 {
				t.Fatalf("truth %+v", tr)
			}
		})
	}
}
