package budget

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are what the budgets cost callers: how long they waited for a
// slot, and how many were refused.
type Metrics struct {
	waits    *prometheus.HistogramVec
	rejected *prometheus.CounterVec
}

// NewMetrics registers the budget series on reg, each label set at 0.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		waits: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_budget_wait_seconds", Help: "Time calls waited for an upstream budget slot, by priority.",
			Buckets: []float64{0, .01, .05, .1, .2, .5, 1, 2, 5},
		}, []string{"priority"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_budget_rejections_total", Help: "Calls refused because no budget slot was free before their deadline, by priority.",
		}, []string{"priority"}),
	}
	reg.MustRegister(m.waits, m.rejected)
	for _, p := range []Priority{Interactive, Background} {
		m.waits.WithLabelValues(p.String())
		m.rejected.WithLabelValues(p.String())
	}
	return m
}

// Instrument records l's waits and refusals.
func (m *Metrics) Instrument(l Limiter) Limiter { return instrumented{l, m} }

type instrumented struct {
	Limiter
	m *Metrics
}

func (i instrumented) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	g, waited, err := i.Limiter.Acquire(ctx, p)
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		i.m.rejected.WithLabelValues(p.String()).Inc()
	default:
		i.m.waits.WithLabelValues(p.String()).Observe(waited.Seconds())
	}
	return g, waited, err
}
