package exporter

import (
	"compress/gzip"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/mudscf/mudscf/internal/acceptencoding"
)

// metricsHandler serves /metrics in the format the scraper asks for (the
// text format, or OpenMetrics with the duration histogram's exemplars),
// gzipped when it takes gzip, family by family.
//
// promhttp gathers every family before it writes the first byte; with
// 10,000 functions their hundreds of thousands of series would be built
// at once, about 90 MiB beside the 35 the exporter otherwise holds. Here
// the registry's own families (process, Go, build, checkpoint, capacity)
// are gathered as promhttp would, then each state family is gathered
// alone from one snapshot, through a registry of its own (which checks
// and sorts it as the main one would), written, and dropped.
type metricsHandler struct {
	registry *prometheus.Registry
	state    *stateCollector
}

func (h metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mfs, err := h.registry.Gather()
	if err != nil {
		http.Error(w, "gathering the metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultOpenMetricsAcceptedFormats()...)
	w.Header().Set("Content-Type", string(format))
	var out io.Writer = w
	if acceptencoding.Gzip(r.Header.Values("Accept-Encoding")) {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		out = gz
	}
	enc := expfmt.NewEncoder(out, format)
	for _, mf := range mfs {
		if enc.Encode(mf) != nil {
			return // the scraper left
		}
	}
	snap := h.state.snapshot()
	for _, f := range h.state.families() {
		reg := prometheus.NewRegistry()
		reg.MustRegister(oneFamily{f, snap})
		fmfs, err := reg.Gather()
		if err != nil {
			// Past the first byte a status cannot change: the scraper sees a
			// truncated answer, which Prometheus refuses whole.
			return
		}
		for _, mf := range fmfs {
			if enc.Encode(mf) != nil {
				return
			}
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		_ = c.Close()
	}
}

// oneFamily collects one family of a snapshot.
type oneFamily struct {
	f    family
	snap *stateSnapshot
}

func (o oneFamily) Describe(ch chan<- *prometheus.Desc) { ch <- o.f.desc }
func (o oneFamily) Collect(ch chan<- prometheus.Metric) { o.f.emit(o.snap, ch) }
