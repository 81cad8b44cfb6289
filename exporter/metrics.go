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

	executions    *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	memory        *prometheus.HistogramVec
	billedSeconds *prometheus.CounterVec
	retries       *prometheus.CounterVec
	lastRun       *prometheus.GaugeVec

	polls        *prometheus.CounterVec
	pollDuration *prometheus.HistogramVec

	capacity       *prometheus.GaugeVec
	polledFunction *prometheus.GaugeVec

	checkpointFailures    prometheus.Counter
	checkpointLastSuccess prometheus.Gauge
	checkpointBytes       prometheus.Counter
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
			Help: "Function executions, by project, function and outcome (success, error, timeout, out_of_memory, platform_error, unfinished).",
		}, []string{"project", "function", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_function_execution_duration_seconds", Help: "Execution time of function executions; exemplars carry the execution span's trace_id.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
		}, fn),
		memory: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_function_memory_usage_bytes", Help: "Peak memory used by function executions.",
			Buckets: prometheus.ExponentialBuckets(8<<20, 2, 10), // 8 MiB .. 4 GiB
		}, fn),
		billedSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_function_billed_duration_seconds_total", Help: "Billed duration of function executions, where the source reports it (GetFunctionLogs does, CLS does not).",
		}, fn),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_function_retries_total", Help: "Retries of function executions, as the upstream reports them.",
		}, fn),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_function_last_run_timestamp_seconds", Help: "Start of the newest execution seen, as a Unix time.",
		}, fn),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_exporter_polls_total", Help: "Requests to the logs endpoint, by result (ok, throttled, error); a whole project's pages have function=\"\".",
		}, []string{"project", "function", "result"}),
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mudscf_exporter_poll_duration_seconds", Help: "Time of one request to the logs endpoint; a whole project's pages have function=\"\".",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, fn),
		capacity: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_exporter_function_capacity",
			Help: "Functions the account can have polled one by one within the interval: its calls per second times the interval, divided by the calls a function's turn takes (at least one).",
		}, []string{"account"}),
		polledFunction: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mudscf_exporter_polled_functions", Help: "Functions the exporter polls one by one (GetFunctionLogs) through the account.",
		}, []string{"account"}),
		checkpointFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mudscf_exporter_checkpoint_save_failures_total", Help: "Checkpoint writes that failed.",
		}),
		checkpointLastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mudscf_exporter_checkpoint_last_success_timestamp_seconds", Help: "Time of the last checkpoint written, as a Unix time.",
		}),
		checkpointBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mudscf_exporter_checkpoint_written_bytes_total", Help: "Bytes written to the checkpoint's journal and snapshots.",
		}),
	}
	reg.MustRegister(m.executions, m.duration, m.memory, m.billedSeconds, m.retries, m.lastRun,
		m.polls, m.pollDuration, m.capacity, m.polledFunction, m.checkpointFailures, m.checkpointLastSuccess, m.checkpointBytes)
	return m
}

// precreate makes a function's series exist at 0 before its first
// execution, so that error ratios read 0 rather than no data.
func (m *metrics) precreate(p, fnID string) {
	for _, o := range outcomes {
		m.executions.WithLabelValues(p, fnID, o)
	}
	m.billedSeconds.WithLabelValues(p, fnID)
	m.retries.WithLabelValues(p, fnID)
}

// precreatePolls makes a stream's poll series exist at 0.
func (m *metrics) precreatePolls(p, fnID string) {
	for _, result := range []string{"ok", "throttled", "error"} {
		m.polls.WithLabelValues(p, fnID, result)
	}
}

// stateCollector reports, at each scrape, what is computed from the
// exporter's state rather than set by the polling loop: per function, its
// stream's cursor age (which keeps growing through an outage, where a
// gauge set by the loop would freeze), whether its last poll succeeded
// and when one last did, and the window gauges of its last 24 hours.
type stateCollector struct {
	e                                  *Exporter
	cursorAge, up, lastSuccess         *prometheus.Desc
	windowExecs, windowOK, windowMeanS *prometheus.Desc
}

func newStateCollector(e *Exporter) *stateCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, fn, nil) }
	return &stateCollector{
		e:           e,
		cursorAge:   d("mudscf_exporter_cursor_age_seconds", "Now minus the function's scan cursor: how far behind the exporter is (absent before the first cursor). A whole project's functions share their topic's cursor."),
		up:          d("mudscf_exporter_up", "1 if the last poll of the function (or of its project's topic) succeeded, else 0."),
		lastSuccess: d("mudscf_exporter_last_success_timestamp_seconds", "End of the last turn without an error of the function (or of its project's topic), as a Unix time."),
		windowExecs: d("mudscf_function_window_executions", "Executions that started in the current clock hour and the 23 before it, as the exporter counted them."),
		windowOK:    d("mudscf_function_window_success_ratio", "Share of successful executions in the window, 0 to 1 (0 without executions)."),
		windowMeanS: d("mudscf_function_window_average_duration_seconds", "Mean execution time in the window (0 without executions)."),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.cursorAge, c.up, c.lastSuccess, c.windowExecs, c.windowOK, c.windowMeanS} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range e.fns {
		p, id := f.cfg.Project, f.cfg.Function
		execs, ok, durMs := f.hours.sums(now)
		ratio, mean := 0.0, 0.0
		if execs > 0 {
			ratio, mean = ok/execs, durMs/execs/1000
		}
		ch <- prometheus.MustNewConstMetric(c.windowExecs, prometheus.GaugeValue, execs, p, id)
		ch <- prometheus.MustNewConstMetric(c.windowOK, prometheus.GaugeValue, ratio, p, id)
		ch <- prometheus.MustNewConstMetric(c.windowMeanS, prometheus.GaugeValue, mean, p, id)
		s := e.streamOf(f)
		if s == nil {
			continue
		}
		if ns := s.cursorNanos.Load(); ns != 0 {
			ch <- prometheus.MustNewConstMetric(c.cursorAge, prometheus.GaugeValue, now.Sub(time.Unix(0, ns)).Seconds(), p, id)
		}
		if ms := s.lastSuccess.Load(); ms != 0 {
			ch <- prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue, float64(ms)/1000, p, id)
		}
		if s.polled.Load() {
			up := 0.0
			if s.up.Load() {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, p, id)
		}
	}
}
