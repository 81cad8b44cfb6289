package exporter

import (
	"sync/atomic"
	"time"
)

// stream is one sequence of pages the exporter scans with a cursor: one
// function's logs (a getFunctionLogs project), or every function of a
// project that logs to one CLS topic (through the proxy's project route).
// Its cursor, the IDs it saw in the overlap and its newest execution are
// checkpointed; the counters are the functions'.
type stream struct {
	key     string // streamKey
	project string
	// function is a function stream's function ID; topic a topic
	// stream's topic ("" for none).
	function, topic string

	// Cursor: every execution that started before cursor-Overlap has been
	// counted.
	cursor time.Time
	// newest is the start of the newest execution the stream counted.
	newest time.Time
	// seen maps the IDs counted within the overlap (the request ID; on a
	// topic stream the function ID, "/" and the request ID) to their start
	// in Unix ms.
	seen map[string]int64

	scan *scan
	// lastRows is how many executions the last whole scan read (-1: none
	// yet).
	lastRows int

	// What the checkpoint has not seen yet: seen IDs added, and whether
	// the cursor must be written (the first one, or a rewind; a cursor
	// that only moved on is covered by the checkpoint's floor).
	added         []string
	cursorChanged bool

	// For scrapes, which run beside the polling loop: the cursor (0: none
	// yet), the last turn without an error (Unix ms, 0: none), and whether
	// the last turn succeeded (once one was made: polled).
	cursorNanos atomic.Int64
	lastSuccess atomic.Int64
	up, polled  atomic.Bool
	// calls counts the requests of the current round, for the capacity.
	calls int
	// polls counts the requests by result; pollDuration times them.
	polls        [numPollResults]float64
	pollDuration histogram
}

func functionStreamKey(project, function string) string { return "fn:" + project + "/" + function }
func topicStreamKey(project, topic string) string       { return "topic:" + project + "/" + topic }

func newStream(key, project string) *stream {
	return &stream{key: key, project: project, seen: map[string]int64{}, lastRows: -1}
}

func (s *stream) setCursor(t time.Time) {
	if s.cursor.IsZero() != t.IsZero() || t.Before(s.cursor) {
		s.cursorChanged = true
	}
	s.cursor = t
	if t.IsZero() {
		s.cursorNanos.Store(0)
		return
	}
	s.cursorNanos.Store(t.UnixNano())
}

// dedupeKey is the key of execution id of function fn in s.seen.
func (s *stream) dedupeKey(fn, id string) string {
	if s.function != "" {
		return id
	}
	return fn + "/" + id
}

// scan walks one window, possibly over several turns: its slices (one,
// or for a topic stream up to the proxy's share of the topic's queries)
// each newest first, page by page.
type scan struct {
	// top is the window's end when the scan started; the cursor moves
	// there once every slice is read.
	top    time.Time
	slices []*slice
	// rows counts the executions the scan's pages held, which sizes the
	// next scan's slices.
	rows int
}

// slice is a part of a scan's window, [since, until] at whole seconds.
type slice struct {
	since, until time.Time
	offset       int
	done         bool
}

// fnState is what the exporter has counted of one function, which the
// checkpoint keeps: the counters continue from it after a restart.
type fnState struct {
	cfg     FunctionConfig
	counts  [numOutcomes]float64
	billed  float64
	retries float64
	lastRun time.Time
	hours   window
	// duration and memory are the histograms of the executions counted
	// since the start (a restart starts them over, as any counter reset);
	// exemplars the last execution of each duration bucket, when spans are
	// exported (nil otherwise).
	duration  histogram
	memory    histogram
	exemplars []exemplar
	// stream is the stream that last counted one of its executions (nil:
	// none yet), whose cursor and success the function's freshness
	// gauges show.
	stream *stream
	// dirty: counted since the checkpoint last saw it.
	dirty bool
}
