package exporter

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

// metrics follow Prometheus's naming guidelines: base units (seconds,
// bytes), _total for counters, ratios 0-1. Labels are configured project
// and function IDs and small fixed sets, never free text.
type metrics struct {
	registry *prometheus.Registry

	executions     *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	memory         *prometheus.HistogramVec
	billedSeconds  *prometheus.CounterVec
	costGBSeconds  *prometheus.CounterVec
	retries        *prometheus.CounterVec
	lastRun        *prometheus.GaugeVec
	windowExecs    *prometheus.GaugeVec
	windowSuccess  *prometheus.GaugeVec
	windowDuration *prometheus.GaugeVec

	polls        *prometheus.CounterVec
	pollDuration *prometheus.HistogramVec
	lag          *prometheus.GaugeVec
	up           *prometheus.GaugeVec
	lastSuccess  *prometheus.GaugeVec

	checkpointFailures    prometheus.Counter
	checkpointLastSuccess prometheus.Gauge
}

var fn = []string{"project", "function"}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("mudscf"))
	m := &metrics{
		registry: reg,
		executions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_function_executions_total",
			Help: "Function executions, by project, function, status (success, failed), trigger and outcome (success, error, timeout, out_of_memory, platform_error, unfinished).",
		}, []string{"project", "function", "status", "trigger", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_function_execution_duration_seconds", Help: "Execution time of function executions.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
		}, fn),
		memory: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_function_memory_usage_bytes", Help: "Peak memory used by function executions.",
			Buckets: prometheus.ExponentialBuckets(8<<20, 2, 10), // 8 MiB .. 4 GiB
		}, fn),
		billedSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_function_billed_duration_seconds_total", Help: "Billed duration of function executions.",
		}, fn),
		costGBSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_function_cost_gigabyte_seconds_total", Help: "Billed resource usage: configured memory in GB times billed seconds; only functions with a configured memory size.",
		}, fn),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_function_retries_total", Help: "Retries of function executions, as the upstream reports them.",
		}, fn),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_function_last_run_timestamp_seconds", Help: "Start of the newest execution seen, as a Unix time.",
		}, fn),
		windowExecs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_function_window_executions", Help: "Executions in the endpoint's stats window (the last 24 hours).",
		}, fn),
		windowSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_function_window_success_ratio", Help: "Share of successful executions in the stats window, 0 to 1.",
		}, fn),
		windowDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_function_window_average_duration_seconds", Help: "Average execution time in the stats window.",
		}, fn),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_exporter_polls_total", Help: "Requests to the logs endpoint, by result (ok, throttled, error).",
		}, []string{"project", "function", "result"}),
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_exporter_poll_duration_seconds", Help: "Time of one request to the logs endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, fn),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_exporter_lag_seconds", Help: "Time since the start of the newest execution exported, at the last successful poll.",
		}, fn),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_exporter_up", Help: "1 if the last poll of the function succeeded, else 0.",
		}, fn),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_exporter_last_success_timestamp_seconds", Help: "End of the function's last turn without an error, as a Unix time.",
		}, fn),
		checkpointFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mudscf_exporter_checkpoint_save_failures_total", Help: "Checkpoint writes that failed.",
		}),
		checkpointLastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mudscf_exporter_checkpoint_last_success_timestamp_seconds", Help: "Time of the last checkpoint written, as a Unix time.",
		}),
	}
	reg.MustRegister(m.executions, m.duration, m.memory, m.billedSeconds, m.costGBSeconds, m.retries, m.lastRun,
		m.windowExecs, m.windowSuccess, m.windowDuration, m.polls, m.pollDuration, m.lag, m.up, m.lastSuccess,
		m.checkpointFailures, m.checkpointLastSuccess)
	return m
}

// precreate makes a configured function's series exist at 0 before its
// first execution, so that error ratios read 0 rather than no data. The
// trigger is "unknown" until an endpoint reports one.
func (m *metrics) precreate(f FunctionConfig) {
	p, fnID := f.Project, f.Function
	for _, o := range outcomes {
		m.executions.WithLabelValues(p, fnID, statusOf(o), "unknown", o)
	}
	for _, result := range []string{"ok", "throttled", "error"} {
		m.polls.WithLabelValues(p, fnID, result)
	}
	m.billedSeconds.WithLabelValues(p, fnID)
	m.retries.WithLabelValues(p, fnID)
	if f.MemorySizeMB > 0 {
		m.costGBSeconds.WithLabelValues(p, fnID)
	}
}

// cursorAge is mudscf_exporter_cursor_age_seconds, computed at each scrape
// so that it keeps growing while the endpoint fails (a gauge set by the
// polling loop would freeze at its last value).
type cursorAge struct {
	desc   *prometheus.Desc
	now    func() time.Time
	fns    []FunctionConfig
	states map[string]*fnState // read-only after New; cursors are atomic
}

func newCursorAge(now func() time.Time, fns []FunctionConfig, states map[string]*fnState) *cursorAge {
	return &cursorAge{
		desc: prometheus.NewDesc("mudscf_exporter_cursor_age_seconds",
			"Now minus the function's scan cursor: how far behind the exporter is (absent before the first cursor).", fn, nil),
		now: now, fns: fns, states: states,
	}
}

func (c *cursorAge) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *cursorAge) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	for _, f := range c.fns {
		ns := c.states[f.key()].cursorNanos.Load()
		if ns == 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, now.Sub(time.Unix(0, ns)).Seconds(), f.Project, f.Function)
	}
}
