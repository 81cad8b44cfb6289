package budget

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the budgets' limits and what they cost callers: how long
// they waited for a slot, and how many were refused. Accounts are labelled
// by their configured alias, never by a SecretId.
type Metrics struct {
	limits   *prometheus.GaugeVec
	waits    *prometheus.HistogramVec
	rejected *prometheus.CounterVec
}

// NewMetrics registers the budget series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		limits: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_budget_limit_requests_per_second", Help: "The configured limit of calls per sliding second, by account and API.",
		}, []string{"account", "api"}),
		waits: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_budget_wait_seconds", Help: "Time calls waited for an upstream budget slot, by account, API and priority.",
			Buckets: []float64{0, .01, .05, .1, .2, .5, 1, 2, 5},
		}, []string{"account", "api", "priority"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_budget_rejections_total", Help: "Calls refused because no budget slot was free before their deadline, by account, API and priority.",
		}, []string{"account", "api", "priority"}),
	}
	reg.MustRegister(m.limits, m.waits, m.rejected)
	return m
}

// Instrument records the waits and refusals of l, the budget of api
// (e.g. GetFunctionLogs) on account (its alias), whose limit is
// perSecond; every label set starts at 0.
func (m *Metrics) Instrument(l Limiter, account, api string, perSecond int) Limiter {
	m.limits.WithLabelValues(account, api).Set(float64(perSecond))
	return m.InstrumentWaits(l, account, api)
}

// InstrumentWaits records the waits and refusals of l, a budget of api on
// account that is not a rate (a concurrency limit, say).
func (m *Metrics) InstrumentWaits(l Limiter, account, api string) Limiter {
	i := instrumented{Limiter: l}
	for p := range i.waits {
		prio := Priority(p).String()
		i.waits[p] = m.waits.WithLabelValues(account, api, prio)
		i.rejected[p] = m.rejected.WithLabelValues(account, api, prio)
	}
	return i
}

type instrumented struct {
	Limiter
	waits    [2]prometheus.Observer // by Priority
	rejected [2]prometheus.Counter
}

func (i instrumented) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	g, waited, err := i.Limiter.Acquire(ctx, p)
	var refused *RefusedError
	if errors.As(err, &refused) {
		i.rejected[p].Inc()
	} else {
		i.waits[p].Observe(waited.Seconds())
	}
	return g, waited, err
}
