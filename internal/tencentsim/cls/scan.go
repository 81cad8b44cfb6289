package cls

import (
	"math"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/cls/analysis"
	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
)

// A topic's records are never stored: a request's start is arithmetic in
// its index (invocations.Model.Range), so the records of a time window are
// found by computing only the requests that can have written lines in it,
// function by function. A condition is first decided on what a function
// alone determines (its name and namespace), then on what a request
// determines (start, request ID, qualifier), and only the requests it
// leaves are rendered line by line. A query's cost is the records it
// examined (scanned), which the latency model charges.

// Topic is a CLS log topic and the functions that deliver to it.
type Topic struct {
	ID, Name, Region, LogsetID string
	Index                      Index
	fns                        []*invocations.Model
	// maxDurNs is the longest a request of the topic runs: its lines are
	// written within it after its start.
	maxDurNs int64
}

// window is a scan's time range of log times [lo, hi) and the clock.
type window struct {
	lo, hi, now int64
}

// scan calls yield with each record of t in w matching c, function by
// function, until yield returns false; it returns the records examined.
func (t *Topic) scan(c cond, w window, yield func(*record, *evalCtx) bool) (scanned int64) {
	x := &evalCtx{idx: &t.Index}
	hi := min(w.hi, w.now+1) // a line is visible once written
	// SCF_StartTime is whole ms: start_ms >= L iff StartNs >= ceil(L) ms,
	// start_ms <= H iff StartNs < (floor(H)+1) ms.
	bLo, bHi := startBounds(c)
	startLo, startHi := msToNs(math.Ceil(bLo)), msToNs(math.Floor(bHi)+1)
	var rec record
	for _, f := range t.fns {
		rec = record{r: invocations.Record{Model: f}}
		x.reset(&rec, levelFunction)
		if c.eval(x) == no {
			continue
		}
		// Requests whose lines can fall in [lo, hi), within the start bounds.
		each := func(first, last int64, at func(int64) invocations.Record) bool {
			for i := first; i <= last; i++ {
				rec.r = at(i)
				n, more := t.scanRequest(&rec, c, x, w.lo, hi, yield)
				scanned += n
				if !more {
					return false
				}
			}
			return true
		}
		first, last := f.Range(max(w.lo-f.TimeoutMs*int64(time.Millisecond), startLo), min(hi, startHi))
		if !each(first, last, f.Exec) {
			return scanned
		}
		first, last = f.ProvisionRange(max(w.lo-t.maxDurNs, startLo), min(hi, startHi))
		if !each(first, last, f.ProvisionAt) {
			return scanned
		}
	}
	return scanned
}

// scanRequest yields the lines of one request in [lo, hi) matching c.
func (t *Topic) scanRequest(rec *record, c cond, x *evalCtx, lo, hi int64, yield func(*record, *evalCtx) bool) (int64, bool) {
	x.reset(rec, levelRequest)
	if c.eval(x) == no {
		return 0, true
	}
	var buf [10]invocations.Line
	var n int64
	for _, l := range rec.r.Lines(buf[:0]) {
		if l.TimeNs < lo || l.TimeNs >= hi {
			continue
		}
		rec.line = l
		n++
		if x.reset(rec, levelKind); c.eval(x) == no {
			continue
		}
		x.reset(rec, levelLine)
		if c.eval(x) == yes && !yield(rec, x) {
			return n, false
		}
	}
	return n, true
}

// msToNs converts whole ms to ns, clamping infinities (and absurd
// bounds) to ±2^62.
func msToNs(ms float64) int64 {
	const limit = 1 << 62
	switch {
	case ms*1e6 <= -limit:
		return -limit
	case ms*1e6 >= limit:
		return limit
	}
	return int64(ms) * int64(time.Millisecond)
}

// position is where a record stands in a topic's order; a cursor resumes
// after one.
type position struct {
	timeNs    int64
	fnKey     uint64
	provision bool
	index     int64
	line      invocations.LineKind
}

func positionOf(r *record) position {
	return position{r.line.TimeNs, r.r.Model.Key(), r.r.Provision, r.r.Index, r.line.Kind}
}

// cmpPosition orders a topic's records by time, then function, then
// request, then line: the order of Sort=asc; desc is its exact reverse,
// so paging is stable.
func cmpPosition(a, b position) int {
	switch {
	case a.timeNs != b.timeNs:
		return cmpInt(a.timeNs, b.timeNs)
	case a.fnKey != b.fnKey:
		if a.fnKey < b.fnKey {
			return -1
		}
		return 1
	case a.provision != b.provision:
		return boolInt(a.provision) - boolInt(b.provision)
	case a.index != b.index:
		return cmpInt(a.index, b.index)
	}
	return int(a.line) - int(b.line)
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// hit is a matched record with its position and LogInfo's text.
type hit struct {
	rec record
	pos position
}

// order compares positions in a search's order (asc or desc).
func order(desc bool) func(a, b *hit) int {
	if desc {
		return func(a, b *hit) int { return cmpPosition(b.pos, a.pos) }
	}
	return func(a, b *hit) int { return cmpPosition(a.pos, b.pos) }
}

// raw finds the first k matching records of t in w, in order, after the
// cursor position (if any).
func (t *Topic) raw(c cond, w window, desc bool, after *position, k int) ([]hit, int64) {
	top := &invocations.TopK[hit]{K: k, Cmp: order(desc)}
	var from hit
	if after != nil {
		from.pos = *after
	}
	scanned := t.scan(c, w, func(r *record, _ *evalCtx) bool {
		h := hit{*r, positionOf(r)}
		if after == nil || top.Cmp(&from, &h) < 0 {
			top.Add(h)
		}
		return true
	})
	return top.Sorted(), scanned
}

// recordRow is a record as a row of logColumns.
type recordRow struct{ x *evalCtx }

func (r recordRow) Col(i int) analysis.Value {
	f := field(i)
	if f == fTimestamp {
		return analysis.BigintValue(r.x.rec.long(fTimestamp))
	}
	switch scfFields[f].typ {
	case fieldLong:
		return analysis.BigintValue(r.x.rec.long(f))
	case fieldDouble:
		return analysis.DoubleValue(r.x.rec.double(f))
	}
	return analysis.VarcharValue(string(r.x.text(f)))
}
