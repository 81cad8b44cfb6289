package proxy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

const (
	sharedTopic = "topic-region-shared"
	stagingProj = "proj_staging00001"
)

// executionsPath is the project route of project with query.
func executionsPath(project string, query url.Values) string {
	return "/api/functions/projects/" + project + "/executions?" + query.Encode()
}

type executionsBody struct {
	Success bool `json:"success"`
	Data    struct {
		Executions []struct {
			translate.Execution
			FunctionID string `json:"functionId"`
		} `json:"executions"`
		Stats      *translate.Stats `json:"stats"`
		Topics     []string         `json:"topics"`
		NextOffset *int64           `json:"nextOffset"`
	} `json:"data"`
}

func decodeExecutions(t *testing.T, r response) executionsBody {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var b executionsBody
	if err := json.Unmarshal(r.body, &b); err != nil || !b.Success || b.Data.Stats != nil {
		t.Fatalf("not the route's envelope (%v): %s", err, r.body)
	}
	return b
}

// sharedTopicSim runs, in one topic as SCF's default delivery does, the
// test project's two functions in namespace default and a function of the
// same name as the first in namespace staging.
func sharedTopicSim(t testing.TB) *testenv.Simulator {
	t.Helper()
	time.Sleep(8 * 24 * time.Hour)
	return testenv.NewSimulator(t, nil,
		tencentsim.Function{Name: "APITest", RatePerSecond: 0.2, FailureRatio: 0.3, ClsTopicID: sharedTopic},
		tencentsim.Function{Name: "orders-webhook", RatePerSecond: 0.05, ClsTopicID: sharedTopic, Qualifiers: []string{"$LATEST", "2"}},
		tencentsim.Function{Name: "APITest", Namespace: "staging", RatePerSecond: 0.5, ClsTopicID: sharedTopic},
	)
}

// sharedTopicProjects makes testProject read the shared topic, with a
// third function ID reading only version 2 of orders-webhook, and adds
// stagingProj, whose one function has the first's name.
func sharedTopicProjects(cfg *Config) {
	p := cfg.Projects[testProject]
	p.Source, p.ClsTopicID = SourceCLS, sharedTopic
	p.Functions = map[string]FunctionConfig{
		testFunction:  {Name: "APITest", MemorySizeMB: 256},
		otherFunction: {Name: "orders-webhook", MemorySizeMB: 512},
		"ordersV2":    {Name: "orders-webhook", Qualifier: "2", MemorySizeMB: 512},
	}
	cfg.Projects[testProject] = p
	staging := p
	staging.Namespace = "staging"
	staging.Functions = map[string]FunctionConfig{"stagingApi": {Name: "APITest", MemorySizeMB: 256}}
	cfg.Projects[stagingProj] = staging
	cfg.Upstream.CLSEndpoint = cfg.Upstream.Endpoint
}

// The route pages through every execution of the project that started in
// the window, each under the function IDs the function route serves it
// by, at one SearchLog call per page: nothing of the same-named function
// of the other namespace sharing the topic, version 2 of orders-webhook
// under both its IDs. limit=0 lists the topics without a call.
func TestExecutionsRouteReadsTheProjectsTopic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := sharedTopicSim(t)
		env := startProxyOn(t, sim, sharedTopicProjects, Options{})
		tok := env.token(t, "usr_morgan_de")
		until := time.Now().Add(-time.Minute).Truncate(time.Second)
		since := until.Add(-20 * time.Minute)
		searches := func() int64 { return sim.Truth().APIs["SearchLog"].TotalAccepted[testenv.SecretID] }

		before := searches()
		b := decodeExecutions(t, env.get(t, executionsPath(testProject, url.Values{"limit": {"0"}}), tok))
		if !slices.Equal(b.Data.Topics, []string{sharedTopic}) || len(b.Data.Executions) != 0 || b.Data.NextOffset != nil || searches() != before {
			t.Fatalf("limit=0: topics %v, %d executions, next %v, %d calls", b.Data.Topics, len(b.Data.Executions), b.Data.NextOffset, searches()-before)
		}

		for _, c := range []struct {
			project string
			want    map[string][]string // function ID → the function's name, namespace and qualifiers it reads
		}{
			{testProject, map[string][]string{testFunction: {"APITest", "default"}, otherFunction: {"orders-webhook", "default"}, "ordersV2": {"orders-webhook", "default", "2"}}},
			{stagingProj, map[string][]string{"stagingApi": {"APITest", "staging"}}},
		} {
			want := map[string]bool{}
			for id, fn := range c.want {
				for _, x := range sim.Executions("ap-guangzhou", fn[1], fn[0], since, until.Add(time.Second-1)) {
					if len(fn) == 2 || x.Qualifier == fn[2] {
						want[id+"/"+x.Log.RequestId] = true
					}
				}
			}
			got := map[string]bool{}
			before, pages := searches(), 0
			var last time.Time
			for offset := int64(0); ; {
				b := decodeExecutions(t, env.get(t, executionsPath(c.project, url.Values{"limit": {"100"}, "offset": {strconv.FormatInt(offset, 10)},
					"since": {since.Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)}}), tok))
				pages++
				for _, x := range b.Data.Executions {
					at, _ := time.Parse(time.RFC3339Nano, *x.ExecutedAt)
					if !last.IsZero() && at.After(last) {
						t.Fatalf("%s: %s after %s on a newest-first page", c.project, at, last)
					}
					last = at
					key := x.FunctionID + "/" + x.RequestID
					if got[key] {
						t.Fatalf("%s: %s twice", c.project, key)
					}
					got[key] = true
				}
				if b.Data.NextOffset == nil {
					break
				}
				offset = *b.Data.NextOffset
			}
			if calls := searches() - before; calls != int64(pages) {
				t.Errorf("%s: %d pages cost %d SearchLog calls, want one each", c.project, pages, calls)
			}
			if len(want) < 100 {
				t.Fatalf("%s: %d executions in the window; the test needs more than a page", c.project, len(want))
			}
			for k := range want {
				if !got[k] {
					t.Errorf("%s: %s missing", c.project, k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("%s: %s is not the project's", c.project, k)
				}
			}
		}
	})
}

// A getFunctionLogs project is refused with its account and budget, which
// size a client's per-function polling; the per-function filters, a
// topic no function logs to and a repeated topicId are refused too.
func TestExecutionsRouteRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := startProxyOn(t, sharedTopicSim(t), func(cfg *Config) {
			sharedTopicProjects(cfg)
			gfl := cfg.Projects[testProject]
			gfl.Source, gfl.ClsTopicID = SourceGetFunctionLogs, ""
			gfl.Functions = map[string]FunctionConfig{testFunction: {Name: "APITest", MemorySizeMB: 256}}
			cfg.Projects["proj_gfl"] = gfl
		}, Options{})
		tok := env.token(t, "usr_morgan_de")
		r := env.get(t, executionsPath("proj_gfl", url.Values{"limit": {"10"}}), tok)
		var refusal struct {
			translate.ErrorBody
			Account        string `json:"account"`
			CallsPerSecond int    `json:"callsPerSecond"`
		}
		if err := json.Unmarshal(r.body, &refusal); err != nil || r.status != http.StatusBadRequest || refusal.Code != CodePerFunctionSource ||
			refusal.Account != "default" || refusal.CallsPerSecond != 5 {
			t.Errorf("getFunctionLogs project: %d %s", r.status, r.body)
		}
		for _, q := range map[string]url.Values{
			"status":          {"status": {"failed"}},
			"requestId":       {"requestId": {"x"}},
			"qualifier":       {"qualifier": {"2"}},
			"unknown topic":   {"topicId": {"topic-nobody-logs-to"}},
			"topicId twice":   {"topicId": {sharedTopic, sharedTopic}},
			"odd topicId":     {"topicId": {"a/b"}},
			"offset+limit":    {"offset": {"9000"}, "limit": {"2000"}},
			"malformed since": {"since": {"yesterday"}},
		} {
			assertEnvelope(t, env.get(t, executionsPath(testProject, q), tok), http.StatusBadRequest, translate.CodeInvalidParameter)
		}
		assertEnvelope(t, env.get(t, executionsPath("proj_none", nil), tok), http.StatusNotFound, translate.CodeNotFound)
		assertEnvelope(t, env.get(t, executionsPath(testProject, nil), env.token(t, "usr_stranger")), http.StatusForbidden, translate.CodeForbidden)
		assertEnvelope(t, env.get(t, executionsPath(testProject, nil), ""), http.StatusUnauthorized, translate.CodeUnauthorized)
	})
}

// The route holds at most projectExecutions.topicShare of a topic's
// queries: with a share of one, a page asked while another runs waits for
// it, and is refused with a 429 once it would wait past budget.maxWait.
func TestExecutionsRouteKeepsToItsShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := sharedTopicSim(t)
		env := startProxyOn(t, sim, func(cfg *Config) {
			sharedTopicProjects(cfg)
			cfg.ProjectExecutions.TopicShare = 1
			cfg.Upstream.Timeout = 30 * time.Second
		}, Options{})
		tok := env.token(t, "usr_morgan_de")
		until := time.Now().Add(-time.Minute).Truncate(time.Second)
		q := url.Values{"limit": {"10"}, "since": {until.Add(-time.Hour).Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)}}
		sim.SetFaults(tencentsim.Faults{Latency: 5 * time.Second})
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * time.Second) // the second asks while the first runs
				statuses[i] = env.get(t, executionsPath(testProject, q), tok).status
			})
		}
		wg.Wait()
		if statuses[0] != http.StatusOK || statuses[1] != http.StatusTooManyRequests {
			t.Errorf("statuses %v, want the first served and the second refused for the share", statuses)
		}
		if most := sim.Truth().SearchLog.MaxConcurrentPerTopic[sharedTopic]; most != 1 {
			t.Errorf("%d queries at once on the topic, want the share of 1", most)
		}
	})
}
