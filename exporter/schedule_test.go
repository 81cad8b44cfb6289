package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
)

// runFor runs e in the bubble for d of fake time, then stops it.
func runFor(t *testing.T, e *Exporter, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	time.Sleep(d)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// offsets returns each time as its distance from origin.
func offsets(origin time.Time, times []time.Time) []time.Duration {
	out := make([]time.Duration, len(times))
	for i, at := range times {
		out[i] = at.Sub(origin)
	}
	return out
}

func seconds(s ...float64) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, v := range s {
		out[i] = time.Duration(v * float64(time.Second))
	}
	return out
}

// A 429 holds every request back for its Retry-After (at least 1 s),
// doubled while 429s persist, at most 32 times; it is not an error. The
// waits are exact: the clock is synctest's.
func TestThrottlingBacksOff(t *testing.T) {
	cases := []struct {
		retryAfter string
		want       []time.Duration // request times within 200 s
	}{
		{"1", seconds(0, 1, 3, 7, 15, 31, 63, 95, 127, 159, 191)},
		{"", seconds(0, 1, 3, 7, 15, 31, 63, 95, 127, 159, 191)}, // no Retry-After: 1 s
		{"2", seconds(0, 2, 6, 14, 30, 62, 126, 190)},
	}
	for _, c := range cases {
		t.Run("Retry-After "+c.retryAfter, func(t *testing.T) {
			cfg := fakeConfig(t, "a", "b")
			cfg.Interval = time.Second // shorter than every wait: these are the back-off's
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				fake := &fakeLogs{first: start, every: time.Second}
				fake.setStatus(http.StatusTooManyRequests, c.retryAfter)
				e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
				if err != nil {
					t.Fatal(err)
				}
				runFor(t, e, 200*time.Second)
				if got := offsets(start, fake.callTimes()); !slices.Equal(got, c.want) {
					t.Errorf("requests at %v, want %v", got, c.want)
				}
				for _, s := range collectCounter(t, e, "mudscf_exporter_polls_total") {
					if s.labels["result"] == "error" && s.value != 0 {
						t.Errorf("429s were counted as %v errors of %s", s.value, s.labels["function"])
					}
				}
			})
		})
	}
}

// One answer that is not a 429 ends the doubling: the next 429 waits its
// Retry-After again.
func TestThrottlingResetsAfterSuccess(t *testing.T) {
	cfg := fakeConfig(t, "a", "b")
	cfg.Interval = time.Second
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fake := &fakeLogs{first: start, every: time.Second, script: func(call int) (int, string) {
			if call == 3 {
				return 0, ""
			}
			return http.StatusTooManyRequests, "1"
		}}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, e, 11*time.Second)
		// 429 at 0, 1 and 3 s (waits 1, 2, 4); the 4th request is answered
		// at 7 s; the 5th, at once, gets a 429 again and waits 1 s, then 2.
		want := seconds(0, 1, 3, 7, 7, 8, 10)
		if got := offsets(start, fake.callTimes()); !slices.Equal(got, want) {
			t.Errorf("requests at %v, want %v", got, want)
		}
	})
}

// Rounds start every interval, measured from the start of the previous
// one (each answer here takes a second), and the stalest stream goes
// first: with one request at a time, the order of cursors.
func TestRoundsEveryIntervalStalestFirst(t *testing.T) {
	cfg := fakeConfig(t, "a", "b", "c")
	cfg.Interval = 10 * time.Second
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fake := &fakeLogs{first: start.Add(-time.Minute), every: 3 * time.Second, n: 1000, latency: time.Second}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, e, 35*time.Second)
		var got []string
		for _, c := range fake.requests() {
			got = append(got, fmt.Sprintf("%s@%s", c.function, c.at.Sub(start)))
		}
		// No cursor in the first round (by key); each later round, the
		// function read first has the oldest cursor, so it goes first
		// again: in a round that outlasts the interval, none waits two.
		want := []string{
			"a@0s", "b@1s", "c@2s",
			"a@10s", "b@11s", "c@12s",
			"a@20s", "b@21s", "c@22s",
			"a@30s", "b@31s", "c@32s",
		}
		if !slices.Equal(got, want) {
			t.Errorf("requests\n%v\nwant\n%v", got, want)
		}
	})
}

// With more functions than one round fits in the interval, every
// function still gets a turn every round, the stalest first: none waits
// two rounds, where rotating the first function by one let the first of
// a round go last in the next (twice the wait).
func TestNoFunctionWaitsTwoRounds(t *testing.T) {
	fns := []string{"a", "b", "c", "d", "e", "f"}
	cfg := fakeConfig(t, fns...)
	cfg.Interval = 4 * time.Second // six answers of a second each: each round overruns it
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fake := &fakeLogs{first: start.Add(-time.Minute), every: 3 * time.Second, n: 1000, latency: time.Second}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, e, 60*time.Second)
		time.Sleep(time.Second) // the answer in flight when it stopped
		last := map[string]time.Time{}
		for _, c := range fake.requests() {
			if prev, ok := last[c.function]; ok {
				if gap := c.at.Sub(prev); gap > time.Duration(len(fns))*time.Second {
					t.Errorf("%s waited %s between turns, more than one round of %d answers", c.function, gap, len(fns))
				}
			}
			last[c.function] = c.at
		}
		if len(fake.requests()) < 5*len(fns) {
			t.Fatalf("%d requests in a minute", len(fake.requests()))
		}
	})
}

// A function with a backlog gets its next turn at once; the interval
// resumes when it has caught up.
func TestBacklogIsReadWithoutWaiting(t *testing.T) {
	cfg := fakeConfig(t, "a")
	cfg.Interval = 10 * time.Second
	cfg.PageSize = 10
	cfg.Overlap = 5 * time.Second
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		// 250 executions: 25 pages of 10, three turns of at most 10.
		fake := &fakeLogs{first: start.Add(-251 * time.Second), every: time.Second, n: 250}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, e, 15*time.Second)
		// 26 pages (the last one empty) at 0 s; the next round's one page
		// (the overlap's executions, re-read) at 10 s. No stats request.
		var want []time.Duration
		for range 26 {
			want = append(want, 0)
		}
		want = append(want, 10*time.Second)
		if got := offsets(start, fake.callTimes()); !slices.Equal(got, want) {
			t.Errorf("requests at %v, want %v", got, want)
		}
		if got := executionsOf(t, e, "p", "a"); got != 250 {
			t.Errorf("%v executions counted, want 250", got)
		}
	})
}

// mudscf_exporter_cursor_age_seconds is computed at scrape time: it grows
// through an outage of the endpoint, while the last success stays put.
func TestCursorAgeGrowsDuringOutage(t *testing.T) {
	cfg := fakeConfig(t, "f")
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fake := &fakeLogs{first: start.Add(-30 * time.Second), every: time.Second, n: 30}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		gauge := func(name string) float64 {
			s := collectCounter(t, e, name)
			if len(s) != 1 {
				t.Fatalf("%s: %d series, want 1", name, len(s))
			}
			return s[0].value
		}
		e.Round(t.Context())
		fake.setStatus(http.StatusBadGateway, "")
		for _, step := range []struct {
			sleep time.Duration
			round bool
			age   float64
		}{{0, false, 0}, {60 * time.Second, true, 60}, {45 * time.Second, false, 105}, {15 * time.Second, true, 120}} {
			time.Sleep(step.sleep)
			if step.round {
				e.Round(t.Context())
			}
			if got := gauge("mudscf_exporter_cursor_age_seconds"); got != step.age {
				t.Errorf("cursor age %v s, want %v", got, step.age)
			}
			if got := gauge("mudscf_exporter_last_success_timestamp_seconds"); got != float64(start.Unix()) {
				t.Errorf("last success %v, want %d (the round before the outage)", got, start.Unix())
			}
		}
		if !strings.Contains(scrape(t, e), "mudscf_exporter_cursor_age_seconds{") {
			t.Error("the cursor age is not on /metrics")
		}
	})
}

// The wall clock stepping back (or a checkpoint from a machine whose clock
// was ahead) leaves the cursor in the future. The exporter rewinds it and
// goes on: every execution is counted exactly once, in the same process
// and across a restart from that checkpoint.
func TestExactlyOnceAcrossClockStepBack(t *testing.T) {
	for _, restart := range []bool{false, true} {
		name := "same process"
		if restart {
			name = "restart"
		}
		t.Run(name, func(t *testing.T) {
			cfg := fakeConfig(t, "f")
			cfg.Interval = 10 * time.Second
			cfg.Backfill = 2 * time.Hour // from a clock an hour ahead, this reaches the past
			cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
			synctest.Test(t, func(t *testing.T) {
				fake := &fakeLogs{first: time.Now().Add(-time.Minute), every: 2 * time.Second, n: 1 << 20}
				var skew atomic.Int64
				skew.Store(int64(time.Hour))
				opts := Options{Transport: testenv.HandlerTransport{Handler: fake}, Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }}
				e, err := New(cfg, opts)
				if err != nil {
					t.Fatal(err)
				}
				// Five minutes an hour ahead: the exporter sees what existed
				// when it started, then windows in the upstream's future.
				for range 30 {
					e.Round(t.Context())
					time.Sleep(10 * time.Second)
				}
				if executionsOf(t, e, "p", "f") == 0 {
					t.Fatal("nothing counted before the step; the test proves nothing")
				}
				skew.Store(0)
				if restart {
					if err := e.save(); err != nil { // as Run does when it stops
						t.Fatal(err)
					}
					if e, err = New(cfg, opts); err != nil {
						t.Fatal(err)
					}
				}
				for range 12 {
					e.Round(t.Context())
					time.Sleep(10 * time.Second)
				}
				e.Round(t.Context())
				want := fake.visible(time.Now())
				if got := executionsOf(t, e, "p", "f"); got != float64(want) {
					t.Errorf("%v executions counted, %d happened", got, want)
				}
			})
		})
	}
}

// A scan the endpoint refuses (a 4xx) is rebuilt at the next turn rather
// than asked again page for page.
func TestRefusedScanIsRebuilt(t *testing.T) {
	cfg := fakeConfig(t, "a")
	cfg.PageSize, cfg.MaxPagesPerTurn = 10, 1
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		fake := &fakeLogs{first: start.Add(-31 * time.Second), every: time.Second, n: 30,
			script: func(call int) (int, string) {
				if call == 1 { // the scan's second page
					return http.StatusBadRequest, ""
				}
				return 0, ""
			}}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			e.Round(t.Context())
		}
		var offsets []string
		for _, c := range fake.requests() {
			q, _ := url.ParseQuery(c.query)
			offsets = append(offsets, q.Get("offset"))
		}
		if want := []string{"0", "10", "0"}; !slices.Equal(offsets, want) {
			t.Errorf("pages at offsets %v, want %v", offsets, want)
		}
	})
}

// Half an hour of a failing endpoint, far longer than the overlap, is
// caught up exactly once it answers again.
func TestCatchUpAfterLongOutage(t *testing.T) {
	cfg := fakeConfig(t, "a", "b")
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeLogs{first: time.Now(), every: 5 * time.Second, n: 1 << 20}
		e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(2 * time.Minute)
			fake.setStatus(http.StatusBadGateway, "")
			time.Sleep(30 * time.Minute)
			fake.setStatus(0, "")
		}()
		runFor(t, e, 40*time.Minute)
		e.Round(t.Context()) // up to now
		want := float64(fake.visible(time.Now()))
		for _, fn := range []string{"a", "b"} {
			if got := executionsOf(t, e, "p", fn); got != want {
				t.Errorf("%s: %v executions counted, %v happened", fn, got, want)
			}
		}
		for _, s := range collectCounter(t, e, "mudscf_exporter_polls_total") {
			if s.labels["result"] == "error" && s.value == 0 {
				t.Errorf("%s: no failed polls recorded during the outage", s.labels["function"])
			}
		}
	})
}

// The functions one account can serve at the interval are computed when
// the project is found to be read one function at a time, logged (a
// warning when the account has more), and exported beside the number it
// has: GetFunctionLogs's calls per second times the interval, over the
// calls a turn takes.
func TestCapacityIsLoggedAtStart(t *testing.T) {
	fns := make([]string, 160)
	for i := range fns {
		fns[i] = fmt.Sprintf("f%03d", i)
	}
	cfg := fakeConfig(t, fns...)
	cfg.Interval = 30 * time.Second
	synctest.Test(t, func(t *testing.T) {
		logs := &testenv.SyncBuffer{}
		logger := slog.New(slog.NewTextHandler(logs, nil))
		// Each answer takes a second: the first round outlasts the test.
		fake := &fakeLogs{first: time.Now(), every: time.Second, latency: time.Second}
		e, err := New(cfg, Options{Logger: logger, Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, e, 10*time.Second)
		time.Sleep(time.Second) // the answers in flight when it stopped
		line := grepLines(logs.String(), "more functions than it can poll")
		for _, want := range []string{"account=acct", "functions=160", "capacity=150", "calls_per_second=5"} {
			if !strings.Contains(line, want) {
				t.Errorf("no %s in the capacity warning %q", want, line)
			}
		}
		body := scrape(t, e)
		for _, want := range []string{`mudscf_exporter_function_capacity{account="acct"} 150`, `mudscf_exporter_polled_functions{account="acct"} 160`} {
			if !containsLine(body, want) {
				t.Errorf("no %s:\n%s", want, grepLines(body, "acct"))
			}
		}
	})
}
