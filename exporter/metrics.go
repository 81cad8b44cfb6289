package exporter

import (
	"cmp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"go.opentelemetry.io/otel/trace"
)

// metrics follow Prometheus's naming guidelines: base units (seconds,
// bytes), _total for counters, ratios 0-1. Labels are configured project
// and function IDs and small fixed sets, never free text.
//
// The per-function and per-stream families are made at each scrape from
// the exporter's own state (stateCollector), which it keeps anyway (the
// checkpoint holds the counters): client_golang's children would hold a
// second copy of every series, several kilobytes per function, which at
// 10,000 functions is most of the exporter's memory.
type metrics struct {
	registry *prometheus.Registry

	capacity       *prometheus.GaugeVec
	polledFunction *prometheus.GaugeVec

	checkpointFailures    prometheus.Counter
	checkpointLastSuccess prometheus.Gauge
	checkpointBytes       prometheus.Counter
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("mudscf"))
	m := &metrics{
		registry: reg,
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
	reg.MustRegister(m.capacity, m.polledFunction, m.checkpointFailures, m.checkpointLastSuccess, m.checkpointBytes)
	return m
}

// The histograms' buckets.
var (
	durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900}
	memoryBuckets   = prometheus.ExponentialBuckets(8<<20, 2, 10) // 8 MiB .. 4 GiB
	pollBuckets     = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

// histogram counts observations by bucket (the last is +Inf), not
// cumulatively: an observation touches one count. Its counts are made at
// the first observation.
type histogram struct {
	counts []uint64
	sum    float64
}

// observe counts v and returns its bucket.
func (h *histogram) observe(bounds []float64, v float64) int {
	if h.counts == nil {
		h.counts = make([]uint64, len(bounds)+1)
	}
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
	return i
}

// add counts o's observations too.
func (h *histogram) add(o histogram) {
	if o.counts == nil {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, len(o.counts))
	}
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.sum += o.sum
}

// clone is a copy that does not share the counts.
func (h histogram) clone() histogram {
	h.counts = slices.Clone(h.counts)
	return h
}

// metric is h as a Prometheus histogram of desc.
func (h histogram) metric(desc *prometheus.Desc, bounds []float64, labels ...string) prometheus.Metric {
	cumulative := make(map[float64]uint64, len(bounds))
	var n uint64
	for i, b := range bounds {
		n += h.counts[i]
		cumulative[b] = n
	}
	n += h.counts[len(bounds)]
	return prometheus.MustNewConstHistogram(desc, n, h.sum, cumulative, labels...)
}

// exemplar is the last execution that fell in one bucket of the duration
// histogram: its value, its span's trace ID and when it was recorded.
type exemplar struct {
	value   float64
	traceID trace.TraceID
	at      time.Time
}

// stateCollector reports, at each scrape, the series made from the
// exporter's state: per function its counters and histograms, its
// stream's cursor age (which keeps growing through an outage, where a
// gauge set by the polling loop would freeze), whether its last poll
// succeeded and when one last did, and the window gauges of its last 24
// hours; per stream its polls.
type stateCollector struct {
	e                                    *Exporter
	executions, billed, retries, lastRun *prometheus.Desc
	duration, memory                     *prometheus.Desc
	cursorAge, up, lastSuccess           *prometheus.Desc
	windowExecs, windowOK, windowMeanS   *prometheus.Desc
	polls, pollDuration                  *prometheus.Desc
}

func newStateCollector(e *Exporter) *stateCollector {
	fn := []string{"project", "function"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(fn, labels...), nil)
	}
	return &stateCollector{
		e: e,
		executions: d("mudscf_function_executions_total",
			"Function executions, by project, function and outcome (success, error, timeout, out_of_memory, platform_error, unfinished); every outcome of a known function is exported from 0.", "outcome"),
		billed:       d("mudscf_function_billed_duration_seconds_total", "Billed duration of function executions, where the source reports it (GetFunctionLogs does, CLS does not)."),
		retries:      d("mudscf_function_retries_total", "Retries of function executions, as the upstream reports them."),
		lastRun:      d("mudscf_function_last_run_timestamp_seconds", "Start of the newest execution seen, as a Unix time."),
		duration:     d("mudscf_function_execution_duration_seconds", "Execution time of function executions; exemplars carry the execution span's trace_id."),
		memory:       d("mudscf_function_memory_usage_bytes", "Peak memory used by function executions."),
		cursorAge:    d("mudscf_exporter_cursor_age_seconds", "Now minus the function's scan cursor: how far behind the exporter is (absent before the first cursor). A whole project's functions share their topic's cursor."),
		up:           d("mudscf_exporter_up", "1 if the last poll of the function (or of its project's topic) succeeded, else 0."),
		lastSuccess:  d("mudscf_exporter_last_success_timestamp_seconds", "End of the last turn without an error of the function (or of its project's topic), as a Unix time."),
		windowExecs:  d("mudscf_function_window_executions", "Executions that started in the current clock hour and the 23 before it, as the exporter counted them."),
		windowOK:     d("mudscf_function_window_success_ratio", "Share of successful executions in the window, 0 to 1 (0 without executions)."),
		windowMeanS:  d("mudscf_function_window_average_duration_seconds", "Mean execution time in the window (0 without executions)."),
		polls:        d("mudscf_exporter_polls_total", "Requests to the logs endpoint, by result (ok, throttled, error); a whole project's pages have function=\"\".", "result"),
		pollDuration: d("mudscf_exporter_poll_duration_seconds", "Time of one request to the logs endpoint; a whole project's pages have function=\"\"."),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.families() {
		ch <- f.desc
	}
}

// Collect emits every family of one snapshot.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.snapshot()
	for _, f := range c.families() {
		f.emit(snap, ch)
	}
}

// fnSnapshot is what a scrape reads of one function, copied under the
// exporter's lock and turned into metrics after it.
type fnSnapshot struct {
	project, id      string
	counts           [numOutcomes]float64
	billed, retries  float64
	lastRun          time.Time
	duration         histogram
	memory           histogram
	exemplars        []exemplar
	execs, ok, durMs float64
	stream           *stream
}

type streamSnapshot struct {
	project, function string
	polls             [numPollResults]float64
	duration          histogram
}

// stateSnapshot is the state one scrape reports.
type stateSnapshot struct {
	now     time.Time
	fns     []fnSnapshot
	streams []*streamSnapshot
}

// snapshot copies what the families report under the exporter's lock,
// briefly: the families are made from it after.
func (c *stateCollector) snapshot() *stateSnapshot {
	e := c.e
	snap := &stateSnapshot{now: e.now()}
	e.mu.Lock()
	defer e.mu.Unlock()
	// A whole project's functions that have not run yet show their
	// project's stalest topic.
	stalest := map[string]*stream{}
	for _, s := range e.streams {
		if cur := stalest[s.project]; s.function == "" && (cur == nil || s.cursorNanos.Load() < cur.cursorNanos.Load()) {
			stalest[s.project] = s
		}
	}
	snap.fns = make([]fnSnapshot, 0, len(e.fns))
	for _, f := range e.fns {
		s := fnSnapshot{project: f.cfg.Project, id: f.cfg.Function, counts: f.counts, billed: f.billed, retries: f.retries,
			lastRun: f.lastRun, duration: f.duration.clone(), memory: f.memory.clone(), stream: cmp.Or(f.stream, stalest[f.cfg.Project])}
		if f.exemplars != nil {
			s.exemplars = make([]exemplar, 0, len(f.exemplars))
			for _, x := range f.exemplars {
				if !x.at.IsZero() {
					s.exemplars = append(s.exemplars, x)
				}
			}
		}
		s.execs, s.ok, s.durMs = f.hours.sums(snap.now)
		snap.fns = append(snap.fns, s)
	}
	// A project's topics are one series: its function label is "".
	byKey := map[[2]string]*streamSnapshot{}
	for _, s := range e.streams {
		key := [2]string{s.project, s.function}
		ss, ok := byKey[key]
		if !ok {
			ss = &streamSnapshot{project: s.project, function: s.function}
			byKey[key] = ss
			snap.streams = append(snap.streams, ss)
		}
		for i, n := range s.polls {
			ss.polls[i] += n
		}
		ss.duration.add(s.pollDuration)
	}
	return snap
}

// family is one metric family of the state, and how to make its series
// from a snapshot.
type family struct {
	desc *prometheus.Desc
	emit func(snap *stateSnapshot, ch chan<- prometheus.Metric)
}

func (c *stateCollector) families() []family {
	perFunction := func(desc *prometheus.Desc, emit func(f *fnSnapshot, ch chan<- prometheus.Metric)) family {
		return family{desc, func(snap *stateSnapshot, ch chan<- prometheus.Metric) {
			for i := range snap.fns {
				emit(&snap.fns[i], ch)
			}
		}}
	}
	gauge := func(desc *prometheus.Desc, value func(f *fnSnapshot) (float64, bool)) family {
		return perFunction(desc, func(f *fnSnapshot, ch chan<- prometheus.Metric) {
			if v, ok := value(f); ok {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, f.project, f.id)
			}
		})
	}
	counter := func(desc *prometheus.Desc, value func(f *fnSnapshot) float64) family {
		return perFunction(desc, func(f *fnSnapshot, ch chan<- prometheus.Metric) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, value(f), f.project, f.id)
		})
	}
	return []family{
		perFunction(c.executions, func(f *fnSnapshot, ch chan<- prometheus.Metric) {
			for i, o := range outcomes {
				ch <- prometheus.MustNewConstMetric(c.executions, prometheus.CounterValue, f.counts[i], f.project, f.id, o)
			}
		}),
		counter(c.billed, func(f *fnSnapshot) float64 { return f.billed }),
		counter(c.retries, func(f *fnSnapshot) float64 { return f.retries }),
		gauge(c.lastRun, func(f *fnSnapshot) (float64, bool) { return unixSeconds(f.lastRun), !f.lastRun.IsZero() }),
		perFunction(c.duration, func(f *fnSnapshot, ch chan<- prometheus.Metric) {
			if f.duration.counts == nil {
				return
			}
			h := f.duration.metric(c.duration, durationBuckets, f.project, f.id)
			if len(f.exemplars) > 0 {
				xs := make([]prometheus.Exemplar, len(f.exemplars))
				for i, x := range f.exemplars {
					xs[i] = prometheus.Exemplar{Value: x.value, Labels: prometheus.Labels{"trace_id": x.traceID.String()}, Timestamp: x.at}
				}
				h = prometheus.MustNewMetricWithExemplars(h, xs...)
			}
			ch <- h
		}),
		perFunction(c.memory, func(f *fnSnapshot, ch chan<- prometheus.Metric) {
			if f.memory.counts != nil {
				ch <- f.memory.metric(c.memory, memoryBuckets, f.project, f.id)
			}
		}),
		gauge(c.windowExecs, func(f *fnSnapshot) (float64, bool) { return f.execs, true }),
		gauge(c.windowOK, func(f *fnSnapshot) (float64, bool) {
			if f.execs == 0 {
				return 0, true
			}
			return f.ok / f.execs, true
		}),
		gauge(c.windowMeanS, func(f *fnSnapshot) (float64, bool) {
			if f.execs == 0 {
				return 0, true
			}
			return f.durMs / f.execs / 1000, true
		}),
		// The freshness gauges are computed now, from the stream: the
		// cursor's age keeps growing through an outage.
		family{c.cursorAge, func(snap *stateSnapshot, ch chan<- prometheus.Metric) {
			for _, f := range snap.fns {
				if f.stream != nil {
					if ns := f.stream.cursorNanos.Load(); ns != 0 {
						ch <- prometheus.MustNewConstMetric(c.cursorAge, prometheus.GaugeValue, snap.now.Sub(time.Unix(0, ns)).Seconds(), f.project, f.id)
					}
				}
			}
		}},
		gauge(c.lastSuccess, func(f *fnSnapshot) (float64, bool) {
			if f.stream == nil {
				return 0, false
			}
			ms := f.stream.lastSuccess.Load()
			return float64(ms) / 1000, ms != 0
		}),
		gauge(c.up, func(f *fnSnapshot) (float64, bool) {
			if f.stream == nil || !f.stream.polled.Load() {
				return 0, false
			}
			if f.stream.up.Load() {
				return 1, true
			}
			return 0, true
		}),
		family{c.polls, func(snap *stateSnapshot, ch chan<- prometheus.Metric) {
			for _, s := range snap.streams {
				for i, r := range pollResults {
					ch <- prometheus.MustNewConstMetric(c.polls, prometheus.CounterValue, s.polls[i], s.project, s.function, r)
				}
			}
		}},
		family{c.pollDuration, func(snap *stateSnapshot, ch chan<- prometheus.Metric) {
			for _, s := range snap.streams {
				if s.duration.counts != nil {
					ch <- s.duration.metric(c.pollDuration, pollBuckets, s.project, s.function)
				}
			}
		}},
	}
}

// The results of a poll, the result label of mudscf_exporter_polls_total.
var pollResults = [...]string{"ok", "throttled", "error"}

const numPollResults = len(pollResults)
