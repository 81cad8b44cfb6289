package invocations

import (
	"strconv"
	"time"
)

// What SCF writes for one invocation, line by line: the log text
// GetFunctionLogs returns (its lines joined by "\n") and the records CLS
// holds (one per line) are the same lines, so the two views of an
// execution can be compared. Tencent's "日志结构说明" page (583/60336)
// gives the order: START, the cold start's init log and "Init Report"
// (web and image functions only), the handler's own lines, "ERROR
// RequestId:… Result:…" (failures only), "Response RequestId:…
// RetMsg:…", END and "Report RequestId:… Duration:…ms Memory:…MB
// MemUsage:…MB". A provisioned instance writes its init log and a
// "Provisioned Report" with a request ID of its own, and nothing else.
//
// Spacing follows Tencent's sources: a real CLS row has "START RequestId:
// <id>" (with a space), the page has "Response RequestId:<id>", "ERROR
// RequestId:<id>" and "Init Report RequestId: <id> InitDuration: …ms"; the
// Node.js guide has "Report RequestId: <id> Duration:…ms".

// LineKind is a line's place in an invocation's log.
type LineKind uint8

const (
	LineStart             LineKind = iota // Platform
	LineInitLog                           // Custom: cold start of a web or image function
	LineInitReport                        // Platform: cold start of a web or image function
	LineInvoked                           // Custom: the handler's first print
	LineResult                            // Custom: the handler's last print (success or its own error)
	LineError                             // Platform: failures only
	LineResponse                          // Platform
	LineEnd                               // Platform
	LineReport                            // Platform: the final status, duration and memory
	LineProvisionLog                      // Custom: a provisioned instance's init log
	LineProvisionedReport                 // Platform: a provisioned instance's report
)

// Platform reports whether SCF (rather than the function's code) wrote
// the line: SCF_Type Platform, else Custom.
func (k LineKind) Platform() bool {
	switch k {
	case LineInitLog, LineInvoked, LineResult, LineProvisionLog:
		return false
	}
	return true
}

// Final reports whether the line closes its request and so carries its
// final status; the others say 202, "still running" (a real START row has
// "SCF_StatusCode":"202").
func (k LineKind) Final() bool { return k == LineReport || k == LineProvisionedReport }

// SCF status codes in CLS (583/42611): 200 success, 202 a line written
// while the request ran; failures keep their RetCode (430, 433, 434).
const (
	StatusSuccess = 200
	StatusRunning = 202
)

// Line is one line of a request's log.
type Line struct {
	Kind   LineKind
	TimeNs int64 // SCF_LogTime: unix ns, distinct and increasing within a request
}

// The lines of a request are spread over its run a microsecond apart, so
// their order by time is their order of writing; a run lasts at least a
// millisecond.
const lineStep = int64(time.Microsecond)

// EndNs is when the request's last line is written.
func (r *Record) EndNs() int64 { return r.StartNs + r.DurNs }

// Lines appends the request's lines in the order SCF writes them.
func (r *Record) Lines(dst []Line) []Line {
	start, end := r.StartNs, r.EndNs()
	if r.Provision {
		return append(dst, Line{LineProvisionLog, start + lineStep}, Line{LineProvisionedReport, end})
	}
	dst = append(dst, Line{LineStart, start})
	if r.Cold {
		dst = append(dst, Line{LineInitLog, start + lineStep}, Line{LineInitReport, start + 2*lineStep})
	}
	dst = append(dst, Line{LineInvoked, start + 3*lineStep})
	if r.Outcome == Succeeded || r.Outcome == UserError {
		dst = append(dst, Line{LineResult, end - 4*lineStep})
	}
	if r.Outcome != Succeeded {
		dst = append(dst, Line{LineError, end - 3*lineStep})
	}
	return append(dst, Line{LineResponse, end - 2*lineStep}, Line{LineEnd, end - lineStep}, Line{LineReport, end})
}

// StatusCode is SCF_StatusCode of the request's line k.
func (r *Record) StatusCode(k LineKind) int64 {
	switch {
	case !k.Final():
		return StatusRunning
	case r.Outcome == Succeeded:
		return StatusSuccess
	}
	return r.RetCode()
}

// Level is SCF_Level of line k: ERROR for a failure's lines, else INFO.
func (r *Record) Level(k LineKind) string {
	if k == LineError || (k == LineResult && r.Outcome == UserError) ||
		(k == LineResponse && r.Outcome != Succeeded) {
		return "ERROR"
	}
	return "INFO"
}

// initMs is a cold start's or a provisioned instance's InitDuration, and
// initUserMs the part of it the function's own initialisation took.
func (r *Record) initMs() int64     { return 200 + int64(r.variant>>3)%2800 }
func (r *Record) initUserMs() int64 { return r.initMs() * 3 / 5 }

// AppendMessage appends SCF_Message of line l.
func (r *Record) AppendMessage(b []byte, l Line) []byte {
	var retMsg string
	if l.Kind == LineResult || l.Kind == LineError || l.Kind == LineResponse {
		retMsg = r.RetMsg()
	}
	return r.appendMessage(b, l, r.RequestID(), retMsg)
}

// appendMessage is AppendMessage with the request ID and return value
// already formatted.
func (r *Record) appendMessage(b []byte, l Line, id, retMsg string) []byte {
	switch l.Kind {
	case LineStart:
		b = append(b, "START RequestId: "...)
		return append(b, id...)
	case LineInitLog:
		return r.appendUserLine(b, l, id, "INFO", "init: loading handler, runtime "+r.Model.Runtime)
	case LineInitReport, LineProvisionedReport:
		if l.Kind == LineInitReport {
			b = append(b, "Init Report RequestId: "...)
		} else {
			b = append(b, "Provisioned Report RequestId: "...)
		}
		b = append(b, id...)
		b = append(b, " InitDuration: "...)
		b = strconv.AppendInt(b, r.initMs(), 10)
		b = append(b, "ms Duration: "...)
		b = strconv.AppendInt(b, r.initUserMs(), 10)
		b = append(b, "ms Memory: "...)
		b = strconv.AppendInt(b, r.Model.MemorySizeMB, 10)
		b = append(b, "MB MemUsage: "...)
		b = strconv.AppendFloat(b, float64(r.Mem)/(1<<20), 'f', 2, 64)
		return append(b, "MB"...)
	case LineInvoked:
		return r.appendUserLine(b, l, id, "INFO", "invoked "+r.Qualifier())
	case LineResult:
		if r.Outcome == UserError {
			msg, trace := r.Exception()
			b = r.appendUserLine(b, l, id, "ERROR", msg)
			b = append(b, '\n')
			return append(b, trace...)
		}
		return r.appendUserLine(b, l, id, "INFO", "returned")
	case LineError:
		b = append(b, "ERROR RequestId:"...)
		b = append(b, id...)
		b = append(b, " Result:"...)
		return append(b, retMsg...)
	case LineResponse:
		b = append(b, "Response RequestId:"...)
		b = append(b, id...)
		b = append(b, " RetMsg:"...)
		return append(b, retMsg...)
	case LineEnd:
		b = append(b, "END RequestId: "...)
		return append(b, id...)
	case LineReport:
		b = append(b, "Report RequestId: "...)
		b = append(b, id...)
		b = append(b, " Duration:"...)
		b = strconv.AppendInt(b, int64(r.DurMs), 10)
		b = append(b, "ms Memory:"...)
		b = strconv.AppendInt(b, r.Model.MemorySizeMB, 10)
		b = append(b, "MB MemUsage:"...)
		b = strconv.AppendFloat(b, float64(r.Mem)/(1<<20), 'f', 6, 64)
		return append(b, "MB"...)
	case LineProvisionLog:
		return r.appendUserLine(b, l, id, "INFO", "provisioned instance: loading handler, runtime "+r.Model.Runtime)
	}
	return b
}

// appendUserLine formats a print of the function's code the way the
// runtimes do: time, request ID, level, text.
func (r *Record) appendUserLine(b []byte, l Line, id, level, text string) []byte {
	b = appendTimestamp(b, l.TimeNs)
	b = append(b, '\t')
	b = append(b, id...)
	b = append(b, "\t["...)
	b = append(b, level...)
	b = append(b, "] "...)
	return append(b, text...)
}

// LogText is the request's lines joined by "\n": GetFunctionLogs's Log.
func (r *Record) LogText() string {
	var lines [10]Line
	b := make([]byte, 0, 768)
	id, retMsg := r.RequestID(), r.RetMsg()
	for i, l := range r.Lines(lines[:0]) {
		if i > 0 {
			b = append(b, '\n')
		}
		b = r.appendMessage(b, l, id, retMsg)
	}
	return string(b)
}

// provisionPeriod is how often a web or image function's provisioned
// instances start: the simulator's choice, frequent enough that a day's
// logs hold a few dozen "Provisioned Report" lines.
const provisionPeriod = int64(time.Hour)

// ProvisionRange is the span of indexes of the provisioned instances that
// started in [lo, hi) (unix ns), empty (first > last) for event functions.
func (f *Model) ProvisionRange(lo, hi int64) (first, last int64) {
	if !f.initLines {
		return 0, -1
	}
	base := f.firstNs + int64(f.key%uint64(provisionPeriod))
	first = max(floorDiv(lo-base+provisionPeriod-1, provisionPeriod), 0)
	last = floorDiv(hi-1-base, provisionPeriod)
	if !f.Until.IsZero() {
		last = min(last, floorDiv(f.Until.UnixNano()-base, provisionPeriod))
	}
	return first, last
}

// ProvisionAt is provisioned instance i of a web or image function: a
// record with a request ID of its own, no invocation.
func (f *Model) ProvisionAt(i int64) Record {
	s := f.key ^ 0xA0761D6478BD642F + uint64(i)*0xE7037ED1A0B428DB
	r := Record{Model: f, Index: i, Provision: true, q: uint8(len(f.Qualifiers) - 1)}
	r.StartNs = f.firstNs + int64(f.key%uint64(provisionPeriod)) + i*provisionPeriod
	r.variant = uint32(splitMix64(&s))
	r.DurMs = float64(r.initMs())
	r.DurNs = int64(r.DurMs) * int64(time.Millisecond)
	r.Mem = int64(0.05*float64(f.memBytes)) / 4096 * 4096
	fillID(&r.ID, &s)
	return r
}

// appendTimestamp writes ns as "2006-01-02T15:04:05.000Z", by hand: a
// page of 10,000 logs formats 30,000 of them.
func appendTimestamp(b []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	b = appendDigits(b, y, 4)
	b = appendDigits(append(b, '-'), int(mo), 2)
	b = appendDigits(append(b, '-'), d, 2)
	b = appendDigits(append(b, 'T'), h, 2)
	b = appendDigits(append(b, ':'), mi, 2)
	b = appendDigits(append(b, ':'), sec, 2)
	b = appendDigits(append(b, '.'), t.Nanosecond()/1e6, 3)
	return append(b, 'Z')
}

// appendDigits writes v in n digits, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, "0000"[:n]...)
	for i := len(b) - 1; i >= len(b)-n; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}
