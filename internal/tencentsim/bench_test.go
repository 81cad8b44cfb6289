package tencentsim

import (
	"testing"
	"time"
)

// A full 24 h window at one execution per second: the case the simulator
// must answer well under 100 ms.
func benchSim(b *testing.B) (*Simulator, *fakeClock) {
	return newSim(b, func(c *Config) {
		noRateLimit(c)
		c.Functions = []Function{{Name: "busy", RatePerSecond: 1}}
	})
}

func BenchmarkGetFunctionLogs24h(b *testing.B) {
	for _, tc := range []struct{ name, body string }{
		{"start_time", `{"Limit":100}`},
		{"duration/offset9900", `{"OrderBy":"duration","Offset":9900,"Limit":100}`},
		{"not0", `{"Filter":{"RetCode":"not0"},"Limit":100}`},
		{"limit10000", `{"Limit":10000}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, clock := benchSim(b)
			for b.Loop() {
				r := call(b, s, clock, tc.body)
				if r.TotalCount < 80000 && tc.name != "not0" {
					b.Fatalf("TotalCount %d", r.TotalCount)
				}
			}
		})
	}
}

func BenchmarkExecutions24h(b *testing.B) {
	s, clock := benchSim(b)
	now := clock.Now()
	for b.Loop() {
		if n := len(s.Executions("", "", "", now.Add(-24*time.Hour), now)); n < 80000 {
			b.Fatal(n)
		}
	}
}
