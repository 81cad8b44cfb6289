package exporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// fnState is what the exporter knows of one function. The exported
// fields are the checkpoint: the cursor, the IDs seen in the overlap
// window and the counter totals, written together so that a restart
// neither drops nor re-counts an execution.
type fnState struct {
	// Cursor: every execution that started before Cursor-Overlap has been
	// counted.
	Cursor time.Time `json:"cursor"`
	// Seen maps the IDs counted within the overlap to their start times.
	Seen map[string]time.Time `json:"seen"`
	// Counts are keyed "status|trigger|outcome"; checkpoints written
	// before outcomes existed have "status|trigger" (see countKey).
	Counts        map[string]float64 `json:"counts"`
	BilledSeconds float64            `json:"billedSeconds"`
	CostGBSeconds float64            `json:"costGBSeconds"`
	Retries       float64            `json:"retries"`
	LastRun       time.Time          `json:"lastRun"`

	scan      *scan
	nextStats time.Time
	// cursorNanos mirrors Cursor for scrapes, which run beside the
	// polling loop (0: no cursor yet).
	cursorNanos atomic.Int64
}

func (st *fnState) setCursor(t time.Time) {
	st.Cursor = t
	if t.IsZero() {
		st.cursorNanos.Store(0)
		return
	}
	st.cursorNanos.Store(t.UnixNano())
}

// countKey parses a Counts key. Keys written before outcomes existed carry
// none; their failures become "error", the class that claims no more than
// "failed" did.
func countKey(k string) (status, trigger, outcome string, err error) {
	parts := strings.Split(k, "|")
	switch {
	case len(parts) == 3:
		status, trigger, outcome = parts[0], parts[1], parts[2]
	case len(parts) == 2 && parts[0] == statusSuccess:
		status, trigger, outcome = parts[0], parts[1], outcomeSuccess
	case len(parts) == 2:
		status, trigger, outcome = parts[0], parts[1], outcomeError
	default:
		return "", "", "", fmt.Errorf("count key %q is not status|trigger|outcome", k)
	}
	if statusOf(outcome) != status || trigger == "" {
		return "", "", "", fmt.Errorf("count key %q: no such status, trigger and outcome", k)
	}
	return status, trigger, outcome, nil
}

// validate refuses what no exporter writes and counters cannot take.
func (st *fnState) validate() error {
	for k, n := range st.Counts {
		if _, _, _, err := countKey(k); err != nil {
			return err
		}
		if !countable(n) {
			return fmt.Errorf("count %q is %v", k, n)
		}
	}
	for name, v := range map[string]float64{"billedSeconds": st.BilledSeconds, "costGBSeconds": st.CostGBSeconds, "retries": st.Retries} {
		if !countable(v) {
			return fmt.Errorf("%s is %v", name, v)
		}
	}
	return nil
}

func countable(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }

// scan walks one window newest first, page by page, possibly over several
// turns.
type scan struct {
	since, until time.Time
	// top is the window's end when the scan started; the cursor moves
	// there once the whole window is read.
	top    time.Time
	offset int
}

func newFnState() *fnState {
	return &fnState{Seen: map[string]time.Time{}, Counts: map[string]float64{}}
}

const checkpointVersion = 1

type checkpointFile struct {
	Version   int                 `json:"version"`
	Functions map[string]*fnState `json:"functions"`
}

func loadCheckpoint(path string) (map[string]*fnState, error) {
	out := map[string]*fnState{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	cp, err := decodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("unreadable checkpoint %s (move it away to start over): %w", path, err)
	}
	return cp, nil
}

func decodeCheckpoint(b []byte) (map[string]*fnState, error) {
	var cp checkpointFile
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, err
	}
	if cp.Version != checkpointVersion {
		return nil, fmt.Errorf("version %d, want %d", cp.Version, checkpointVersion)
	}
	out := map[string]*fnState{}
	for k, st := range cp.Functions {
		if st == nil {
			return nil, fmt.Errorf("%q: null", k)
		}
		if err := st.validate(); err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
		st.setCursor(st.Cursor)
		if st.Seen == nil {
			st.Seen = map[string]time.Time{}
		}
		if st.Counts == nil {
			st.Counts = map[string]float64{}
		}
		out[k] = st
	}
	return out, nil
}

// saveCheckpoint writes atomically: a crash leaves the old file or the new
// one, never half of one.
func saveCheckpoint(path string, states map[string]*fnState) error {
	b, err := json.Marshal(checkpointFile{Version: checkpointVersion, Functions: states})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
