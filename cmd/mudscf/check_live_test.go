package main

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
)

// liveCheckYAML is a proxy configuration with a getFunctionLogs and a cls
// project on the simulator at host.
func liveCheckYAML(host string) string {
	return `jwt: {algorithms: [HS256], secretEnv: CHECK_JWT_SECRET}
upstream: {endpoint: ` + host + `, clsEndpoint: ` + host + `, scheme: http, timeout: 10s}
budget: {maxWait: 30s}
projects:
  proj_AsIu33tafZGe:
    region: ap-guangzhou
    credentials: {secretIdEnv: CHECK_SECRET_ID, secretKeyEnv: CHECK_SECRET_KEY}
    functions: {MVPQVsgjuHBlvWFB: {name: APITest}}
  proj_ClsDemo01:
    region: ap-guangzhou
    source: cls
    credentials: {secretIdEnv: CHECK_SECRET_ID, secretKeyEnv: CHECK_SECRET_KEY}
    functions: {MVPQVsgjuHBlvWFB: {name: APITest}, f2: {name: orders-webhook}}
`
}

// startCheckSimulator serves the simulator over loopback, as a user's
// account is reached, with cls options set by tweak.
func startCheckSimulator(t *testing.T, tweak func(*tencentsim.Config)) string {
	t.Helper()
	cfg := tencentsim.DefaultConfig()
	cfg.Accounts = []tencentsim.Account{{SecretID: testenv.SecretID, SecretKey: testenv.SecretKey}}
	cfg.Functions = []tencentsim.Function{{Name: "APITest", RatePerSecond: 0.5, FailureRatio: 0.2}, {Name: "orders-webhook", RatePerSecond: 0.1}}
	if tweak != nil {
		tweak(&cfg)
	}
	sim, err := tencentsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// mudscf check against an account: every call the proxy makes, one row
// each, and the exit status says whether all passed.
func TestCheckLiveAgainstTheSimulator(t *testing.T) {
	t.Setenv("MUDSCF_CONFIG", "")
	t.Setenv("MUDSCF_EXPORTER_CONFIG", "")
	t.Setenv("CHECK_JWT_SECRET", strings.Repeat("check-live-secret-", 3))
	t.Setenv("CHECK_SECRET_ID", testenv.SecretID)
	topic := tencentsim.DefaultClsTopicID("ap-guangzhou", "default", "APITest")
	cases := []struct {
		name      string
		secretKey string
		sim       func(*tencentsim.Config)
		failed    bool
		want      []string
	}{
		{"all pass", testenv.SecretKey, nil, false, []string{
			"PASS  credentials of account default in ap-guangzhou (project proj_AsIu33tafZGe): signed calls are accepted",
			"PASS  project proj_AsIu33tafZGe function MVPQVsgjuHBlvWFB (APITest): GetFunction: memory",
			"PASS  project proj_AsIu33tafZGe function MVPQVsgjuHBlvWFB (APITest): GetFunctionLogs page:",
			"PASS  project proj_AsIu33tafZGe function MVPQVsgjuHBlvWFB (APITest): GetFunctionLogs stats:",
			"PASS  project proj_AsIu33tafZGe function MVPQVsgjuHBlvWFB (APITest): GetRequestStatus:",
			"PASS  project proj_ClsDemo01 function MVPQVsgjuHBlvWFB (APITest): topic's index (DescribeIndex): topic " + topic + ": every SCF_* key",
			"PASS  project proj_ClsDemo01 function f2 (orders-webhook): topic's index (DescribeIndex): topic " + topic + ": checked above",
			"PASS  project proj_ClsDemo01 function MVPQVsgjuHBlvWFB (APITest): SearchLog count:",
			"PASS  project proj_ClsDemo01 function MVPQVsgjuHBlvWFB (APITest): SearchLog page: 1 report line(s)",
			"PASS  project proj_ClsDemo01 function MVPQVsgjuHBlvWFB (APITest): SearchLog response lines: lines of 1 of 1 invocation(s)",
			"PASS  project proj_ClsDemo01 function MVPQVsgjuHBlvWFB (APITest): SearchLog log lines: lines of 1 of 1 invocation(s)",
			"PASS  project proj_ClsDemo01 function MVPQVsgjuHBlvWFB (APITest): SearchLog stats:",
			"20 of 20 checks passed",
		}},
		{"wrong SecretKey", "not-the-secret-key-of-this-account", nil, true, []string{
			"FAIL  credentials of account default in ap-guangzhou (project proj_AsIu33tafZGe):\n",
			"AuthFailure.SignatureFailure: the upstream rejected mudscf's own Tencent Cloud credentials",
		}},
		{"an index without statistics", testenv.SecretKey, func(c *tencentsim.Config) { c.CLS.NoStatistics = []string{topic} }, true, []string{
			"FAIL  project proj_ClsDemo01 function MVPQVsgjuHBlvWFB (APITest): topic's index (DescribeIndex):\n",
			"statistics (SqlFlag) off on SCF_Alias, SCF_Duration,",
			"FAIL  project proj_ClsDemo01 function MVPQVsgjuHBlvWFB (APITest): SearchLog count:\n",
			"FailedOperation.QueryError", "verification_exception",
			"PASS  project proj_AsIu33tafZGe function MVPQVsgjuHBlvWFB (APITest): GetFunctionLogs page:",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("CHECK_SECRET_KEY", c.secretKey)
			host := startCheckSimulator(t, c.sim)
			start := time.Now()
			out, err := checkWith(proxyLiveChecks, "--config", writeConfig(t, "proxy.yaml", liveCheckYAML(host)))
			suiteWitness.See("mudscf check's output", []byte(out))
			if failed := errors.Is(err, errReported); failed != c.failed || err != nil && !failed {
				t.Errorf("got %v, want failed=%v:\n%s", err, c.failed, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("the output does not contain %q:\n%s", w, out)
				}
			}
			t.Logf("%s in %s", c.name, time.Since(start).Round(time.Millisecond))
		})
	}
}
