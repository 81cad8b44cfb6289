package proxy

import (
	"strings"
	"testing"
	"testing/synctest"
)

// Every configured function is described in /metrics, and a memory size
// the configuration leaves out comes from GetFunction (the test
// simulator's APITest has its default 128 MB), at most once per function.
// In a synctest bubble: the lookups run in the background, and
// synctest.Wait waits for them instead of a poll on the wall clock.
func TestFunctionInfo(t *testing.T) { synctest.Test(t, testFunctionInfo) }

func testFunctionInfo(t *testing.T) {
	env := startProxyOn(t, simulateInBubble(t, 1), func(c *Config) {
		p := c.Projects[testProject]
		p.Functions = map[string]FunctionConfig{testFunction: {Name: "APITest"}, otherFunction: {Name: "orders-webhook", MemorySizeMB: 2048}}
		c.Projects[testProject] = p
	}, Options{})
	want := []string{
		`mudscf_function_info{function="` + testFunction + `",function_name="APITest",project="` + testProject + `",qualifier="",region="ap-guangzhou",scf_namespace="default"} 1`,
		`mudscf_function_info{function="` + otherFunction + `",function_name="orders-webhook",project="` + testProject + `",qualifier="",region="ap-guangzhou",scf_namespace="default"} 1`,
		`mudscf_function_memory_size_bytes{function="` + otherFunction + `",project="` + testProject + `"} 2.147483648e+09`,
		`mudscf_function_memory_size_bytes{function="` + testFunction + `",project="` + testProject + `"} 1.34217728e+08`,
		`mudscf_upstream_calls_total{account="default",api="GetFunction",result="ok"} 1`,
		`mudscf_budget_limit_requests_per_second{account="default",api="GetFunction"} 100`,
	}
	synctest.Wait() // the lookups are done
	_, metrics := scrape(t, env.proxy.AdminHandler(), "/metrics")
	for _, w := range want {
		if !strings.Contains(metrics, w) {
			t.Errorf("/metrics lacks %s", w)
		}
	}
	if truth := env.sim.Truth(); len(truth.TotalAccepted) != 0 {
		t.Errorf("the lookup spent GetFunctionLogs calls: %v", truth.TotalAccepted)
	}
}
