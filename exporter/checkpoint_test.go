package exporter

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
)

// checkpointBytes is mudscf_exporter_checkpoint_written_bytes_total.
func checkpointBytes(t *testing.T, e *Exporter) float64 {
	t.Helper()
	s := collectCounter(t, e, "mudscf_exporter_checkpoint_written_bytes_total")
	if len(s) != 1 {
		t.Fatalf("%d series of the checkpoint's bytes", len(s))
	}
	return s[0].value
}

// A save writes what changed: once every function has a cursor, a round
// in which nothing ran writes the same few bytes for 10 functions as for
// 1,000 (the cursors that only moved on are the floor's).
func TestCheckpointBytesPerRoundIndependentOfN(t *testing.T) {
	perRound := map[int]float64{}
	for _, n := range []int{10, 1000} {
		fns := make([]string, n)
		for i := range fns {
			fns[i] = fmt.Sprintf("f%04d", i)
		}
		cfg := fakeConfig(t, fns...)
		cfg.Concurrency = 5
		cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
		synctest.Test(t, func(t *testing.T) {
			e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{first: time.Now(), every: time.Second}}})
			if err != nil {
				t.Fatal(err)
			}
			for round := range 6 {
				if round == 2 {
					perRound[n] = checkpointBytes(t, e)
				}
				e.Round(t.Context())
				if err := e.save(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(cfg.Interval)
			}
			perRound[n] = (checkpointBytes(t, e) - perRound[n]) / 4
		})
	}
	if perRound[10] != perRound[1000] || perRound[10] > 100 {
		t.Errorf("bytes written per idle round: %v, want the same few for every N", perRound)
	}
}

// A save cut short at the journal's end (the process killed in the
// middle of a write) loses that save only: the exporter starts from the
// records before it and counts what it held again, exactly once. A
// damaged record before the end is an unreadable checkpoint.
func TestJournalTornTail(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(j []byte) []byte
		refused bool
	}{
		{"a partial record at the end", func(j []byte) []byte {
			var h [recordHeader]byte
			binary.BigEndian.PutUint32(h[:], 500)
			return append(append(j, h[:]...), `{"seq":99,"functions":{`...)
		}, false},
		{"a damaged last record", func(j []byte) []byte {
			j[len(j)-3] ^= 0xff
			return j
		}, false},
		{"a damaged first record", func(j []byte) []byte {
			j[recordHeader+2] ^= 0xff
			return j
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fakeConfig(t, "f")
			cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
			synctest.Test(t, func(t *testing.T) {
				fake := &fakeLogs{first: time.Now().Add(-50 * time.Second), every: time.Second, n: 1 << 20}
				opts := Options{Transport: testenv.HandlerTransport{Handler: fake}}
				e, err := New(cfg, opts)
				if err != nil {
					t.Fatal(err)
				}
				roundsSaved(t, e, 3)
				j, err := os.ReadFile(journalPath(cfg.Checkpoint))
				if err != nil || len(j) == 0 {
					t.Fatalf("journal: %d bytes, %v", len(j), err)
				}
				if err := os.WriteFile(journalPath(cfg.Checkpoint), tc.damage(j), 0o600); err != nil {
					t.Fatal(err)
				}
				e, err = New(cfg, opts)
				if tc.refused {
					if err == nil || !strings.Contains(err.Error(), "unreadable checkpoint") {
						t.Errorf("New: %v, want an unreadable checkpoint", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				roundsSaved(t, e, 3)
				if got, want := executionsOf(t, e, "p", "f"), fake.visible(time.Now().Add(-cfg.Interval)); got != float64(want) {
					t.Errorf("%v executions counted, %d happened", got, want)
				}
			})
		})
	}
}

// A function whose polls fail for longer than the overlap keeps its old
// cursor while the others' move on; restarted then, the exporter reads it
// from that cursor (the floor covers only cursors that moved on) and
// counts its executions exactly once.
func TestLaggingFunctionAcrossRestart(t *testing.T) {
	cfg := fakeConfig(t, "a", "b")
	cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
	cfg.Interval, cfg.Overlap = 10*time.Second, 20*time.Second
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeLogs{first: time.Now().Add(-time.Minute), every: time.Second, n: 1 << 20, down: map[string]bool{"b": false}}
		opts := Options{Transport: testenv.HandlerTransport{Handler: fake}}
		e, err := New(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		roundsSaved(t, e, 3)
		fake.setDown("b", true)
		roundsSaved(t, e, 12) // two minutes: six overlaps
		fake.setDown("b", false)
		e, err = New(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		roundsSaved(t, e, 20)
		e.Round(t.Context())
		want := float64(fake.visible(time.Now()))
		for _, fn := range []string{"a", "b"} {
			if got := executionsOf(t, e, "p", fn); got != want {
				t.Errorf("%s: %v executions counted, %v happened", fn, got, want)
			}
		}
	})
}

// A journal changed behind the exporter's back (deleted, or truncated by
// someone else) is not written into: the next save is a snapshot, and a
// restart counts exactly.
func TestJournalReplacedIsSnapshotted(t *testing.T) {
	cfg := fakeConfig(t, "f")
	cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeLogs{first: time.Now().Add(-50 * time.Second), every: time.Second, n: 1 << 20}
		opts := Options{Transport: testenv.HandlerTransport{Handler: fake}}
		e, err := New(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		e.Round(t.Context())
		if err := e.save(); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(journalPath(cfg.Checkpoint)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(cfg.Interval)
		e.Round(t.Context())
		if err := e.save(); err == nil {
			t.Error("a save into a journal that lost its records succeeded")
		}
		if err := e.save(); err != nil {
			t.Fatalf("the snapshot after it: %v", err)
		}
		e, err = New(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		e.Round(context.Background())
		if got, want := executionsOf(t, e, "p", "f"), fake.visible(time.Now()); got != float64(want) {
			t.Errorf("%v executions counted, %d happened", got, want)
		}
	})
}

// The IDs waiting for the journal are never more than the de-duplication
// set holds: with no checkpoint (or one that cannot be written) nothing
// saves them, and a backlog of executions must not pile up in memory
// (BenchmarkExporterBacklog's retained heap grew with n when it did).
func TestUnsavedIDsBoundedWithoutACheckpoint(t *testing.T) {
	const n = 30_000
	cfg := fakeConfig(t, "f1")
	cfg.Functions[0].Project = testProject
	cfg.Backfill = n*time.Second + 2*time.Minute
	origin := time.Now().Add(-n*time.Second - time.Minute).Truncate(time.Second)
	e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: &backlogEndpoint{origin: origin, n: n}}})
	if err != nil {
		t.Fatal(err)
	}
	f := e.fns[cfg.Functions[0].key()]
	for rounds := 0; rounds < 4*n/cfg.PageSize && counted(e, "f1") < n; rounds++ {
		e.Round(t.Context())
	}
	if got := counted(e, "f1"); got != n {
		t.Fatalf("counted %v executions, want %d", got, n)
	}
	if s := f.stream; len(s.added) > len(s.seen) {
		t.Errorf("%d IDs wait for a checkpoint that never comes, %d are kept for de-duplication", len(s.added), len(s.seen))
	}
	if err := e.save(); err != nil {
		t.Fatal(err)
	}
	if s := f.stream; len(s.added) != 0 || len(f.hours.changed) != 0 {
		t.Errorf("after a save without a checkpoint, %d IDs and %d hours still wait", len(s.added), len(f.hours.changed))
	}
}
