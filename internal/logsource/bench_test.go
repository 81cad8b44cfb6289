package logsource

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/cls"
)

// BenchmarkMissPerSource is one cache miss of a Mudbase request — its page
// of 20 and its stats — through each source, against the simulator over
// loopback HTTP, every call answered after the simulator's latency model's
// fixed latency (missLatency, the same for both APIs): what a miss costs in
// upstream calls (calls/op, exact) and in time, which the number of calls
// made one after another decides, not the machine. The budgets are set high
// so that only the source's own work counts. .ci/bench/sources.sh turns it
// into BENCHMARKS.md's section.
func BenchmarkMissPerSource(b *testing.B) {
	const missLatency = 100 * time.Millisecond
	env := loopbackSim(b, 0.2, missLatency) // every action's latency, CLS's too
	sim, loc := env.Simulator.Simulator, env.Location
	caller := env.caller(b, 10_000)
	gfl, cls := NewGetFunctionLogs(caller, loc), NewCLS(caller, NewTopics(caller, nil))
	calls := map[LogSource]func() int64{
		gfl: func() int64 { return sim.Truth().TotalAccepted[testSecretID] },
		cls: func() int64 {
			t := sim.Truth()
			return t.APIs["SearchLog"].TotalAccepted[testSecretID]
		},
	}
	target := translate.Target{FunctionName: "APITest", Namespace: "default"}
	for _, s := range []struct {
		name    string
		src     LogSource
		skipLog bool
	}{{"getFunctionLogs", gfl, false}, {"cls", cls, false}, {"cls-log=false", cls, true}} {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			until := time.Now().Truncate(time.Second)
			// The topic lookup (GetFunction) is cached after the first
			// request; the benchmark measures misses after it.
			if _, err := s.src.Page(ctx, target, translate.Query{Limit: 1, Order: translate.OrderDesc, Since: until.Add(-time.Hour), Until: until}); err != nil {
				b.Fatal(err)
			}
			before := calls[s.src]()
			n := 0
			for b.Loop() {
				q := translate.Query{Limit: 20, Offset: int64(n % 200), Order: translate.OrderDesc, Since: until.Add(-time.Hour), Until: until, SkipLog: s.skipLog}
				n++
				if _, err := s.src.Page(ctx, target, q); err != nil {
					b.Fatal(err)
				}
				if _, err := s.src.Stats(ctx, target, q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(calls[s.src]()-before)/float64(n), "calls/op")
		})
	}
}

// BenchmarkProjectPageVsResponseLines is what the project route saves by
// reading no response line: a page of 1000 invocations of a topic as the
// project route reads it (report lines only, one SearchLog call) against
// the same invocations as a function's page without log text (its count,
// its report lines and one call per 200 response lines), on the
// simulator over loopback HTTP. calls/op and the time per page are what
// BENCHMARKS.md and docs/proxy.md quote.
func BenchmarkProjectPageVsResponseLines(b *testing.B) {
	env := loopbackSim(b, 2, 0)
	caller := env.caller(b, 10_000)
	src := NewCLS(caller, NewTopics(caller, nil)).(ProjectSource)
	target := translate.Target{FunctionName: "APITest", Namespace: "default"}
	ctx := context.Background()
	ct, err := src.Topic(ctx, target)
	if err != nil {
		b.Fatal(err)
	}
	until := time.Now().Add(-time.Minute).Truncate(time.Second)
	q := translate.Query{Limit: 1000, Order: translate.OrderDesc, Since: until.Add(-time.Hour), Until: until, SkipLog: true}
	for _, c := range []struct {
		name string
		page func() (int, error)
	}{
		{"project-route", func() (int, error) {
			r, err := src.ProjectPage(ctx, cls.ProjectTarget{TopicID: ct.TopicID, Namespace: "default", MaxDuration: ct.MaxDuration}, q)
			return len(r), err
		}},
		{"function-page-with-response-lines", func() (int, error) {
			p, err := src.Page(ctx, target, q)
			return len(p.Executions), err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			before := caller.searches.Load()
			pages := 0
			for b.Loop() {
				n, err := c.page()
				if err != nil || n != 1000 {
					b.Fatalf("%d invocations, %v", n, err)
				}
				pages++
			}
			b.ReportMetric(float64(caller.searches.Load()-before)/float64(pages), "calls/op")
		})
	}
}

// loopbackSim is a simulator over loopback HTTP, stopped when the
// benchmark ends, of APITest at rate executions a second, answering every
// call after latency, its rate limits too high to time anything but the
// sources and the simulator.
func loopbackSim(b *testing.B, rate float64, latency time.Duration) *simEnv {
	b.Helper()
	cfg := tencentsim.DefaultConfig()
	cfg.Accounts = []tencentsim.Account{{SecretID: testenv.SecretID, SecretKey: testenv.SecretKey}}
	cfg.Functions = []tencentsim.Function{{Name: "APITest", RatePerSecond: rate}}
	cfg.RateLimit = 1_000_000 // the simulator's 5/s would time the budget, not the source
	cfg.Faults.Latency = latency
	sim, err := tencentsim.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return &simEnv{&testenv.Simulator{Simulator: sim, Server: srv, Host: strings.TrimPrefix(srv.URL, "http://"), Location: loc}}
}
