package invocations

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Outcome is how an execution ended.
type Outcome uint8

const (
	Succeeded Outcome = iota
	UserError
	TimedOut
	OutOfMemory
)

// The RetCodes of failures, from Tencent's "Cloud Function Status Code"
// table: 430 user code exception, 433 timeout, 434 memory limit.
const (
	RetCodeUserError = 430
	RetCodeTimeout   = 433
	RetCodeMemory    = 434
)

// Model is a Function with the per-function constants the generator
// needs.
type Model struct {
	Function
	key      uint64 // hash of seed, region, namespace, name
	periodNs int64  // nanoseconds between two executions
	firstNs  int64  // start of execution 0 (Origin + phase), unix ns
	lastIdx  int64  // index of the last execution (Function.Until)
	memBytes int64
	timeout  string // RetMsg of a timed-out execution
	// initLines: a web or image function, which logs its initialisation.
	initLines bool
}

// Key is a hash of the seed, region, namespace and name: a stable source
// of per-function variety (IDs, creation times) for the services.
func (f *Model) Key() uint64 { return f.key }

// Record is an execution reduced to what filtering and sorting need; the
// services build their (comparatively expensive) records of it only for
// the rows they return.
type Record struct {
	Model   *Model
	Index   int64 // the execution's number within its function
	StartNs int64 // unix ns
	DurNs   int64
	DurMs   float64 // DurNs in whole milliseconds, as SCF reports durations
	Mem     int64   // bytes, whole 4 KiB pages
	ID      [16]byte
	Outcome Outcome
	Retries uint8
	// Cold marks an invocation that started a new instance of a web or
	// image function, whose log then carries the initialisation's lines.
	Cold bool
	// Provision marks a record that is no invocation: a provisioned
	// instance's initialisation (ProvisionAt), with a request ID of its own.
	Provision bool
	q         uint8
	variant   uint32
}

// RetCode is the execution's RetCode: 0 or one of the failures'.
func (r *Record) RetCode() int64 {
	switch r.Outcome {
	case UserError:
		return RetCodeUserError
	case TimedOut:
		return RetCodeTimeout
	case OutOfMemory:
		return RetCodeMemory
	}
	return 0
}

// Qualifier is the version the execution ran.
func (r *Record) Qualifier() string { return r.Model.Qualifiers[r.q] }

// RequestID is the execution's RequestId in canonical form.
func (r *Record) RequestID() string { return FormatID(r.ID) }

// splitMix64 is a tiny stateless-seedable PRNG: each execution gets its own
// stream, so any execution can be computed without its predecessors.
func splitMix64(s *uint64) uint64 {
	*s += 0x9E3779B97F4A7C15
	z := *s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func unit(s *uint64) float64 { return float64(splitMix64(s)>>11) / (1 << 53) }

// NewModel prepares the generator of f's executions; f must have its
// defaults (WithDefaults).
func NewModel(f Function, seed int64, origin time.Time) *Model {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatInt(seed, 10)))
	for _, p := range []string{f.Region, f.Namespace, f.Name} {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	key := h.Sum64()
	period := int64(math.Round(1e9 / f.RatePerSecond))
	if period < 1 {
		period = 1
	}
	ps := key ^ 0x5DEECE66D
	phase := int64(splitMix64(&ps) % uint64(period))
	lastIdx := int64(math.MaxInt64)
	if !f.Until.IsZero() {
		lastIdx = floorDiv(f.Until.UnixNano()-(origin.UnixNano()+phase), period)
	}
	return &Model{
		Function:  f,
		key:       key,
		periodNs:  period,
		firstNs:   origin.UnixNano() + phase,
		lastIdx:   lastIdx,
		memBytes:  f.MemorySizeMB << 20,
		initLines: f.Type != TypeEvent,
		timeout: "Invoking task timed out after " +
			strconv.FormatFloat(float64(f.TimeoutMs)/1000, 'f', -1, 64) + " seconds",
	}
}

// Exec computes execution i. It must stay cheap: a 24 h query at 1/s
// calls it 86,400 times.
func (f *Model) Exec(i int64) Record {
	s := f.key + uint64(i)*0xD1B54A32D192ED03
	r := Record{Model: f, Index: i, StartNs: f.firstNs + i*f.periodNs}
	if u := unit(&s); u < f.FailureRatio {
		switch v := unit(&s); {
		case v < 0.6:
			r.Outcome = UserError
		case v < 0.85:
			r.Outcome = TimedOut
		default:
			r.Outcome = OutOfMemory
		}
	} else {
		splitMix64(&s) // keep the stream aligned across outcomes
	}
	r.q = uint8(splitMix64(&s) % uint64(len(f.Qualifiers)))

	// Log-normal duration: median 40 ms, a tail reaching seconds.
	u1, u2 := unit(&s), unit(&s)
	z := math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
	d := 40 * math.Exp(1.1*z)
	timeout := float64(f.TimeoutMs)
	switch r.Outcome {
	case UserError:
		d *= 0.6
	case TimedOut:
		d = timeout
	}
	if r.Outcome != TimedOut && d > timeout-1 {
		d = timeout - 1
	}
	// SCF reports whole milliseconds: SCF_Duration is a long in ms and the
	// report line says "Duration:1ms" (583/60336).
	d = max(math.Round(d), 1)
	r.DurMs = d
	r.DurNs = int64(math.Round(d * 1e6))

	// Memory in 4 KiB pages, as Tencent reports it; mostly low usage.
	mu := unit(&s)
	if r.Outcome == OutOfMemory {
		r.Mem = f.memBytes
	} else {
		frac := 0.02 + 0.88*mu*mu
		r.Mem = int64(frac*float64(f.memBytes)) / 4096 * 4096
	}

	fillID(&r.ID, &s)

	rv := splitMix64(&s)
	r.variant = uint32(rv)
	if r.Outcome != Succeeded {
		switch x := (rv >> 32) % 10; {
		case x >= 9:
			r.Retries = 2
		case x >= 7:
			r.Retries = 1
		}
	}
	if f.initLines {
		r.Cold = unit(&s) < coldStartRatio
	}
	return r
}

// coldStartRatio is the share of a web or image function's invocations
// that start a new instance: the simulator's choice.
const coldStartRatio = 0.1

// fillID draws a version 4 UUID from the stream s.
func fillID(id *[16]byte, s *uint64) {
	a, b := splitMix64(s), splitMix64(s)
	for k := 0; k < 8; k++ {
		id[k] = byte(a >> (56 - 8*k))
		id[8+k] = byte(b >> (56 - 8*k))
	}
	id[6] = id[6]&0x0f | 0x40 // UUID version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
}

// Range is the span of indexes of the executions that start in [lo, hi)
// (unix ns): empty (first > last) if none.
func (f *Model) Range(lo, hi int64) (first, last int64) {
	first = max(floorDiv(lo-f.firstNs+f.periodNs-1, f.periodNs), 0)
	last = min(floorDiv(hi-1-f.firstNs, f.periodNs), f.lastIdx)
	return first, last
}

// Find looks for the execution with id among those that started in
// [lo, hi) and by now (unix ns), finished or not.
func (f *Model) Find(id [16]byte, lo, hi, now int64) (Record, bool) {
	first, last := f.Range(lo, min(hi, now+1))
	for i := first; i <= last; i++ {
		if r := f.Exec(i); r.ID == id {
			return r, true
		}
	}
	return Record{}, false
}

// FormatID writes an ID in the canonical 8-4-4-4-12 form.
func FormatID(id [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:], id[10:16])
	return string(b[:])
}

// ParseID accepts the canonical 8-4-4-4-12 form only, which is the only
// form the simulator ever hands out.
func ParseID(s string) ([16]byte, bool) {
	var id [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	h := strings.ToLower(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	if _, err := hex.Decode(id[:], []byte(h)); err != nil {
		return id, false
	}
	return id, true
}

// userErrors are the failures of user code; their RetMsg is encoded once
// because building it per row would dominate the cost of a page.
var userErrors = func() []struct{ msg, trace, retMsg string } {
	list := []struct{ msg, trace, retMsg string }{
		{msg: "user code exception caught", trace: "Traceback (most recent call last):\n  File \"/var/user/index.py\", line 18, in main_handler\n    order = json.loads(event[\"body\"])\nKeyError: 'body'"},
		{msg: "Cannot read properties of undefined (reading 'id')", trace: "TypeError: Cannot read properties of undefined (reading 'id')\n    at Runtime.main_handler (/var/user/index.js:9:27)"},
		{msg: "connect ETIMEDOUT 10.0.3.17:3306", trace: "Error: connect ETIMEDOUT 10.0.3.17:3306\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"},
	}
	for i := range list {
		b, _ := json.Marshal(struct {
			ErrorCode    int    `json:"errorCode"`
			ErrorMessage string `json:"errorMessage"`
			StackTrace   string `json:"stackTrace"`
		}{-1, list[i].msg, list[i].trace})
		list[i].retMsg = string(b)
	}
	return list
}()

var plainResults = []string{"ok", "done", "Success"}

func (r *Record) userError() int { return int(r.variant % uint32(len(userErrors))) }

// Exception is what a user error's handler raised: its message and stack
// trace, as the runtime prints them. Other outcomes raised nothing.
func (r *Record) Exception() (message, trace string) {
	if r.Outcome != UserError {
		return "", ""
	}
	e := userErrors[r.userError()]
	return e.msg, e.trace
}

// RetMsg is the execution's return value or failure message.
func (r *Record) RetMsg() string {
	switch r.Outcome {
	case UserError:
		return userErrors[r.userError()].retMsg
	case TimedOut:
		return r.Model.timeout
	case OutOfMemory:
		return "Memory limit exceeded"
	}
	if r.variant%10 == 0 {
		return plainResults[int(r.variant/10)%len(plainResults)]
	}
	return `{"processed":` + strconv.Itoa(int(r.variant>>8)%500) + `}`
}

// Result selects executions by how they ended.
type Result uint8

const (
	AnyResult Result = iota
	SucceededOnly
	FailedOnly
)

// Filter holds the row filters of a query; zero means "no filter".
type Filter struct {
	Qualifier string
	Result    Result
	RequestID *[16]byte
}

func (f *Filter) match(r *Record) bool {
	if f.Qualifier != "" && r.Qualifier() != f.Qualifier {
		return false
	}
	switch f.Result {
	case SucceededOnly:
		if r.Outcome != Succeeded {
			return false
		}
	case FailedOnly:
		if r.Outcome == Succeeded {
			return false
		}
	}
	if f.RequestID != nil && r.ID != *f.RequestID {
		return false
	}
	return true
}

// Instants are handled as unix nanoseconds; clamping keeps arithmetic on
// absurd inputs (year 1, year 9999) from overflowing.
const maxNanos = 1 << 62

// Nanos is t in unix ns, clamped to ±2^62.
func Nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, -maxNanos)):
		return -maxNanos
	case t.After(time.Unix(0, maxNanos)):
		return maxNanos
	}
	return t.UnixNano()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// SortKey is what a query sorts by first.
type SortKey uint8

const (
	ByStart SortKey = iota
	ByFunctionName
	ByDuration
	ByMemUsage
)

// Order is the sort order of a query: the key, then start, then the ID,
// all in one direction, so descending is exactly the reverse of ascending
// and paging is stable.
type Order struct {
	By   SortKey
	Desc bool
}

func (o Order) cmp(a, b *Record) int {
	var c int
	switch o.By {
	case ByFunctionName:
		c = strings.Compare(a.Model.Name, b.Model.Name)
	case ByDuration:
		c = cmp.Compare(a.DurMs, b.DurMs)
	case ByMemUsage:
		c = cmp.Compare(a.Mem, b.Mem)
	}
	if c == 0 {
		c = cmp.Compare(a.StartNs, b.StartNs)
	}
	if c == 0 {
		c = bytes.Compare(a.ID[:], b.ID[:])
	}
	if c == 0 {
		c = cmp.Compare(a.Model.key, b.Model.key)
	}
	if o.Desc {
		return -c
	}
	return c
}

// Window is one query over the synthetic executions: those that started
// in [Lo, Hi) (unix ns), had finished at Now and pass Filter.
type Window struct {
	Lo, Hi, Now int64
	Filter      Filter
	Order       Order
	// Keep is how many leading rows (in order) to return; -1 means all.
	Keep int
}

// Run returns the number of matching executions and the first Keep of
// them in order. It never stores more than Keep rows: a page needs at most
// Offset+Limit <= 10,000, however large the window.
func (w *Window) Run(fns []*Model) (int64, []Record) {
	var count int64
	var all []Record
	top := TopK[Record]{K: w.Keep, Cmp: w.Order.cmp}
	hi := min(w.Hi, w.Now+1) // nothing that starts after now has finished
	byStart := w.Order.By == ByStart
	for _, f := range fns {
		first, last := f.Range(w.Lo, hi)
		if first > last {
			continue
		}
		switch {
		case w.Keep < 0:
			for i := first; i <= last; i++ {
				if r := f.Exec(i); r.StartNs+r.DurNs <= w.Now && w.Filter.match(&r) {
					count++
					all = append(all, r)
				}
			}
		case byStart && w.Filter.none():
			count += w.startOrdered(f, first, last, &top)
		default:
			// In start order, walk in the order's direction so a function
			// stops feeding the heap once it has given Keep rows.
			i, end, step := first, last, int64(1)
			if byStart && w.Order.Desc {
				i, end, step = last, first, -1
			}
			taken := 0
			for ; ; i += step {
				if r := f.Exec(i); r.StartNs+r.DurNs <= w.Now && w.Filter.match(&r) {
					count++
					if !byStart || taken < w.Keep {
						top.Add(r)
						taken++
					}
				}
				if i == end {
					break
				}
			}
		}
	}
	if w.Keep < 0 {
		slices.SortFunc(all, func(a, b Record) int { return w.Order.cmp(&a, &b) })
		return count, all
	}
	return count, top.Sorted()
}

// startOrdered handles the default query (start order, no row filter)
// without computing every execution: those that started at least a
// timeout ago have certainly finished, so they are counted arithmetically
// and only the ends that can reach the page are generated.
func (w *Window) startOrdered(f *Model, first, last int64, top *TopK[Record]) int64 {
	settled := min(last, floorDiv(w.Now-f.TimeoutMs*int64(time.Millisecond)-f.firstNs, f.periodNs))
	var n int64
	if settled >= first {
		n = settled - first + 1
		k := min(int64(w.Keep), n)
		from := first
		if w.Order.Desc {
			from = settled - k + 1
		}
		for i := from; i < from+k; i++ {
			r := f.Exec(i)
			top.Add(r)
		}
	}
	for i := max(first, settled+1); i <= last; i++ {
		if r := f.Exec(i); r.StartNs+r.DurNs <= w.Now {
			n++
			top.Add(r)
		}
	}
	return n
}

func (f *Filter) none() bool {
	return f.Qualifier == "" && f.Result == AnyResult && f.RequestID == nil
}
