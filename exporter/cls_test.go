package exporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/proxy"
)

// Two cls projects in two namespaces, whose functions all log to one
// topic, as SCF's default delivery puts a region's: each has a function
// named fn-a. Read whole through the proxy's project route, each project
// counts exactly its own executions, and no function is polled alone.
func TestCLSProjectsShareATopic(t *testing.T) { inStack(t, testCLSProjectsShareATopic) }

func testCLSProjectsShareATopic(t *testing.T) {
	const topic = "topic-region-shared"
	origin := time.Now().Add(-time.Second)
	stopsAt := origin.Add(6 * time.Second)
	simCfg := tencentsim.DefaultConfig()
	simCfg.Accounts = []tencentsim.Account{{SecretID: testSecretID, SecretKey: testSecretKey}}
	simCfg.Origin = origin
	type fn struct {
		project, id, namespace, name string
		rate                         float64
	}
	fns := []fn{
		{testProject, "fnA", "default", "fn-a", 9},
		{testProject, "fnB", "default", "fn-b", 4},
		{"proj_staging00001", "fnA", "staging", "fn-a", 6},
	}
	projects := map[string]proxy.ProjectConfig{}
	var cfg Config
	for _, f := range fns {
		simCfg.Functions = append(simCfg.Functions, tencentsim.Function{Name: f.name, Namespace: f.namespace, RatePerSecond: f.rate,
			Until: stopsAt, TimeoutMs: 1000, ClsTopicID: topic})
		p, ok := projects[f.project]
		if !ok {
			p = proxy.ProjectConfig{Region: "ap-guangzhou", Namespace: f.namespace, Source: proxy.SourceCLS, ClsTopicID: topic,
				Credentials: testCredentials, Functions: map[string]proxy.FunctionConfig{}}
		}
		p.Functions[f.id] = proxy.FunctionConfig{Name: f.name}
		projects[f.project] = p
		cfg.Functions = append(cfg.Functions, FunctionConfig{Project: f.project, Function: f.id, Region: "ap-guangzhou"})
	}
	sim, err := tencentsim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	handler := startProxy(t, sim, projects)
	cfg.Endpoint = "http://mudscf.test"
	cfg.Auth = AuthConfig{JWTSecretEnv: "EXPORTER_TEST_JWT"}
	cfg.Overlap = 5 * time.Second
	cfg.ProjectPageSize = 20 // several pages and slices a round
	cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Interval = time.Second
	e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: handler}})
	if err != nil {
		t.Fatal(err)
	}
	runFor(t, e, time.Until(stopsAt.Add(10*time.Second)))
	for _, f := range fns {
		truth := len(sim.Executions("ap-guangzhou", f.namespace, f.name, origin.Add(-time.Minute), stopsAt.Add(time.Minute)))
		got := sampleOf(t, e, "mudscf_function_executions_total", map[string]string{"project": f.project, "function": f.id})
		if truth == 0 || got != float64(truth) {
			t.Errorf("%s/%s (%s in %s): %v executions counted, the simulator ran %d", f.project, f.id, f.name, f.namespace, got, truth)
		}
	}
	for _, s := range collectCounter(t, e, "mudscf_exporter_polls_total") {
		if s.labels["function"] != "" && s.value != 0 {
			t.Errorf("a poll of function %s alone", s.labels["function"])
		}
	}
	if most := sim.Truth().SearchLog.MaxConcurrentPerTopic[topic]; most > 3 {
		t.Errorf("%d queries at once on the topic, more than the proxy's share of 3", most)
	}
}
