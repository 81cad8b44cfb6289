package upstream

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// Metrics are the upstream calls made and the breakers' states.
type Metrics struct {
	calls          *prometheus.CounterVec
	breakers       *prometheus.GaugeVec
	breakerChanges *prometheus.CounterVec
}

// NewMetrics registers the upstream series on reg, each label set at 0, so
// that dashboards and alerts see a 0 rather than no series before the
// first event.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_upstream_calls_total", Help: "GetFunctionLogs calls made upstream, by result.",
		}, []string{"result"}),
		breakers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_upstream_breaker_state",
			Help: "Upstream circuit breakers (one per account and region) in each state; an open one turns half-open at the next call after its openFor.",
		}, []string{"state"}),
		breakerChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_upstream_breaker_transitions_total", Help: "Upstream circuit breaker state changes, by the state entered.",
		}, []string{"state"}),
	}
	reg.MustRegister(m.calls, m.breakers, m.breakerChanges)
	for _, st := range []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen} {
		m.breakers.WithLabelValues(st.String())
		m.breakerChanges.WithLabelValues(st.String())
	}
	for _, o := range []Outcome{OK, RateLimited, AuthFailure, ClientError, Timeout, Unreachable, BadResponse} {
		m.calls.WithLabelValues(o.callLabel())
	}
	return m
}

func (m *Metrics) call(o Outcome) {
	m.calls.WithLabelValues(o.callLabel()).Inc()
}

// breakerStateChanged moves one breaker from one state (nil: a new
// breaker) to another.
func (m *Metrics) breakerStateChanged(from *gobreaker.State, to gobreaker.State) {
	if from != nil {
		m.breakers.WithLabelValues(from.String()).Dec()
		m.breakerChanges.WithLabelValues(to.String()).Inc()
	}
	m.breakers.WithLabelValues(to.String()).Inc()
}
