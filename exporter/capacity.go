package exporter

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// accountLoad is what one account's functions polled one by one cost in a
// round.
type accountLoad struct {
	callsPerSecond int
	functions      int
	calls, polled  int
}

// capacity is how many functions one account can have polled one by one
// within the interval: GetFunctionLogs allows callsPerSecond calls, and a
// function's turn costs callsPerFunction calls (one page when it ran less
// than a page's worth since the last round; the exporter reads no stats).
// The proxy's budget counts a call for a second from its answer, so an
// upstream answering in latency L makes callsPerSecond calls per 1 s + L:
// the figure assumes L small beside a second, as Tencent's is.
func capacity(callsPerSecond int, intervalSeconds, callsPerFunction float64) int {
	return int(math.Floor(float64(callsPerSecond) * intervalSeconds / max(callsPerFunction, 1)))
}

// measureCapacity sets each account's capacity. After a round (measured)
// it takes the calls its functions' turns took then (at least one each);
// at the start of a round, the last measured figure, or one call each
// before any: so the capacity is logged when the functions are first
// known, with a warning when the account has more functions than it can
// serve at the interval.
func (e *Exporter) measureCapacity(measured bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	loads := map[string]*accountLoad{}
	for _, p := range e.projects {
		if p.mode != modeFunction {
			continue
		}
		a, ok := loads[p.account]
		if !ok {
			a = &accountLoad{callsPerSecond: p.callsPerSecond}
			loads[p.account] = a
		}
		a.functions += len(p.listed)
		for _, f := range p.listed {
			if s := e.streams[functionStreamKey(p.id, f.Function)]; s != nil {
				a.calls += s.calls
				if s.calls > 0 {
					a.polled++
				}
				if measured {
					s.calls = 0
				}
			}
		}
	}
	for _, account := range slices.Sorted(maps.Keys(loads)) {
		a := loads[account]
		perFunction := cmp.Or(e.callsPerFunction[account], 1)
		if measured && a.polled > 0 {
			perFunction = float64(a.calls) / float64(a.polled)
			e.callsPerFunction[account] = perFunction
		}
		c := capacity(a.callsPerSecond, e.cfg.Interval.Seconds(), perFunction)
		e.metrics.capacity.WithLabelValues(account).Set(float64(c))
		e.metrics.polledFunction.WithLabelValues(account).Set(float64(a.functions))
		if e.loggedCapacity[account] {
			continue
		}
		e.loggedCapacity[account] = true
		attrs := []any{"account", account, "functions", a.functions, "capacity", c, "interval_seconds", e.cfg.Interval.Seconds(),
			"calls_per_second", a.callsPerSecond, "calls_per_function", perFunction}
		if a.functions > c {
			e.logger.Warn("the account has more functions than it can poll one by one within the interval: each waits longer than the interval for its turn (read the project from CLS, lengthen the interval, or split its functions over accounts)", attrs...)
		} else {
			e.logger.Info("functions the account can poll one by one within the interval", attrs...)
		}
	}
}
