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
			Name: "mudscf_upstream_calls_total", Help: "Calls made upstream, by account (its configured alias), API and result (the call's outcome: ok, rate_limited, invalid_request, internal_error, timeout, ...).",
		}, []string{"account", "api", "result"}),
		breakers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_upstream_breaker_state",
			Help: "Upstream circuit breakers in each state, by account, region and API (one breaker per account, region and API, and for SearchLog per log topic); an open one turns half-open at the next call after its openFor.",
		}, []string{"account", "region", "api", "state"}),
		breakerChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_upstream_breaker_transitions_total", Help: "Upstream circuit breaker state changes, by account, region, API and the state entered.",
		}, []string{"account", "region", "api", "state"}),
	}
	reg.MustRegister(m.calls, m.breakers, m.breakerChanges)
	return m
}

// account pre-creates the call series of one account's API, so that
// dashboards and alerts see a 0 rather than no series before the first
// event: every outcome a sent call of api can end in (topic_busy only
// where the API has a per-topic limit).
func (m *Metrics) account(account string, api API) {
	for _, o := range sentOutcomes {
		if o == TopicBusy && api.PerTopic == 0 {
			continue
		}
		m.calls.WithLabelValues(account, api.Action, o.String())
	}
}

func (m *Metrics) call(account, api string, o Outcome) {
	m.calls.WithLabelValues(account, api, o.String()).Inc()
}

// breakerLabels name one breaker's series: its account (alias), region
// and API.
type breakerLabels struct{ account, region, api string }

// newBreaker pre-creates the series of a new breaker's labels and counts
// it closed.
func (m *Metrics) newBreaker(l breakerLabels) {
	for _, st := range []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen} {
		m.breakers.WithLabelValues(l.account, l.region, l.api, st.String())
		m.breakerChanges.WithLabelValues(l.account, l.region, l.api, st.String())
	}
	m.breakers.WithLabelValues(l.account, l.region, l.api, gobreaker.StateClosed.String()).Inc()
}

// breakerStateChanged moves one breaker from one state to another.
func (m *Metrics) breakerStateChanged(l breakerLabels, from, to gobreaker.State) {
	m.breakers.WithLabelValues(l.account, l.region, l.api, from.String()).Dec()
	m.breakerChanges.WithLabelValues(l.account, l.region, l.api, to.String()).Inc()
	m.breakers.WithLabelValues(l.account, l.region, l.api, to.String()).Inc()
}
