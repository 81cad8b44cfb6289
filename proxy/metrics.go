package proxy

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"go.opentelemetry.io/otel/trace"
)

// Metrics is the proxy's registry and its own series: requests, the
// cache and the flights. The upstream, budget and Redis packages register
// theirs on the same registry. Label values come from small fixed sets
// (routes, classes of result), never from client input.
type Metrics struct {
	Registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	cacheResults    *prometheus.CounterVec
	cacheBytes      prometheus.Gauge
	cacheEvictions  prometheus.Counter
	collapsed       *prometheus.CounterVec
	refreshQueue    prometheus.Gauge
	refreshes       *prometheus.CounterVec
	compressions    *prometheus.CounterVec
	answerAge       *prometheus.HistogramVec

	// Children for the hot path's labels, resolved once: WithLabelValues
	// hashes and looks up its labels on every call.
	logsOK       prometheus.Counter
	logsDuration prometheus.Observer
	cacheByLabel [2][numResults]prometheus.Counter // [page, stats][result]
	ageByResult  [numResults]prometheus.Observer
}

// NewMetrics registers the proxy's metrics, plus the Go runtime's, the
// process's and mudscf_build_info (the version stamped at build), on a
// registry of its own.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("mudscf"))
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
			Name: "mudscf_cache_requests_total", Help: "Cache lookups by kind (page, stats) and result: hit, miss, revalidate (past its TTL, answered while a background refresh runs), stale (the last good answer while the upstream fails).",
		}, []string{"kind", "result"}),
		cacheBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mudscf_cache_size_bytes", Help: "Bytes of cached response bodies.",
		}),
		cacheEvictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mudscf_cache_evictions_total", Help: "Entries evicted early to keep the cache under its byte bound.",
		}),
		collapsed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_collapsed_requests_total", Help: "Cache misses answered by another request's upstream call, by kind.",
		}, []string{"kind"}),
		refreshQueue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mudscf_cache_refresh_queue", Help: "Background refreshes of stale entries waiting or running.",
		}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_cache_refreshes_total", Help: "Background refreshes of stale entries, by result (ok, refused by the budget, error).",
		}, []string{"result"}),
		compressions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_cache_compressions_total", Help: "Response parts compressed with gzip, by kind (page, stats): once per cache fill, never per answer.",
		}, []string{"kind"}),
		// From a miss (0) and a hit a few seconds old (TTLs of 5–30 s) to
		// the last good answer at cache.staleMaxAge (10 min by default).
		// One observation per answer, so sum / count is the request-weighted
		// mean Age.
		answerAge: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_cache_answer_age_seconds", Help: "Age of each successful logs answer (its Age header, unrounded), by the worst of its parts' cache results: hit, miss, revalidate (past its TTL, refresh queued), stale (the last good answer while the upstream fails).",
			Buckets: []float64{1, 2, 5, 10, 15, 30, 60, 90, 120, 180, 300, 450, 600, 900},
		}, []string{"kind"}),
	}
	reg.MustRegister(m.answerAge, m.requests, m.requestDuration, m.cacheResults, m.cacheBytes, m.cacheEvictions, m.collapsed, m.refreshQueue, m.refreshes, m.compressions)
	for _, result := range []string{"ok", "refused", "error"} {
		m.refreshes.WithLabelValues(result)
	}
	// Every label combination exists from the start, so that dashboards
	// and alerts see a 0 rather than no series before the first event.
	m.logsOK = m.requests.WithLabelValues(LogsRoute, "200")
	m.logsDuration = m.requestDuration.WithLabelValues(LogsRoute)
	for r, name := range resultNames {
		m.ageByResult[r] = m.answerAge.WithLabelValues(name)
	}
	for k, kind := range []string{"page", "stats"} {
		m.collapsed.WithLabelValues(kind)
		m.compressions.WithLabelValues(kind)
		for r, name := range resultNames {
			m.cacheByLabel[k][r] = m.cacheResults.WithLabelValues(kind, name)
		}
	}
	return m
}

// request counts a served request and its duration. The duration of a
// request in a sampled trace carries the trace's ID as its exemplar, so
// that a slow bucket leads to a trace that shows why.
func (m *Metrics) request(route string, status int, elapsed time.Duration, span trace.SpanContext) {
	duration := m.logsDuration
	if route == LogsRoute && status == http.StatusOK {
		m.logsOK.Inc()
	} else {
		m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		duration = m.requestDuration.WithLabelValues(route)
	}
	if e, ok := duration.(prometheus.ExemplarObserver); ok && span.IsSampled() {
		e.ObserveWithExemplar(elapsed.Seconds(), prometheus.Labels{"trace_id": span.TraceID().String()})
		return
	}
	duration.Observe(elapsed.Seconds())
}

// cacheResult counts one cache lookup of kind (page, stats) by result.
// The children are indexed, not looked up by label: this runs twice on
// every hit.
func (m *Metrics) cacheResult(kind string, r result) {
	k := 0
	if kind == "stats" {
		k = 1
	}
	m.cacheByLabel[k][r].Inc()
}

// answered records the age of one successful answer, under the result of
// its worst part.
func (m *Metrics) answered(r result, age time.Duration) {
	m.ageByResult[r].Observe(age.Seconds())
}
