package tencentsim

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/cls"
	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

// nodeSDKDir holds the Node.js harness; its packages are pinned in
// package-lock.json and installed by `npm ci --prefix` on it (.ci/run
// does).
const nodeSDKDir = "testdata/nodesdk"

// needNodeSDK returns node's path once the harness's packages are
// installed; otherwise it skips locally and fails under CI=true.
func needNodeSDK(t *testing.T) string {
	t.Helper()
	node := needTool(t, "node", "runs Tencent's official Node.js SDK")
	if _, err := os.Stat(filepath.Join(nodeSDKDir, "node_modules", "tencentcloud-sdk-nodejs", "package.json")); err != nil {
		msg := "the Node.js SDK is not installed: run npm ci --prefix internal/tencentsim/testdata/nodesdk"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}

// strictly decodes raw into v, refusing fields v lacks.
func strictly(t *testing.T, what string, raw json.RawMessage, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v in %s", what, err, raw)
	}
}

// The official Node.js SDK (tencentcloud-sdk-nodejs, pinned) calls every
// SCF action the simulator serves, by POST and GET with TC3 and by GET
// with HmacSHA256, and gets the ground truth back; a wrong key fails and
// zh-CN gets Chinese. The SDK signs the host without the port and sends
// the port in Host, which the simulator failed before accepting both.
func TestNodeSDK(t *testing.T) {
	node := needNodeSDK(t)
	s, _ := newSim(t, noRateLimit)
	now := s.now()
	recent := s.Executions("ap-guangzhou", "default", "thumbnail-worker", now.Add(-10*time.Minute), now)
	if len(recent) == 0 {
		t.Fatal("no recent execution")
	}
	target := recent[len(recent)-1]
	out := sdkHarness(t, s, nodeSDKDir, node, "harness.js", "scf", "thumbnail-worker", target.Log.RequestId)

	var got struct {
		SCF map[string]json.RawMessage `json:"scf"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	var wantLogs []scf.FunctionLog
	for _, e := range s.Executions("ap-guangzhou", "default", "thumbnail-worker", now.Add(-24*time.Hour), now) {
		if e.Log.RetCode != 0 && len(wantLogs) < 3 {
			wantLogs = append(wantLogs, e.Log)
		}
	}
	f := s.fns[0]
	for _, m := range s.fns {
		if m.Name == "thumbnail-worker" {
			f = m
		}
	}
	// GetRequestStatus reports a finished execution's record, RetCode
	// 0 for success and -1 for any failure, MemUsage in MB.
	l := target.Log
	wantStatus := scf.RequestStatus{FunctionName: l.FunctionName, RetMsg: l.RetMsg, RequestId: l.RequestId,
		StartTime: l.StartTime, Duration: l.Duration, MemUsage: float64(l.MemUsage) / (1 << 20), RetryNum: l.RetryNum}
	if l.RetCode != 0 {
		wantStatus.RetCode = -1
	}

	for _, style := range []string{"POST", "GET", "HmacSHA256"} {
		var answers map[string]json.RawMessage
		strictly(t, style, got.SCF[style], &answers)

		var logs scf.GetFunctionLogsResponse
		strictly(t, style+" GetFunctionLogs", answers[scf.ActionGetFunctionLogs], &logs)
		if len(logs.Data) != len(wantLogs) {
			t.Fatalf("%s GetFunctionLogs: %d rows, want %d", style, len(logs.Data), len(wantLogs))
		}
		for i := range wantLogs {
			if logs.Data[i] != wantLogs[i] {
				t.Errorf("%s GetFunctionLogs row %d:\n got %+v\nwant %+v", style, i, logs.Data[i], wantLogs[i])
			}
		}

		var d scf.FunctionDetail
		strictly(t, style+" GetFunction", answers[scf.ActionGetFunction], &d)
		if d.FunctionName != "thumbnail-worker" || d.MemorySize != 512 || d.Timeout != 15 ||
			d.ClsTopicId != f.ClsTopicID || d.ClsLogsetId != f.ClsLogsetID || d.RequestId == "" {
			t.Errorf("%s GetFunction: %+v", style, d)
		}

		var l scf.ListFunctionsResponse
		strictly(t, style+" ListFunctions", answers[scf.ActionListFunctions], &l)
		if l.TotalCount != 1 || len(l.Functions) != 1 || l.Functions[0].FunctionName != "thumbnail-worker" {
			t.Errorf("%s ListFunctions: %+v", style, l)
		}

		var st scf.GetRequestStatusResponse
		strictly(t, style+" GetRequestStatus", answers[scf.ActionGetRequestStatus], &st)
		// GetRequestStatus postdates the Go SDK v1.0.162, whose models
		// check the other actions' spelling: these are the Node.js SDK's
		// model names (scf_models.d.ts: GetRequestStatusResponse,
		// RequestStatus), exactly.
		var keys struct {
			Data []map[string]any
		}
		var top map[string]any
		if json.Unmarshal(answers[scf.ActionGetRequestStatus], &top) != nil ||
			json.Unmarshal(answers[scf.ActionGetRequestStatus], &keys) != nil || len(keys.Data) != 1 {
			t.Fatalf("%s GetRequestStatus: %s", style, answers[scf.ActionGetRequestStatus])
		}
		if got := slices.Sorted(maps.Keys(top)); !slices.Equal(got, []string{"Data", "RequestId", "TotalCount"}) {
			t.Errorf("%s GetRequestStatus keys %v", style, got)
		}
		if got := slices.Sorted(maps.Keys(keys.Data[0])); !slices.Equal(got, []string{"Duration", "FunctionName",
			"MemUsage", "RequestId", "RetCode", "RetMsg", "RetryNum", "StartTime"}) {
			t.Errorf("%s RequestStatus keys %v", style, got)
		}
		if st.TotalCount != 1 || len(st.Data) != 1 || st.Data[0] != wantStatus {
			t.Errorf("%s GetRequestStatus: %+v, want %+v", style, st, wantStatus)
		}
	}

	var wrongKey, chinese struct{ Code, Message string }
	strictly(t, "wrongKey", got.SCF["wrongKey"], &wrongKey)
	strictly(t, "chinese", got.SCF["chinese"], &chinese)
	if wrongKey.Code != "AuthFailure.SignatureFailure" {
		t.Errorf("a wrong key gave %+v", wrongKey)
	}
	if chinese.Code != "ResourceNotFound.Function" || !strings.Contains(chinese.Message, "函数不存在") {
		t.Errorf("zh-CN gave %+v", chinese)
	}
	tr := s.Truth()
	for _, a := range []string{scf.ActionGetFunctionLogs, scf.ActionGetFunction, scf.ActionListFunctions, scf.ActionGetRequestStatus} {
		want := int64(3)
		if a == scf.ActionGetFunction {
			want = 4 // and the zh-CN call for a missing function
		}
		if n := tr.APIs[a].TotalAccepted[defaultSecretID]; n != want {
			t.Errorf("ground truth: %d %s calls accepted, want %d", n, a, want)
		}
	}
	if n := tr.TotalAuthFailures[defaultSecretID]; n != 1 {
		t.Errorf("ground truth: %d auth failures, want 1", n)
	}
}

// The official Node.js SDK's CLS client reads one function's SCF logs the
// way a user would (testdata/nodesdk/cls.js): the topic from GetFunction's
// ClsTopicId, a raw CQL page newest first, the next page by Context, SQL
// stats in both formats, a plain SELECT paged by OFFSET S LIMIT N, a
// multi-topic search, DescribeIndex, and the error codes of a CQL syntax
// error, LIMIT s, n and a wrong key. Every answer is checked by the
// harness against the SDK's own models (cls_models.d.ts, models.js),
// strictly, and against the same executions GetFunctionLogs serves.
func TestNodeSDKCLS(t *testing.T) {
	node := needNodeSDK(t)
	s, _ := newSim(t, noRateLimit)
	const fn, limit = "thumbnail-worker", 5
	to := s.now().Truncate(time.Minute).Add(-5 * time.Minute)
	from := to.Add(-10 * time.Minute)
	out := sdkHarness(t, s, nodeSDKDir, node, "harness.js", "cls", fn,
		strconv.FormatInt(from.UnixMilli(), 10), strconv.FormatInt(to.UnixMilli(), 10), strconv.Itoa(limit))

	// The executions that started in [from, to), newest first.
	truth := s.Executions("ap-guangzhou", "default", fn, from, to.Add(-time.Nanosecond))
	slices.Reverse(truth)
	if len(truth) < 2*limit+1 {
		t.Fatalf("only %d executions in the window", len(truth))
	}
	var wantOK, wantLast int64
	for _, e := range truth {
		if e.Log.RetCode == 0 {
			wantOK++
		}
		wantLast = max(wantLast, e.Start.UnixMilli())
	}
	if wantOK == int64(len(truth)) {
		t.Fatal("no failed execution in the window: the success count proves nothing")
	}
	ids := func(es []Execution) []string {
		var r []string
		for _, e := range es {
			r = append(r, e.Log.RequestId)
		}
		return r
	}

	type page struct {
		Answer     json.RawMessage
		RequestIds []string
	}
	var got struct {
		CLS struct {
			TopicId       string
			First, Second page
			Stats         struct {
				Answer json.RawMessage
				Row    map[string]any
			}
			OldStats struct{ Answer json.RawMessage }
			Rows     struct {
				Answer json.RawMessage
				Rows   []struct{ SCF_RequestId string }
			}
			Multi                             page
			Index                             cls.DescribeIndexResponse
			Violations                        map[string][]string
			SelfCheck                         []string
			SyntaxError, LimitComma, WrongKey struct{ Code, Message string }
		} `json:"cls"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	c := got.CLS
	if want := DefaultClsTopicID("ap-guangzhou", "default", fn); c.TopicId != want {
		t.Errorf("topic %q, want %q", c.TopicId, want)
	}

	// Strict decoding against the SDK's models: nothing to report, and
	// the checker does report a wrong answer.
	for _, name := range []string{"first", "second", "stats", "oldStats", "rows", "multi", "index"} {
		v, ok := c.Violations[name]
		if !ok {
			t.Errorf("%s was not checked against the SDK's models", name)
		}
		for _, msg := range v {
			t.Errorf("the SDK's models: %s", msg)
		}
	}
	for _, want := range []string{"selfCheck.Bogus: not in", "selfCheck.ListOver:", "selfCheck.Context: null",
		"selfCheck.Results[0].Time:", "selfCheck.Rule.KeyValue.CaseSensitive: required"} {
		if !slices.ContainsFunc(c.SelfCheck, func(m string) bool { return strings.HasPrefix(m, want) }) {
			t.Errorf("the model checker missed %q: %v", want, c.SelfCheck)
		}
	}

	for i, p := range []page{c.First, c.Second} {
		var typed cls.SearchLogResponse
		strictly(t, "page", p.Answer, &typed)
		want := ids(truth[i*limit : (i+1)*limit])
		if !slices.Equal(p.RequestIds, want) {
			t.Errorf("page %d request IDs\n got %v\nwant %v", i+1, p.RequestIds, want)
		}
		if typed.ListOver || typed.Context == "" || typed.RequestId == "" || typed.Columns != nil || typed.Topics != nil {
			t.Errorf("page %d: %+v", i+1, typed)
		}
	}

	var stats cls.SearchLogResponse
	strictly(t, "stats", c.Stats.Answer, &stats)
	wantCols := []cls.Column{{Name: "total", Type: "bigint"}, {Name: "successful", Type: "bigint"},
		{Name: "avg_duration", Type: "double"}, {Name: "lastRun", Type: "bigint"}}
	if !stats.Analysis || !slices.Equal(stats.Columns, wantCols) {
		t.Errorf("stats answer: Analysis %v, Columns %+v", stats.Analysis, stats.Columns)
	}
	if r := c.Stats.Row; r["total"] != float64(len(truth)) || r["successful"] != float64(wantOK) || r["lastRun"] != float64(wantLast) {
		t.Errorf("stats %v, ground truth total=%d successful=%d lastRun=%d", r, len(truth), wantOK, wantLast)
	}
	var old cls.SearchLogResponse
	strictly(t, "old stats", c.OldStats.Answer, &old)
	if len(old.AnalysisResults) != 1 || len(old.ColNames) != 4 || old.ColNames[3] != "lastRun" ||
		old.AnalysisResults[0].Data[0].Value != strconv.Itoa(len(truth)) {
		t.Errorf("old-format stats %+v", old)
	}
	var gotRows []string
	for _, r := range c.Rows.Rows {
		gotRows = append(gotRows, r.SCF_RequestId)
	}
	// OFFSET limit LIMIT limit of the executions newest first (ties by
	// request ID, which no two starts share here).
	if want := ids(truth[limit : 2*limit]); !slices.Equal(gotRows, want) {
		t.Errorf("OFFSET %d LIMIT %d rows %v, want %v", limit, limit, gotRows, want)
	}

	var multi cls.SearchLogResponse
	strictly(t, "multi", c.Multi.Answer, &multi)
	if !slices.Equal(c.Multi.RequestIds, ids(truth[:limit])) || multi.Topics == nil || len(multi.Topics.Infos) != 1 ||
		len(multi.Topics.Errors) != 1 || multi.Topics.Errors[0].ErrorCodeStr != "ResourceNotFound.TopicNotExist" ||
		multi.Topics.Infos[0].Context == "" || multi.Context != "" {
		t.Errorf("multi-topic answer %+v, request IDs %v", multi, c.Multi.RequestIds)
	}

	ix := c.Index
	if ix.TopicId != c.TopicId || !ix.Status || ix.Rule == nil || ix.Rule.KeyValue == nil || len(ix.Rule.KeyValue.KeyValues) != 14 {
		t.Fatalf("DescribeIndex %+v", ix)
	}
	for _, kv := range ix.Rule.KeyValue.KeyValues {
		want := map[string]string{"SCF_Duration": "long", "SCF_LogTime": "long", "SCF_MemUsage": "double", "SCF_RetryNum": "long",
			"SCF_StartTime": "long", "SCF_StatusCode": "long"}[kv.Key]
		if want == "" {
			want = "text"
		}
		if kv.Value.Type != want || !kv.Value.SqlFlag || (want != "text") != (kv.Value.Tokenizer == "") {
			t.Errorf("DescribeIndex key %+v, want type %s with statistics", kv, want)
		}
	}

	if c.SyntaxError.Code != "FailedOperation.SyntaxError" || c.LimitComma.Code != "FailedOperation.SyntaxError" {
		t.Errorf("a CQL syntax error gave %+v, LIMIT s, n gave %+v", c.SyntaxError, c.LimitComma)
	}
	if c.WrongKey.Code != "AuthFailure.SignatureFailure" {
		t.Errorf("a wrong key gave %+v", c.WrongKey)
	}
	tr := s.Truth()
	if n := tr.APIs[cls.ActionSearchLog].TotalAccepted[defaultSecretID]; n != 6 {
		t.Errorf("ground truth: %d SearchLog calls accepted, want 6", n)
	}
	if n := tr.APIs[cls.ActionDescribeIndex].TotalAccepted[defaultSecretID]; n != 1 {
		t.Errorf("ground truth: %d DescribeIndex calls accepted, want 1", n)
	}
	if n := tr.APIs[scf.ActionGetFunction].TotalAccepted[defaultSecretID]; n != 1 {
		t.Errorf("ground truth: %d GetFunction calls accepted, want 1", n)
	}
	if n := tr.TotalAuthFailures[defaultSecretID]; n != 1 {
		t.Errorf("ground truth: %d auth failures, want 1", n)
	}
}
