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

// NewMetrics registers the upstream series on reg. Accounts are labelled
// by their configured alias, never by a SecretId.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_upstream_calls_total", Help: "Calls made upstream, by account (its configured alias), API and result.",
		}, []string{"account", "api", "result"}),
		breakers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_upstream_breaker_state",
			Help: "Upstream circuit breakers (one per account and region) in each state, by account; an open one turns half-open at the next call after its openFor.",
		}, []string{"account", "state"}),
		breakerChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_upstream_breaker_transitions_total", Help: "Upstream circuit breaker state changes, by account and the state entered.",
		}, []string{"account", "state"}),
	}
	reg.MustRegister(m.calls, m.breakers, m.breakerChanges)
	return m
}

// account pre-creates the series of one account, so that dashboards and
// alerts see a 0 rather than no series before the first event.
func (m *Metrics) account(account, api string) {
	for _, st := range []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen} {
		m.breakers.WithLabelValues(account, st.String())
		m.breakerChanges.WithLabelValues(account, st.String())
	}
	for _, o := range []Outcome{OK, RateLimited, AuthFailure, Rejected, Timeout, Unreachable, BadResponse} {
		m.calls.WithLabelValues(account, api, o.callLabel())
	}
}

func (m *Metrics) call(account, api string, o Outcome) {
	m.calls.WithLabelValues(account, api, o.callLabel()).Inc()
}

// breakerStateChanged moves one breaker of account from one state (nil: a
// new breaker) to another.
func (m *Metrics) breakerStateChanged(account string, from *gobreaker.State, to gobreaker.State) {
	if from != nil {
		m.breakers.WithLabelValues(account, from.String()).Dec()
		m.breakerChanges.WithLabelValues(account, to.String()).Inc()
	}
	m.breakers.WithLabelValues(account, to.String()).Inc()
}
