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
	cfg := tencentsim.DefaultConfig()
	cfg.Accounts = []tencentsim.Account{{SecretID: testenv.SecretID, SecretKey: testenv.SecretKey}}
	cfg.Functions = []tencentsim.Function{{Name: "APITest", RatePerSecond: 0.2}}
	cfg.RateLimit = 1_000_000        // the simulator's 5/s would time the budget, not the source
	cfg.Faults.Latency = missLatency // every action's, CLS's too
	sim, err := tencentsim.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	env := &simEnv{&testenv.Simulator{Simulator: sim, Host: strings.TrimPrefix(srv.URL, "http://"), Location: loc}}
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
