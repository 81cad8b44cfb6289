package proxy

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/upstream"
)

// The projects of the isolation test, all on the test account: a
// GetFunctionLogs project (testProject), and two CLS projects reading the
// same topic, the first of which a member floods.
const (
	floodedProject = "proj_clsFlooded"
	quietProject   = "proj_clsQuiet"
)

// searchLogTakes is how long every SearchLog query runs in the isolation
// test: what holds the topic's 15 slots.
const searchLogTakes = 400 * time.Millisecond

// waitBound is the p99 wait for a budget slot the other projects are
// promised while one member floods the topic: one query's duration. Every
// slot frees within searchLogTakes, and the other project's waiting
// queries (at most six here: three members, two queries a page) take
// every other turn, so the 15 grants of one query's duration serve them
// all. Rounded up to a bucket of mudscf_budget_wait_seconds.
const waitBound = 0.5

// largestPage is the largest CLS page maxCallsPerPage (12, the default)
// admits: without log text (log=false), its count and its invocations,
// then ten batches of 200 invocations, one call each for their return
// values (12 calls).
const largestPage = 2000

// One member floods a CLS project with the largest pages the proxy admits,
// 40 at once, three rounds of them, while every SearchLog takes
// searchLogTakes, so that the topic's 15 concurrent queries are always
// taken and dozens of its queries wait. Meanwhile members of the other
// projects on the account — the GetFunctionLogs one, and a CLS one on the
// same topic — never get a 503 or 504, nor a 429: every request of theirs
// is answered 200, and by the budgets' own accounting
// (mudscf_budget_wait_seconds of their project) their p99 wait for each
// budget stays within waitBound. In-process, on a synctest bubble's clock:
// the queries' duration, not the machine's speed, decides the waits.
func TestOneMemberCannotStarveTheOtherProjects(t *testing.T) {
	synctest.Test(t, testOneMemberCannotStarveTheOtherProjects)
}

func testOneMemberCannotStarveTheOtherProjects(t *testing.T) {
	sim := simulateInBubble(t, 1)
	slow := &slowSearchLog{next: sim, takes: searchLogTakes}
	topic := tencentsim.DefaultClsTopicID("ap-guangzhou", "default", "APITest")
	env := startProxyOn(t, sim, func(cfg *Config) {
		cfg.Budget.MaxWait = 2 * time.Second
		cfg.Upstream.Timeout = 10 * time.Second
		cfg.Upstream.CLSEndpoint = cfg.Upstream.Endpoint
		base := cfg.Projects[testProject]
		for id, reader := range map[string]string{floodedProject: "usr_flooder", quietProject: "usr_quiet"} {
			cfg.Projects[id] = ProjectConfig{
				Region: base.Region, Source: SourceCLS, Credentials: base.Credentials,
				Readers:   jwtauth.Readers{Subjects: []string{reader}},
				Functions: map[string]FunctionConfig{testFunction: {Name: "APITest", MemorySizeMB: 256, ClsTopicID: topic}},
			}
		}
	}, Options{Transport: testenv.HandlerTransport{Handler: slow}})
	// Ten minutes of a function running every 5 s: the flood's pages ask
	// for the most the proxy admits, and get about 120 executions, so each
	// costs 3 queries. The flood's weight is how many queries it keeps
	// waiting, not their size: full pages (12 queries over 2000
	// executions) cost the simulator and the SDK minutes of CPU under
	// -race for the same waits.
	until := time.Now().Truncate(time.Second)
	window := "&since=" + until.Add(-10*time.Minute).UTC().Format(time.RFC3339) + "&until=" + until.UTC().Format(time.RFC3339)
	pathOf := func(project, query string) string {
		return "/api/functions/projects/" + project + "/functions/" + testFunction + "/logs?stats=false&" + query + window
	}
	flooder := env.token(t, "usr_flooder")
	if r := env.get(t, pathOf(floodedProject, "log=false&limit="+strconv.Itoa(largestPage+1)), flooder); r.status != http.StatusBadRequest {
		t.Fatalf("a page of %d: %d, want 400 (over upstream.maxCallsPerPage): the flood's pages are not the largest", largestPage+1, r.status)
	}

	const flooders, rounds = 40, 3
	var flood sync.WaitGroup
	var mu sync.Mutex
	floodStatuses := map[int]int{}
	for i := range flooders {
		flood.Go(func() {
			for round := range rounds {
				offset := strconv.Itoa(round*flooders + i) // distinct pages: no cache, no shared flight
				status := env.getStatus(t, pathOf(floodedProject, "log=false&limit="+strconv.Itoa(largestPage)+"&offset="+offset), flooder)
				mu.Lock()
				floodStatuses[status]++
				mu.Unlock()
			}
		})
	}
	flooding := make(chan struct{})
	go func() {
		flood.Wait()
		close(flooding)
	}()
	time.Sleep(time.Second) // the flood is under way: the topic's slots are taken, its queue long

	// The other projects' members, each sending one request after another,
	// each a page of its own, while the flood lasts: three on the CLS
	// project (up to six queries of theirs wait at once, which their
	// project's turns serve within the 15 grants one query's duration
	// brings), one on the GetFunctionLogs project at a pace within that
	// API's 5 calls a second, so that its own rate makes it wait for
	// nothing.
	members := []struct {
		project, token string
		pause          time.Duration
	}{
		{quietProject, env.token(t, "usr_quiet"), 0},
		{quietProject, env.token(t, "usr_quiet"), 0},
		{quietProject, env.token(t, "usr_quiet"), 0},
		{testProject, env.token(t, "usr_morgan_de"), 500 * time.Millisecond},
	}
	var quiet sync.WaitGroup
	otherStatuses := map[string]map[int]int{testProject: {}, quietProject: {}}
	for m, member := range members {
		quiet.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-flooding:
					return
				default:
				}
				r := env.get(t, pathOf(member.project, "limit=20&offset="+strconv.Itoa(n*len(members)+m)), member.token)
				mu.Lock()
				otherStatuses[member.project][r.status]++
				mu.Unlock()
				if r.status != 200 {
					t.Errorf("%s, while another project's member floods the topic: %d %s", member.project, r.status, r.body)
				}
				time.Sleep(member.pause)
			}
		})
	}
	quiet.Wait()
	t.Logf("the flood: %v; the others: %v", floodStatuses, otherStatuses)
	// The flood's own requests may be refused for the budget, nothing
	// else: its deadlines are sized to its calls.
	if floodStatuses[200]+floodStatuses[429] != flooders*rounds || floodStatuses[200] == 0 {
		t.Errorf("the flood's statuses %v: want 200s and at most 429s", floodStatuses)
	}

	if most := slow.most(); most != searchLogConcurrency {
		t.Errorf("the topic ran at most %d queries at once, want the flood to keep all %d busy", most, searchLogConcurrency)
	}
	truth := sim.Truth()
	if n := truth.SearchLog.ConcurrencyLimited[testenv.SecretID] + truth.SearchLog.RateLimited[testenv.SecretID]; n != 0 {
		t.Errorf("CLS refused %d queries for its limits", n)
	}
	if got := metric(t, env, `mudscf_upstream_breaker_transitions_total{account="default",api="SearchLog",region="ap-guangzhou",state="open"}`); got != 0 {
		t.Errorf("a breaker opened %v times: the upstream was healthy", got)
	}
	for _, w := range []struct{ project, api string }{
		{testProject, upstream.GetFunctionLogs.Action},
		{quietProject, "SearchLog-topic"},
		{quietProject, upstream.SearchLog.Action},
	} {
		p99, n := waitQuantile(t, env, w.api, w.project, 0.99)
		t.Logf("%s's p99 wait for the %s budget: at most %gs, over %d calls", w.project, w.api, p99, n)
		if n == 0 || p99 > waitBound {
			t.Errorf("%s's p99 wait for the %s budget is up to %gs over %d calls, want calls and at most %gs", w.project, w.api, p99, n, waitBound)
		}
	}
}

// slowSearchLog makes every SearchLog query take its time, as CLS's do,
// and counts the queries running at once (all on one topic).
type slowSearchLog struct {
	next  http.Handler
	takes time.Duration

	mu              sync.Mutex
	running, mostAt int
}

func (s *slowSearchLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-TC-Action") == upstream.SearchLog.Action {
		s.mu.Lock()
		s.running++
		s.mostAt = max(s.mostAt, s.running)
		s.mu.Unlock()
		time.Sleep(s.takes)
		defer func() {
			s.mu.Lock()
			s.running--
			s.mu.Unlock()
		}()
	}
	s.next.ServeHTTP(w, r)
}

func (s *slowSearchLog) most() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mostAt
}

// waitQuantile is the upper bound of the bucket of
// mudscf_budget_wait_seconds holding project's q-quantile wait for api's
// budget (interactive calls), and the number of waits.
func waitQuantile(t *testing.T, env *proxyEnv, api, project string, q float64) (float64, int) {
	t.Helper()
	labels := `account="default",api="` + api + `",priority="interactive",project="` + project + `"`
	n := metric(t, env, `mudscf_budget_wait_seconds_count{`+labels+`}`)
	for _, le := range []string{"0", "0.01", "0.05", "0.1", "0.2", "0.5", "1", "2", "5"} {
		if metric(t, env, `mudscf_budget_wait_seconds_bucket{`+labels+`,le="`+le+`"}`) >= math.Ceil(q*n) {
			bound, _ := strconv.ParseFloat(le, 64)
			return bound, int(n)
		}
	}
	return math.Inf(1), int(n)
}
