package proxy

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sony/gobreaker/v2"
)

// Metrics are the proxy's own Prometheus metrics. Label values come from
// small fixed sets (routes, classes of result), never from client input.
type Metrics struct {
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	cacheResults    *prometheus.CounterVec
	cacheBytes      prometheus.Gauge
	cacheEvictions  prometheus.Counter
	upstreamCalls   *prometheus.CounterVec
	budgetWaits     *prometheus.HistogramVec
	budgetRejected  *prometheus.CounterVec
	collapsed       *prometheus.CounterVec
	breakers        *prometheus.GaugeVec
	breakerChanges  *prometheus.CounterVec

	redisOnce sync.Once
	redis     *redisMetrics

	// Children for the hot path's labels, resolved once: WithLabelValues
	// hashes and looks up its labels on every call.
	logsOK       prometheus.Counter
	logsDuration prometheus.Observer
	cacheByLabel map[[2]string]prometheus.Counter
}

// NewMetrics registers the proxy's metrics, plus the Go runtime's and the
// process's, on a registry of its own.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_http_requests_total", Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_http_request_duration_seconds", Help: "Time to serve an HTTP request, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		cacheResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_cache_requests_total", Help: "Cache lookups by kind (page, stats) and result (hit, miss, stale).",
		}, []string{"kind", "result"}),
		cacheBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mudscf_cache_size_bytes", Help: "Bytes of cached response bodies.",
		}),
		cacheEvictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mudscf_cache_evictions_total", Help: "Entries evicted early to keep the cache under its byte bound.",
		}),
		upstreamCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_upstream_calls_total", Help: "GetFunctionLogs calls made upstream, by result.",
		}, []string{"result"}),
		budgetWaits: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_budget_wait_seconds", Help: "Time calls waited for an upstream budget slot, by priority.",
			Buckets: []float64{0, .01, .05, .1, .2, .5, 1, 2, 5},
		}, []string{"priority"}),
		budgetRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_budget_rejections_total", Help: "Calls refused because no budget slot was free before their deadline, by priority.",
		}, []string{"priority"}),
		collapsed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_collapsed_requests_total", Help: "Cache misses answered by another request's upstream call, by kind.",
		}, []string{"kind"}),
	}
	m.breakers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "mudscf_upstream_breaker_state",
		Help: "Upstream circuit breakers (one per account and region) in each state; an open one turns half-open at the next call after its openFor.",
	}, []string{"state"})
	m.breakerChanges = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mudscf_upstream_breaker_transitions_total", Help: "Upstream circuit breaker state changes, by the state entered.",
	}, []string{"state"})
	reg.MustRegister(m.requests, m.requestDuration, m.cacheResults, m.cacheBytes, m.cacheEvictions,
		m.upstreamCalls, m.budgetWaits, m.budgetRejected, m.collapsed, m.breakers, m.breakerChanges)
	for _, st := range []gobreaker.State{gobreaker.StateClosed, gobreaker.StateHalfOpen, gobreaker.StateOpen} {
		m.breakers.WithLabelValues(st.String())
		m.breakerChanges.WithLabelValues(st.String())
	}
	// Every label combination exists from the start, so that dashboards
	// and alerts see a 0 rather than no series before the first event.
	for _, r := range []string{"ok", "rate_limited", "auth_failure", "api_error", "timeout", "unreachable", "bad_response"} {
		m.upstreamCalls.WithLabelValues(r)
	}
	m.logsOK = m.requests.WithLabelValues(LogsRoute, "200")
	m.logsDuration = m.requestDuration.WithLabelValues(LogsRoute)
	m.cacheByLabel = map[[2]string]prometheus.Counter{}
	for _, kind := range []string{"page", "stats"} {
		m.collapsed.WithLabelValues(kind)
		for _, result := range []string{"hit", "miss", "stale"} {
			m.cacheByLabel[[2]string{kind, result}] = m.cacheResults.WithLabelValues(kind, result)
		}
	}
	for _, p := range []Priority{Interactive, Background} {
		m.budgetWaits.WithLabelValues(priorityLabel(p))
		m.budgetRejected.WithLabelValues(priorityLabel(p))
	}
	return m
}

// request counts a served request and its duration.
func (m *Metrics) request(route string, status int, elapsed time.Duration) {
	if route == LogsRoute && status == http.StatusOK {
		m.logsOK.Inc()
		m.logsDuration.Observe(elapsed.Seconds())
		return
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(elapsed.Seconds())
}

// cacheResult counts one cache lookup of kind (page, stats) by result
// (hit, miss, stale).
func (m *Metrics) cacheResult(kind, result string) {
	m.cacheByLabel[[2]string{kind, result}].Inc()
}

func priorityLabel(p Priority) string {
	if p == Background {
		return "background"
	}
	return "interactive"
}

func (m *Metrics) budgetWait(p Priority, waited time.Duration, err error) {
	var be *BudgetError
	if errors.As(err, &be) {
		m.budgetRejected.WithLabelValues(priorityLabel(p)).Inc()
		return
	}
	m.budgetWaits.WithLabelValues(priorityLabel(p)).Observe(waited.Seconds())
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

func (m *Metrics) upstreamResult(err error) {
	m.upstreamCalls.WithLabelValues(upstreamResultLabel(err)).Inc()
}

func upstreamResultLabel(err error) string {
	var apiErr *APIError
	var tErr *TransportError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &apiErr) && strings.HasPrefix(apiErr.Code, "RequestLimitExceeded"):
		return "rate_limited"
	case errors.As(err, &apiErr) && strings.HasPrefix(apiErr.Code, "AuthFailure"):
		return "auth_failure"
	case errors.As(err, &apiErr):
		return "api_error"
	case errors.As(err, &tErr) && tErr.Failure == TimedOut:
		return "timeout"
	case errors.As(err, &tErr) && tErr.Failure == BadResponse:
		return "bad_response"
	default:
		return "unreachable"
	}
}
