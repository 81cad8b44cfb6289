package exporter

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

// fakeProject is the proxy's project route in memory, for a cls project
// whose functions all log to one topic: pages of every function's
// executions that started in the window, newest first, then by request
// ID, each with its function ID; a per-function request is refused, as
// the exporter must not make one. A function runs one execution every
// `every` from its from to its until (zero: forever), each visible a
// second after its start. Its clock is time.Now, the bubble's.
type fakeProject struct {
	topic string
	every time.Duration
	fns   map[string][2]time.Time // function ID → [from, until)
	// share is the topicShare the route answers; latency how long a page
	// takes.
	share   int
	latency time.Duration

	mu sync.Mutex
	// inFlight and mostInFlight count the pages being answered.
	inFlight, mostInFlight int
	// hold, when set, is called with each page request's number and
	// offset before it is answered.
	hold  func(call, offset int)
	pages int
}

// most is the most pages answered at once so far.
func (f *fakeProject) most() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mostInFlight
}

// executions are every execution visible at now that started in [lo, hi].
func (f *fakeProject) executions(now, lo, hi time.Time) []execution {
	var out []execution
	for id, span := range f.fns {
		for k := 0; ; k++ {
			start := span[0].Add(time.Duration(k) * f.every)
			if !span[1].IsZero() && !start.Before(span[1]) || start.Add(time.Second).After(now) {
				break
			}
			if start.Before(lo) || start.After(hi) {
				continue
			}
			at := translate.FormatMudbaseTime(start)
			x := translate.Execution{ExecutedAt: &at, ExecutionTime: 40, Success: k%7 != 3, RequestID: fmt.Sprintf("%s-%06d", id, k),
				FunctionName: "fn-" + id, MemoryUsageBytes: 16 << 20}
			if !x.Success {
				x.RetCode, x.Error = 433, "timeout"
			}
			out = append(out, execution{Execution: x, FunctionID: id})
		}
	}
	slices.SortFunc(out, func(a, b execution) int {
		return cmp.Or(strings.Compare(*b.ExecutedAt, *a.ExecutedAt), strings.Compare(b.RequestID, a.RequestID))
	})
	return out
}

// truth is how many executions fn has had by now.
func (f *fakeProject) truth(fn string, now time.Time) int {
	n := 0
	for _, x := range f.executions(now, time.Time{}, now) {
		if x.FunctionID == fn {
			n++
		}
	}
	return n
}

func (f *fakeProject) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if !strings.HasSuffix(r.URL.Path, "/executions") {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"success":false,"error":"the exporter reads a cls project whole","code":"INVALID_PARAMETER"}`)
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	answer := projectAnswer{Success: true}
	answer.Data.Topics = []string{f.topic}
	answer.Data.TopicShare = f.share
	answer.Data.Executions = []execution{}
	if limit > 0 {
		f.mu.Lock()
		call, hold := f.pages, f.hold
		f.pages++
		f.inFlight++
		f.mostInFlight = max(f.mostInFlight, f.inFlight)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.inFlight--
			f.mu.Unlock()
		}()
		if hold != nil {
			hold(call, offset)
		}
		time.Sleep(f.latency)
		since, err1 := time.Parse(time.RFC3339, q.Get("since"))
		until, err2 := time.Parse(time.RFC3339, q.Get("until"))
		if err1 != nil || err2 != nil || since.After(until) || q.Get("topicId") != f.topic && q.Get("topicId") != "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"success":false,"error":"bad window or topic","code":"INVALID_PARAMETER"}`)
			return
		}
		all := f.executions(now, since, until.Add(time.Second-1))
		page := all[min(offset, len(all)):]
		page = page[:min(limit, len(page))]
		answer.Data.Executions = page
		if len(page) == limit {
			answer.Data.NextOffset = new(int64(offset + limit))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

// projectConfig exports project p whole from an in-memory endpoint.
func projectConfig(t *testing.T) Config {
	t.Helper()
	t.Setenv("EXPORTER_TEST_TOKEN", "x")
	cfg := Config{Endpoint: "http://logs.invalid", Auth: AuthConfig{TokenEnv: "EXPORTER_TEST_TOKEN"},
		Projects: []ProjectConfig{{Project: "p", Region: "ap-guangzhou"}}, Interval: 5 * time.Second, Overlap: 10 * time.Second,
		ProjectPageSize: 50, Checkpoint: filepath.Join(t.TempDir(), "checkpoint.json")}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A project read whole counts every function the proxy serves in it, a
// function that appears while the exporter runs from its first execution
// and one that stops until its last, each exactly once, at one request
// per page of every function (none per function), reading as many slices
// of a window at once as the proxy's topic share.
func TestTopicStreamCountsFunctionsAddedAndRemoved(t *testing.T) {
	cfg := projectConfig(t)
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fake := &fakeProject{topic: "topic-1", every: 700 * time.Millisecond, share: 3, latency: 300 * time.Millisecond, fns: map[string][2]time.Time{
			"steady":  {start.Add(-time.Minute), {}},
			"added":   {start.Add(47 * time.Second), {}},
			"removed": {start.Add(-time.Minute), start.Add(31 * time.Second)},
		}}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, e, 2*time.Minute)
		time.Sleep(time.Second) // the pages in flight when it stopped
		e.Round(t.Context())
		if most := fake.most(); most != 3 {
			t.Errorf("at most %d pages at once, want the topic share of 3 (the window's slices)", most)
		}
		for fn := range fake.fns {
			if got, want := executionsOf(t, e, "p", fn), fake.truth(fn, time.Now()); got != float64(want) || want == 0 {
				t.Errorf("%s: %v executions counted, %d happened", fn, got, want)
			}
		}
		for _, s := range collectCounter(t, e, "mudscf_exporter_polls_total") {
			if s.labels["function"] != "" && s.value != 0 {
				t.Errorf("a per-function poll of %s", s.labels["function"])
			}
		}
	})
}

// The process killed while a topic page is in flight: what is on disk is
// the last save, and an exporter started from it counts every execution
// exactly once. (The kill is modelled by copying the checkpoint's files
// at that instant; each write is a whole record or a rename, so the copy
// is what the disk holds when the process dies there.)
func TestExactlyOnceAcrossKillDuringTopicPage(t *testing.T) {
	cfg := projectConfig(t)
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fake := &fakeProject{topic: "topic-1", every: 300 * time.Millisecond, share: 3, fns: map[string][2]time.Time{
			"a": {start.Add(-time.Minute), start.Add(90 * time.Second)},
			"b": {start.Add(-30 * time.Second), start.Add(90 * time.Second)},
		}}
		killed := filepath.Join(t.TempDir(), "checkpoint.json")
		dead, resume := make(chan struct{}), make(chan struct{})
		kill := sync.OnceFunc(func() {
			// Mid-run, mid-scan: the disk as the process dies, while the
			// page is held until the test has read the counters.
			copyFile(t, cfg.Checkpoint, killed)
			copyFile(t, journalPath(cfg.Checkpoint), journalPath(killed))
			close(dead)
			<-resume
		})
		fake.hold = func(call, offset int) {
			// A page past a scan's first, whose newer executions the scan
			// has counted since the last save.
			if call > 40 && offset > 0 {
				kill()
			}
		}
		first, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- first.Run(ctx) }()
		<-dead
		// What the dead process had counted beyond its last save is read
		// again: the test proves something only if there is some.
		countedAtKill := executionsOf(t, first, "p", "a") + executionsOf(t, first, "p", "b")
		close(resume)
		cancel()
		// The first exporter's shutdown save goes to its own checkpoint;
		// the restart reads the copy taken at the kill.
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		fake.hold = nil
		cfg.Checkpoint = killed
		second, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		restored := executionsOf(t, second, "p", "a") + executionsOf(t, second, "p", "b")
		if restored == 0 || restored >= countedAtKill {
			t.Fatalf("the checkpoint at the kill holds %v executions, the process had counted %v: want some, and fewer", restored, countedAtKill)
		}
		time.Sleep(time.Until(start.Add(100 * time.Second)))
		runFor(t, second, time.Minute)
		for fn := range fake.fns {
			if got, want := executionsOf(t, second, "p", fn), fake.truth(fn, time.Now()); got != float64(want) {
				t.Errorf("%s: %v executions counted after the kill, %d happened", fn, got, want)
			}
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// One scan's slices cover its window exactly: every execution of a
// window, read once in slices at once, is counted once, whatever second
// it started in (the overlap of later scans would hide a gap between
// slices: here there is no later scan).
func TestSlicesCoverTheWindowOnce(t *testing.T) {
	cfg := projectConfig(t)
	cfg.Backfill = 10 * time.Minute
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fake := &fakeProject{topic: "topic-1", every: 250 * time.Millisecond, share: 3, fns: map[string][2]time.Time{
			"a": {start.Add(-9 * time.Minute), start.Add(-time.Minute)},
			"b": {start.Add(-7*time.Minute - 130*time.Millisecond), start.Add(-2 * time.Minute)},
		}}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		for more := true; more; {
			more = e.Round(t.Context())
		}
		for fn := range fake.fns {
			if got, want := executionsOf(t, e, "p", fn), fake.truth(fn, time.Now()); got != float64(want) {
				t.Errorf("%s: %v executions counted in one scan, %d happened", fn, got, want)
			}
		}
		if most := fake.most(); most != 3 {
			t.Errorf("at most %d pages at once, want 3", most)
		}
	})
}
