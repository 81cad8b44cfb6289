package exporter

import "time"

// windowHours is how many clock hours the window gauges cover: the
// current one and the 23 before it, so never more than a day.
const windowHours = 24

// ringHours keeps one hour more than the window: an execution that
// started late in the previous hour may finish, and be read, in this one.
const ringHours = windowHours + 1

// hourBucket is what started in one clock hour: executions, the
// successful ones, and the sum of their durations.
type hourBucket struct {
	hour       int64 // Unix hours; 0: empty
	executions float64
	successes  float64
	durationMs float64
}

// window holds a function's executions by the hour they started in, for
// the mudscf_function_window_* gauges. They used to come from the
// endpoint's stats, at two GetFunctionLogs calls per function per minute;
// every stats field is a count or a mean over the executions of the
// window, which the exporter reads anyway. What the counts cannot hold is
// what happened before a function's coverage began (its backfill): for
// the first day the gauges leave that out.
type window struct {
	ring [ringHours]hourBucket
	// changed are the hours added to since the checkpoint last saw them.
	changed map[int64]bool
}

// add counts an execution that started at start.
func (w *window) add(start time.Time, success bool, durationMs float64) {
	h := start.Unix() / 3600
	b := &w.ring[h%ringHours]
	switch {
	case b.hour > h:
		return // older than the ring
	case b.hour < h:
		*b = hourBucket{hour: h}
	}
	b.executions++
	if success {
		b.successes++
	}
	b.durationMs += durationMs
	if w.changed == nil {
		w.changed = map[int64]bool{}
	}
	w.changed[h] = true
}

// set restores one hour from a checkpoint.
func (w *window) set(b hourBucket) {
	slot := &w.ring[b.hour%ringHours]
	if slot.hour <= b.hour {
		*slot = b
	}
}

// bucket is hour h, or an empty one.
func (w *window) bucket(h int64) hourBucket {
	if b := w.ring[h%ringHours]; b.hour == h {
		return b
	}
	return hourBucket{hour: h}
}

// sums are the window's executions, successes and total duration at now.
func (w *window) sums(now time.Time) (executions, successes, durationMs float64) {
	h := now.Unix() / 3600
	for _, b := range w.ring {
		if b.hour > h-windowHours && b.hour <= h {
			executions += b.executions
			successes += b.successes
			durationMs += b.durationMs
		}
	}
	return executions, successes, durationMs
}
