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
// and its stats — through each source, against the simulator over
// loopback HTTP: what a miss costs in upstream calls (calls/op) and in
// time, the budgets set high so that only the source's own work and the
// simulator's answers count. .ci/bench/sources.sh turns it into
// BENCHMARKS.md's section.
func BenchmarkMissPerSource(b *testing.B) {
	cfg := tencentsim.DefaultConfig()
	cfg.Accounts = []tencentsim.Account{{SecretID: testenv.SecretID, SecretKey: testenv.SecretKey}}
	cfg.Functions = []tencentsim.Function{{Name: "APITest", RatePerSecond: 0.2}}
	cfg.RateLimit = 1_000_000 // the simulator's 5/s would time the budget, not the source
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
	calls := map[string]func() int64{
		"getFunctionLogs": func() int64 { return sim.Truth().TotalAccepted[testSecretID] },
		"cls": func() int64 {
			t := sim.Truth()
			return t.APIs["SearchLog"].TotalAccepted[testSecretID]
		},
	}
	target := translate.Target{FunctionName: "APITest", Namespace: "default"}
	for _, s := range []struct {
		name string
		src  LogSource
	}{{"getFunctionLogs", gfl}, {"cls", cls}} {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			until := time.Now().Truncate(time.Second)
			// The topic lookup (GetFunction) is cached after the first
			// request; the benchmark measures misses after it.
			if _, err := s.src.Page(ctx, target, translate.Query{Limit: 1, Order: translate.OrderDesc, Since: until.Add(-time.Hour), Until: until}); err != nil {
				b.Fatal(err)
			}
			before := calls[s.name]()
			n := 0
			for b.Loop() {
				q := translate.Query{Limit: 20, Offset: int64(n % 200), Order: translate.OrderDesc, Since: until.Add(-time.Hour), Until: until}
				n++
				if _, err := s.src.Page(ctx, target, q); err != nil {
					b.Fatal(err)
				}
				if _, err := s.src.Stats(ctx, target, q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(calls[s.name]()-before)/float64(n), "calls/op")
		})
	}
}
