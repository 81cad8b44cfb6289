package exporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// backlogEndpoint is a fake Mudbase logs endpoint holding n executions, one
// per second, ending a minute ago: a backlog the exporter catches up on a
// day-long window at a time, each window past the 10,000-record cap. Pages
// are written by hand, not with encoding/json, so that the endpoint costs
// little of the CPU time measured beside the exporter.
type backlogEndpoint struct {
	origin time.Time
	n      int
}

func (e *backlogEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/logs") {
		http.NotFound(w, r) // a Mudbase endpoint: no project route
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	lo, hi := 0, e.n-1
	if s := q.Get("since"); s != "" {
		since, err1 := time.Parse(time.RFC3339, s)
		until, err2 := time.Parse(time.RFC3339, q.Get("until"))
		if err1 != nil || err2 != nil || q.Get("order") != "desc" {
			http.Error(w, "bad window", http.StatusBadRequest)
			return
		}
		// Both ends inclusive, at whole seconds, as upstream.
		lo = max(lo, int(since.Sub(e.origin)/time.Second))
		hi = min(hi, int(until.Sub(e.origin)/time.Second))
	}
	buf := make([]byte, 0, 64+limit*400)
	buf = append(buf, `{"success":true,"data":{"executions":[`...)
	for k := 0; k < limit && hi-offset-k >= lo; k++ {
		i := hi - offset - k
		if k > 0 {
			buf = append(buf, ',')
		}
		buf = appendExecution(buf, i, e.origin.Add(time.Duration(i)*time.Second))
	}
	buf = append(buf, `],"stats":{"totalExecutions":0,"successful":0,"failed":0,"successRate":0,"avgExecutionTime":0,"lastRun":null}}}`...)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf) // the benchmark's client reads what it gets
}

// appendExecution writes execution i the way the proxy would: every tenth
// one failed.
func appendExecution(buf []byte, i int, at time.Time) []byte {
	id := fmt.Appendf(nil, "bc309eaa-6d64-11e8-a7fe-%012d", i)
	buf = append(buf, `{"executedAt":"`...)
	buf = at.UTC().AppendFormat(buf, "2006-01-02T15:04:05.000Z")
	buf = append(buf, `","executionTime":`...)
	buf = strconv.AppendInt(buf, int64(12+i%100), 10)
	if i%10 == 0 {
		buf = append(buf, `,"success":false,"error":"Invoking task timed out after 3 seconds","retCode":433`...)
	} else {
		buf = append(buf, `,"success":true,"result":{"processed":true},"retCode":0`...)
	}
	buf = append(buf, `,"requestId":"`...)
	buf = append(buf, id...)
	buf = append(buf, `","functionName":"APITest","memoryUsageBytes":`...)
	buf = strconv.AppendInt(buf, int64(3174400+i%1000), 10)
	buf = append(buf, `,"billedDurationMs":`...)
	buf = strconv.AppendInt(buf, int64(13+i%100), 10)
	buf = append(buf, `,"retryCount":0,"log":"START RequestId: `...)
	buf = append(buf, id...)
	buf = append(buf, `\n[INFO] handler invoked\nEND RequestId: `...)
	buf = append(buf, id...)
	return append(buf, `"}`...)
}

// heapSampler records the peak of the heap's object bytes and of the live
// heap (what the last GC kept) while it runs.
type heapSampler struct {
	stop           chan struct{}
	done           sync.WaitGroup
	peak, peakLive uint64
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	samples := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	read := func() {
		rtmetrics.Read(samples)
		h.peak = max(h.peak, samples[0].Value.Uint64())
		h.peakLive = max(h.peakLive, samples[1].Value.Uint64())
	}
	h.done.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	return h
}

func (h *heapSampler) finish() {
	close(h.stop)
	h.done.Wait()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExporterBacklog feeds n executions through the exporter's real
// path: HTTP from an in-process endpoint, decoding, de-duplication, the
// Prometheus metrics and one span per execution on the OTel SDK (batching
// span processor, IDs from the requestId, a no-op span exporter that drops
// the batches). It reports the process's CPU time per execution and the
// peak heap; the de-duplication state is bounded by the overlap window, so
// peak memory must not grow with n. BENCHMARKS.md reports it
// (.ci/bench/exporter.sh); run with -benchtime 1x.
func BenchmarkExporterBacklog(b *testing.B) {
	for _, n := range []int{100_000, 300_000, 1_000_000} {
		b.Run(fmt.Sprintf("executions=%d", n), func(b *testing.B) {
			for range b.N {
				runBacklog(b, n)
			}
		})
	}
}

func runBacklog(b *testing.B, n int) {
	b.StopTimer()
	origin := time.Now().Add(-time.Duration(n)*time.Second - time.Minute).Truncate(time.Second)
	srv := httptest.NewServer(&backlogEndpoint{origin: origin, n: n})
	defer srv.Close()
	b.Setenv("EXPORTER_BENCH_TOKEN", "bench")
	cfg := Config{
		Endpoint:  srv.URL,
		Auth:      AuthConfig{TokenEnv: "EXPORTER_BENCH_TOKEN"},
		Backfill:  time.Duration(n)*time.Second + 2*time.Minute,
		Functions: []FunctionConfig{{Project: "p1", Function: "f1", Region: "ap-guangzhou", Qualifier: "$LATEST"}},
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	spans := sdktrace.NewBatchSpanProcessor(tracetest.NewNoopExporter())
	defer func() { _ = spans.Shutdown(context.Background()) }()
	e, err := New(cfg, Options{SpanProcessor: spans})
	if err != nil {
		b.Fatal(err)
	}
	f := e.fns[cfg.Functions[0].key()]
	counted := func() int {
		var c float64
		for _, v := range f.counts {
			c += v
		}
		return int(c)
	}

	runtime.GC()
	heap := startHeapSampler()
	cpu0 := cpuTime()
	b.StartTimer()
	maxSeen := 0
	// Each round reads at most MaxPagesPerTurn pages; the bound only
	// stops a broken exporter from looping forever.
	for rounds := 0; counted() < n && rounds < 4*n/cfg.PageSize; rounds++ {
		e.Round(context.Background())
		if s := f.stream; s != nil {
			maxSeen = max(maxSeen, len(s.seen))
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	heap.finish()
	// What the exporter keeps, without the garbage a peak includes: the
	// peaks are maxima over more GC cycles the longer the run.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(e)
	if got := counted(); got != n {
		b.Fatalf("exported %d executions, want %d", got, n)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/exec")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(heap.peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(heap.peakLive)/(1<<20), "peak-live-MiB")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "retained-MiB")
	b.ReportMetric(float64(maxSeen), "max-seen-ids")
}
