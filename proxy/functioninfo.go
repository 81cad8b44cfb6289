package proxy

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mudscf/mudscf/internal/logsource"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// How often the catalog asks GetFunction again: a failed lookup after
// lookupRetry, doubling up to lookupRefresh; a function's memory size,
// which its owner may change, every lookupRefresh.
const (
	lookupRetry   = 30 * time.Second
	lookupRefresh = time.Hour
)

// functionInfo exports what each configured function is on Tencent's side,
// for dashboards to show names instead of Mudbase IDs and to price
// executions: mudscf_function_info, and mudscf_function_memory_size_bytes
// from the configuration or, when it gives none, from SCF's GetFunction.
type functionInfo struct {
	info    *prometheus.GaugeVec
	memory  *prometheus.GaugeVec
	lookups []lookup
	logger  *slog.Logger
}

// lookup is a function whose memory size GetFunction gives.
type lookup struct {
	project, function string
	target            translate.Target
	caller            logsource.Caller
}

// newFunctionInfo registers the function metrics on reg.
func newFunctionInfo(reg prometheus.Registerer, logger *slog.Logger) *functionInfo {
	c := &functionInfo{
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_function_info",
			Help: "1 for each configured function: its Mudbase project and function IDs and the Tencent function behind them.",
		}, []string{"project", "function", "function_name", "scf_namespace", "qualifier", "region"}),
		memory: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_function_memory_size_bytes",
			Help: "The configured memory of each function, which Tencent bills by (GB-seconds).",
		}, []string{"project", "function"}),
		logger: logger,
	}
	reg.MustRegister(c.info, c.memory)
	return c
}

// add exports one function. memoryMB is its configured memory size; 0
// leaves it to GetFunction through caller.
func (c *functionInfo) add(project, function, region string, t translate.Target, memoryMB int64, caller logsource.Caller) {
	c.info.WithLabelValues(project, function, t.FunctionName, t.Namespace, t.Qualifier, region).Set(1)
	if memoryMB > 0 {
		c.memory.WithLabelValues(project, function).Set(float64(memoryMB << 20))
		return
	}
	c.lookups = append(c.lookups, lookup{project: project, function: function, target: t, caller: caller})
}

// run looks the memory sizes up until ctx ends, at background priority:
// interactive clients go first in GetFunction's budget too.
func (c *functionInfo) run(ctx context.Context) {
	if len(c.lookups) == 0 {
		return
	}
	ctx = budget.WithPriority(ctx, budget.Background)
	wait := make([]time.Duration, len(c.lookups))
	next := make([]time.Time, len(c.lookups))
	for {
		now := time.Now()
		soonest := now.Add(lookupRefresh)
		for i, l := range c.lookups {
			if now.Before(next[i]) {
				soonest = earliest(soonest, next[i])
				continue
			}
			d, err := logsource.Describe(ctx, l.caller, l.target)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil || d.MemoryBytes <= 0:
				wait[i] = min(max(2*wait[i], lookupRetry), lookupRefresh)
				c.logger.Warn("looking up a function's memory size failed; its cost stays unknown until a retry succeeds",
					slog.String("project", l.project), slog.String("function", l.function),
					slog.String("outcome", upstream.Classify(err).String()), slog.Duration("retry_in", wait[i]))
			default:
				wait[i] = lookupRefresh
				c.memory.WithLabelValues(l.project, l.function).Set(float64(d.MemoryBytes))
			}
			next[i] = time.Now().Add(wait[i])
			soonest = earliest(soonest, next[i])
		}
		t := time.NewTimer(time.Until(soonest))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
