package budget

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the budgets' limits and what they cost callers: how long
// they waited for a slot, and how many were refused, per project. Accounts
// are labelled by their configured alias, never by a SecretId.
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
			Name: "mudscf_budget_wait_seconds", Help: "Time calls waited for an upstream budget slot, by account, API, priority and project.",
			Buckets: []float64{0, .01, .05, .1, .2, .5, 1, 2, 5},
		}, []string{"account", "api", "priority", "project"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_budget_rejections_total", Help: "Calls refused because no budget slot was free before their deadline, by account, API, priority and project.",
		}, []string{"account", "api", "priority", "project"}),
	}
	reg.MustRegister(m.limits, m.waits, m.rejected)
	return m
}

// Instrument records the waits and refusals of l, the budget of api
// (e.g. GetFunctionLogs) on account (its alias), whose limit is
// perSecond; the label sets of the projects named start at 0.
func (m *Metrics) Instrument(l Limiter, account, api string, perSecond int, projects ...string) Limiter {
	m.limits.WithLabelValues(account, api).Set(float64(perSecond))
	return m.InstrumentWaits(l, account, api, projects...)
}

// InstrumentWaits records the waits and refusals of l, a budget of api on
// account that is not a rate (a concurrency limit, say). The series of
// the projects named start at 0; another project's at its first call (the
// projects are the configured ones, so the series stay few).
func (m *Metrics) InstrumentWaits(l Limiter, account, api string, projects ...string) Limiter {
	i := &instrumented{Limiter: l, m: m, account: account, api: api, byProject: map[string]*projectSeries{}}
	for _, project := range projects {
		i.series(project)
	}
	return i
}

type instrumented struct {
	Limiter
	m            *Metrics
	account, api string

	mu        sync.Mutex
	byProject map[string]*projectSeries
}

// projectSeries are one project's series, by Priority.
type projectSeries struct {
	waits    [2]prometheus.Observer
	rejected [2]prometheus.Counter
}

func (i *instrumented) series(project string) *projectSeries {
	i.mu.Lock()
	defer i.mu.Unlock()
	s, ok := i.byProject[project]
	if !ok {
		s = &projectSeries{}
		for p := range s.waits {
			prio := Priority(p).String()
			s.waits[p] = i.m.waits.WithLabelValues(i.account, i.api, prio, project)
			s.rejected[p] = i.m.rejected.WithLabelValues(i.account, i.api, prio, project)
		}
		i.byProject[project] = s
	}
	return s
}

// Acquire records a refusal, or the wait of a call granted or given up
// by its caller; a drained budget's answer is neither.
func (i *instrumented) Acquire(ctx context.Context, p Priority) (Grant, time.Duration, error) {
	g, waited, err := i.Limiter.Acquire(ctx, p)
	var refused *RefusedError
	switch s := i.series(ProjectOf(ctx)); {
	case errors.As(err, &refused):
		s.rejected[p].Inc()
	case errors.Is(err, ErrDraining):
	default:
		s.waits[p].Observe(waited.Seconds())
	}
	return g, waited, err
}
