package exporter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The checkpoint is a snapshot (the configured file, replaced atomically)
// and a journal beside it (".journal"), to which each save appends what
// changed since the last one: the seen IDs added and the cursors they
// belong to, and the counters of the functions that counted something. A
// save costs what changed, not what the exporter knows, so a round in
// which nothing happened writes a few dozen bytes whatever the number of
// functions. When the journal outgrows the snapshot, a new snapshot
// replaces both.
//
// A function stream whose cursor only moved on is not written: the
// record's floor, the oldest cursor of all, stands for it (see restore).
//
// Every record is framed by its length and CRC-32C and applied whole or
// not at all. A record cut short at the journal's end (the process killed
// in the middle of a write) is dropped: what it held was not yet saved,
// and is read and counted again. A damaged record anywhere else, or a
// damaged snapshot, is an unreadable checkpoint.

const checkpointVersion = 2

// stateRecord is a snapshot, or one save's changes in the journal.
type stateRecord struct {
	Version int    `json:"version,omitempty"` // snapshots only
	Seq     uint64 `json:"seq"`
	// Floor is the oldest cursor of every stream with one, at the save
	// (Unix ms): each stream's cursor was at least this then.
	Floor     int64                      `json:"floor,omitempty"`
	Streams   map[string]*streamRecord   `json:"streams,omitempty"`
	Functions map[string]*functionRecord `json:"functions,omitempty"`
}

// streamRecord is a stream's cursor, newest execution (Unix ms) and seen
// IDs; in the journal, the seen IDs added since the last save.
type streamRecord struct {
	Cursor int64            `json:"cursor,omitempty"`
	Newest int64            `json:"newest,omitempty"`
	Seen   map[string]int64 `json:"seen,omitempty"`
}

// functionRecord is a function's counters; in the journal, only the hours
// that changed.
type functionRecord struct {
	Counts        map[string]float64    `json:"counts,omitempty"` // by outcome
	BilledSeconds float64               `json:"billedSeconds,omitempty"`
	Retries       float64               `json:"retries,omitempty"`
	LastRun       int64                 `json:"lastRun,omitempty"` // Unix ms
	Hours         map[string][3]float64 `json:"hours,omitempty"`   // Unix hour: executions, successes, duration ms
}

// apply merges a journal record into r.
func (r *stateRecord) apply(d *stateRecord) {
	r.Seq = d.Seq
	if d.Floor != 0 {
		r.Floor = d.Floor
	}
	for k, s := range d.Streams {
		cur, ok := r.Streams[k]
		if !ok {
			cur = &streamRecord{Seen: map[string]int64{}}
			r.Streams[k] = cur
		}
		cur.Cursor, cur.Newest = s.Cursor, s.Newest
		for id, at := range s.Seen {
			cur.Seen[id] = at
		}
	}
	for k, f := range d.Functions {
		cur, ok := r.Functions[k]
		if !ok {
			cur = &functionRecord{}
			r.Functions[k] = cur
		}
		hours := cur.Hours
		*cur = *f
		cur.Hours = hours
		for h, v := range f.Hours {
			if cur.Hours == nil {
				cur.Hours = map[string][3]float64{}
			}
			cur.Hours[h] = v
		}
	}
}

// validate refuses what no exporter writes and counters cannot take.
func (r *stateRecord) validate() error {
	for k, s := range r.Streams {
		if s == nil {
			return fmt.Errorf("stream %q: null", k)
		}
		if !strings.HasPrefix(k, "fn:") && !strings.HasPrefix(k, "topic:") {
			return fmt.Errorf("stream %q: neither a function's nor a topic's", k)
		}
	}
	for k, f := range r.Functions {
		if f == nil {
			return fmt.Errorf("%q: null", k)
		}
		for o, n := range f.Counts {
			if outcomeIndex(o) < 0 {
				return fmt.Errorf("%q: no outcome %q", k, o)
			}
			if !countable(n) {
				return fmt.Errorf("%q: count %q is %v", k, o, n)
			}
		}
		for name, v := range map[string]float64{"billedSeconds": f.BilledSeconds, "retries": f.Retries} {
			if !countable(v) {
				return fmt.Errorf("%q: %s is %v", k, name, v)
			}
		}
		for h, v := range f.Hours {
			if _, err := strconv.ParseInt(h, 10, 64); err != nil {
				return fmt.Errorf("%q: hour %q", k, h)
			}
			for _, n := range v {
				if !countable(n) {
					return fmt.Errorf("%q: hour %s holds %v", k, h, n)
				}
			}
		}
	}
	return nil
}

func countable(v float64) bool { return v >= 0 && !math.IsInf(v, 1) && !math.IsNaN(v) }

func emptyState() *stateRecord {
	return &stateRecord{Version: checkpointVersion, Streams: map[string]*streamRecord{}, Functions: map[string]*functionRecord{}}
}

// checkpointFiles writes the snapshot and the journal.
type checkpointFiles struct {
	path string
	// journalSize is the journal's length after its last whole record.
	journalSize, snapshotSize int64
	seq                       uint64
	// broken: an append failed and may have left part of a record; the
	// next save is a snapshot, which starts the journal afresh.
	broken bool
}

func journalPath(path string) string { return path + ".journal" }

// openCheckpoint reads the checkpoint at path (nothing there: an empty
// state) and opens its journal for appending, a record cut short at its
// end removed.
func openCheckpoint(path string) (*checkpointFiles, *stateRecord, error) {
	state, err := readSnapshot(path)
	if err != nil {
		return nil, nil, err
	}
	c := &checkpointFiles{path: path}
	j, err := os.ReadFile(journalPath(path))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("checkpoint journal: %w", err)
	}
	good, err := replay(j, state)
	if err != nil {
		return nil, nil, fmt.Errorf("unreadable checkpoint %s (move it and its journal away to start over): journal: %w", path, err)
	}
	if err := state.validate(); err != nil {
		return nil, nil, fmt.Errorf("unreadable checkpoint %s (move it and its journal away to start over): %w", path, err)
	}
	c.seq, c.journalSize = state.Seq, int64(good)
	return c, state, nil
}

func readSnapshot(path string) (*stateRecord, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return emptyState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	state, err := decodeSnapshot(b)
	if err != nil {
		return nil, fmt.Errorf("unreadable checkpoint %s (move it away to start over): %w", path, err)
	}
	return state, nil
}

func decodeSnapshot(b []byte) (*stateRecord, error) {
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	switch v.Version {
	case 1:
		return decodeVersion1(b)
	case checkpointVersion:
	default:
		return nil, fmt.Errorf("version %d, want %d", v.Version, checkpointVersion)
	}
	state := emptyState()
	if err := json.Unmarshal(b, state); err != nil {
		return nil, err
	}
	if err := state.validate(); err != nil {
		return nil, err
	}
	for _, s := range state.Streams {
		if s.Seen == nil {
			s.Seen = map[string]int64{}
		}
	}
	return state, nil
}

// recordHeader is a journal record's length and CRC-32C.
const recordHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// replay applies the journal's records newer than state's snapshot, and
// returns the length of its whole records: a record cut short or damaged
// at the very end is a write the process did not finish, and ends the
// journal there.
func replay(j []byte, state *stateRecord) (int, error) {
	off := 0
	for off < len(j) {
		if len(j)-off < recordHeader {
			return off, nil
		}
		n := int(binary.BigEndian.Uint32(j[off:]))
		sum := binary.BigEndian.Uint32(j[off+4:])
		end := off + recordHeader + n
		if end > len(j) {
			return off, nil
		}
		payload := j[off+recordHeader : end]
		if crc32.Checksum(payload, castagnoli) != sum {
			if end == len(j) {
				return off, nil
			}
			return 0, fmt.Errorf("record at byte %d is damaged", off)
		}
		var d stateRecord
		dec := json.NewDecoder(bytes.NewReader(payload))
		if err := dec.Decode(&d); err != nil {
			return 0, fmt.Errorf("record at byte %d: %w", off, err)
		}
		if err := d.validate(); err != nil {
			return 0, fmt.Errorf("record at byte %d: %w", off, err)
		}
		if d.Seq > state.Seq {
			state.apply(&d)
		}
		off = end
	}
	return off, nil
}

// appendRecord writes d at the journal's end and syncs it; it returns the
// bytes written. The journal is opened for each record: a save is once
// per interval, and a journal deleted or replaced behind the exporter's
// back (a volume remounted) is then noticed, and answered with a
// snapshot, rather than written into an unlinked file.
func (c *checkpointFiles) appendRecord(d *stateRecord) (int64, error) {
	if c.broken {
		return 0, errors.New("the journal needs a snapshot first")
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, recordHeader+len(payload))
	binary.BigEndian.PutUint32(buf, uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[4:], crc32.Checksum(payload, castagnoli))
	copy(buf[recordHeader:], payload)
	if err := c.writeRecord(buf); err != nil {
		c.broken = true
		return 0, fmt.Errorf("checkpoint journal: %w", err)
	}
	c.journalSize += int64(len(buf))
	c.seq = d.Seq
	return int64(len(buf)), nil
}

func (c *checkpointFiles) writeRecord(buf []byte) error {
	f, err := os.OpenFile(journalPath(c.path), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	switch {
	case st.Size() < c.journalSize:
		return fmt.Errorf("the journal is shorter (%d bytes) than what was written to it (%d): it was changed by someone else", st.Size(), c.journalSize)
	case st.Size() > c.journalSize:
		// Whatever follows the last whole record was not finished.
		if err := f.Truncate(c.journalSize); err != nil {
			return err
		}
	}
	if _, err := f.WriteAt(buf, c.journalSize); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// needsSnapshot: the journal has outgrown the snapshot (so writing one
// costs less than the journal already did), or is broken.
func (c *checkpointFiles) needsSnapshot() bool {
	return c.broken || c.journalSize > max(c.snapshotSize, minJournal)
}

// minJournal is the journal a snapshot is never written for.
const minJournal = 1 << 20

// writeSnapshot replaces the snapshot atomically with s, then empties the
// journal. A crash in between leaves the new snapshot and the journal,
// whose records it already holds (their seq is not above its own).
func (c *checkpointFiles) writeSnapshot(s *stateRecord) (int64, error) {
	s.Version = checkpointVersion
	b, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	if err := writeAtomically(c.path, b); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	c.snapshotSize, c.seq = int64(len(b)), s.Seq
	if err := os.Truncate(journalPath(c.path), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.broken = true
		return int64(len(b)), fmt.Errorf("checkpoint journal: %w", err)
	}
	c.journalSize, c.broken = 0, false
	return int64(len(b)), nil
}

// writeAtomically replaces path with b: a crash leaves the old file or the
// new one, never half of one.
func writeAtomically(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename itself is durable once the directory is.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// decodeVersion1 reads the checkpoint of exporters before the journal:
// one entry per function with its cursor, seen IDs and counters, counts
// keyed "status|trigger|outcome" (or "status|trigger", from before
// outcomes). Its cost counter is no longer kept.
func decodeVersion1(b []byte) (*stateRecord, error) {
	var cp struct {
		Functions map[string]*struct {
			Cursor        time.Time            `json:"cursor"`
			Seen          map[string]time.Time `json:"seen"`
			Counts        map[string]float64   `json:"counts"`
			BilledSeconds float64              `json:"billedSeconds"`
			CostGBSeconds float64              `json:"costGBSeconds"`
			Retries       float64              `json:"retries"`
			LastRun       time.Time            `json:"lastRun"`
		} `json:"functions"`
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, err
	}
	state := emptyState()
	for k, f := range cp.Functions {
		if f == nil {
			return nil, fmt.Errorf("%q: null", k)
		}
		project, function, ok := strings.Cut(k, "/")
		if !ok {
			return nil, fmt.Errorf("%q is not project/function", k)
		}
		if !countable(f.CostGBSeconds) {
			return nil, fmt.Errorf("%q: costGBSeconds is %v", k, f.CostGBSeconds)
		}
		fr := &functionRecord{Counts: map[string]float64{}, BilledSeconds: f.BilledSeconds, Retries: f.Retries, LastRun: unixMs(f.LastRun)}
		for key, n := range f.Counts {
			outcome, err := version1Outcome(key)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			if !countable(n) {
				return nil, fmt.Errorf("%q: count %q is %v", k, key, n)
			}
			fr.Counts[outcome] += n
		}
		sr := &streamRecord{Cursor: unixMs(f.Cursor), Newest: unixMs(f.LastRun), Seen: map[string]int64{}}
		for id, at := range f.Seen {
			sr.Seen[id] = unixMs(at)
		}
		state.Functions[k] = fr
		state.Streams[functionStreamKey(project, function)] = sr
	}
	return state, state.validate()
}

// version1Outcome reads a version-1 count key. Keys written before
// outcomes existed carry none; their failures become "error", the class
// that claims no more than "failed" did.
func version1Outcome(k string) (string, error) {
	parts := strings.Split(k, "|")
	var status, trigger, outcome string
	switch {
	case len(parts) == 3:
		status, trigger, outcome = parts[0], parts[1], parts[2]
	case len(parts) == 2 && parts[0] == "success":
		status, trigger, outcome = parts[0], parts[1], outcomeSuccess
	case len(parts) == 2:
		status, trigger, outcome = parts[0], parts[1], outcomeError
	default:
		return "", fmt.Errorf("count key %q is not status|trigger|outcome", k)
	}
	want := "failed"
	if outcome == outcomeSuccess {
		want = "success"
	}
	if outcomeIndex(outcome) < 0 || status != want || trigger == "" {
		return "", fmt.Errorf("count key %q: no such status, trigger and outcome", k)
	}
	return outcome, nil
}

func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnixMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
