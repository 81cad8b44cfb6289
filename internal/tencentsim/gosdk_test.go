package tencentsim

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

// needTool returns the path of a tool a test runs for real. Where it is
// missing the test skips with the reason, except under CI=true, where a
// missing tool is a failure: CI installs everything.
func needTool(t *testing.T, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI (%s): %v", name, why, err)
		}
		t.Skipf("%s not found (%s): %v", name, why, err)
	}
	return p
}

// sdkHarness runs a harness program against s, with its endpoint and the
// default account in the environment, and returns its standard output.
// The simulator's clock stands still while it runs (the SDKs' timestamps
// stay well within the allowed skew), so the ground truth is that of the
// instant the harness saw.
func sdkHarness(t *testing.T, s *Simulator, dir string, cmd ...string) []byte {
	t.Helper()
	_, host := startServer(t, s)
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Dir = dir
	c.Env = append(os.Environ(), "TENCENTSIM_ENDPOINT="+host, "TENCENTSIM_SECRET_ID="+defaultSecretID,
		"TENCENTSIM_SECRET_KEY="+defaultSecretKey, "http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, stderr.Bytes())
	}
	return out
}

// The typed scf/v20180416 models of the official Go SDK v1.0.162 decode
// every field of every SCF answer, strictly: testdata/gosdk (a module of
// its own, see its doc) calls GetFunctionLogs, GetFunction and
// ListFunctions by POST and GET and reports what the models decoded,
// what a strict decode refused and which model fields stayed unset.
// v1.0.162 predates GetRequestStatus; the Node.js SDK test covers it.
func TestGoSDKTypedModels(t *testing.T) {
	goBin := needTool(t, "go", "builds the Go SDK v1.0.162 harness")
	dl := exec.Command(goBin, "mod", "download")
	dl.Dir = "testdata/gosdk"
	if out, err := dl.CombinedOutput(); err != nil {
		msg := "the Go SDK v1.0.162 cannot be downloaded (.ci/run downloads it): " + string(out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s, _ := newSim(t, noRateLimit)
	out := sdkHarness(t, s, "testdata/gosdk", goBin, "run", ".", "thumbnail-worker")
	type res struct {
		Method string
		Typed  struct{ Response json.RawMessage }
		Strict string
		Unset  []string
	}
	var got map[string][]res
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	for _, action := range []string{scf.ActionGetFunctionLogs, scf.ActionGetFunction, scf.ActionListFunctions} {
		if len(got[action]) != 2 {
			t.Fatalf("%s: %d results", action, len(got[action]))
		}
		for _, r := range got[action] {
			if r.Strict != "" || len(r.Unset) != 0 {
				t.Errorf("%s %s: strict decode %q, model fields unset %v", action, r.Method, r.Strict, r.Unset)
			}
		}
	}

	now := s.now()
	var want []Execution
	for _, e := range s.Executions("ap-guangzhou", "default", "thumbnail-worker", now.Add(-24*time.Hour), now) {
		if e.Log.RetCode != 0 && len(want) < 3 {
			want = append(want, e)
		}
	}
	for _, r := range got[scf.ActionGetFunctionLogs] {
		var logs struct {
			TotalCount int64
			Data       []scf.FunctionLog
		}
		if err := json.Unmarshal(r.Typed.Response, &logs); err != nil {
			t.Fatal(err)
		}
		if len(logs.Data) != len(want) {
			t.Fatalf("%s: %d rows, want %d", r.Method, len(logs.Data), len(want))
		}
		for i := range want {
			if logs.Data[i] != want[i].Log {
				t.Errorf("%s row %d:\n got %+v\nwant %+v", r.Method, i, logs.Data[i], want[i].Log)
			}
		}
	}
	for _, r := range got[scf.ActionGetFunction] {
		var d scf.FunctionDetail
		if err := json.Unmarshal(r.Typed.Response, &d); err != nil {
			t.Fatal(err)
		}
		if d.FunctionName != "thumbnail-worker" || d.MemorySize != 512 || d.Timeout != 15 ||
			d.ClsTopicId != DefaultClsTopicID("ap-guangzhou", "default", "thumbnail-worker") ||
			d.ClsLogsetId != DefaultClsLogsetID("ap-guangzhou") || d.Namespace != "default" {
			t.Errorf("%s GetFunction: %+v", r.Method, d)
		}
	}
	for _, r := range got[scf.ActionListFunctions] {
		var l scf.ListFunctionsResponse
		if err := json.Unmarshal(r.Typed.Response, &l); err != nil {
			t.Fatal(err)
		}
		if l.TotalCount != 1 || len(l.Functions) != 1 || l.Functions[0].FunctionName != "thumbnail-worker" ||
			!slices.Contains([]string{"Python3.6"}, l.Functions[0].Runtime) {
			t.Errorf("%s ListFunctions: %+v", r.Method, l)
		}
	}
}
