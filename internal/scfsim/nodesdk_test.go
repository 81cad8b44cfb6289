package scfsim

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/translate"
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
		msg := "the Node.js SDK is not installed: run npm ci --prefix internal/scfsim/testdata/nodesdk"
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
	var wantLogs []translate.FunctionLog
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
	id, _ := parseID(target.Log.RequestId)
	r, _ := f.find(id, nanos(target.Start), nanos(target.Start)+1, nanos(now))
	wantStatus := s.requestStatus(&r, nanos(now))

	for _, style := range []string{"POST", "GET", "HmacSHA256"} {
		var answers map[string]json.RawMessage
		strictly(t, style, got.SCF[style], &answers)

		var logs translate.GetFunctionLogsResponse
		strictly(t, style+" GetFunctionLogs", answers[actionGetFunctionLogs], &logs)
		if len(logs.Data) != len(wantLogs) {
			t.Fatalf("%s GetFunctionLogs: %d rows, want %d", style, len(logs.Data), len(wantLogs))
		}
		for i := range wantLogs {
			if logs.Data[i] != wantLogs[i] {
				t.Errorf("%s GetFunctionLogs row %d:\n got %+v\nwant %+v", style, i, logs.Data[i], wantLogs[i])
			}
		}

		var d functionDetail
		strictly(t, style+" GetFunction", answers[actionGetFunction], &d)
		if d.FunctionName != "thumbnail-worker" || d.MemorySize != 512 || d.Timeout != 15 ||
			d.ClsTopicId != f.ClsTopicID || d.ClsLogsetId != f.ClsLogsetID || d.RequestId == "" {
			t.Errorf("%s GetFunction: %+v", style, d)
		}

		var l listFunctionsResponse
		strictly(t, style+" ListFunctions", answers[actionListFunctions], &l)
		if l.TotalCount != 1 || len(l.Functions) != 1 || l.Functions[0].FunctionName != "thumbnail-worker" {
			t.Errorf("%s ListFunctions: %+v", style, l)
		}

		var st getRequestStatusResponse
		strictly(t, style+" GetRequestStatus", answers[actionGetRequestStatus], &st)
		// GetRequestStatus postdates the Go SDK v1.0.162, whose models
		// check the other actions' spelling: these are the Node.js SDK's
		// model names (scf_models.d.ts: GetRequestStatusResponse,
		// RequestStatus), exactly.
		var keys struct {
			Data []map[string]any
		}
		var top map[string]any
		if json.Unmarshal(answers[actionGetRequestStatus], &top) != nil ||
			json.Unmarshal(answers[actionGetRequestStatus], &keys) != nil || len(keys.Data) != 1 {
			t.Fatalf("%s GetRequestStatus: %s", style, answers[actionGetRequestStatus])
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
	for _, a := range []string{actionGetFunctionLogs, actionGetFunction, actionListFunctions, actionGetRequestStatus} {
		want := int64(3)
		if a == actionGetFunction {
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
