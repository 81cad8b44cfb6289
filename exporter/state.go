package exporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	Seen          map[string]time.Time `json:"seen"`
	Counts        map[string]float64   `json:"counts"` // "status|trigger"
	BilledSeconds float64              `json:"billedSeconds"`
	CostGBSeconds float64              `json:"costGBSeconds"`
	Retries       float64              `json:"retries"`
	LastRun       time.Time            `json:"lastRun"`

	scan      *scan
	nextStats time.Time
}

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
	var cp checkpointFile
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s is unreadable (move it away to start over): %w", path, err)
	}
	if cp.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint %s has version %d, want %d", path, cp.Version, checkpointVersion)
	}
	for k, st := range cp.Functions {
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
	return os.Rename(tmp.Name(), path)
}
