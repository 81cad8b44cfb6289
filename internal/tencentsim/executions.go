package tencentsim

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

	"github.com/mudscf/mudscf/translate/scf"
)

// Execution is the ground truth of one synthetic execution.
type Execution struct {
	Log scf.FunctionLog `json:"log"`
	// Start is exact; Log.StartTime only has the second precision
	// Tencent returns.
	Start     time.Time `json:"start"`
	Qualifier string    `json:"qualifier"`
	Region    string    `json:"region"`
	Namespace string    `json:"namespace"`
}

// Outcome kinds. The RetCodes follow Tencent's "Cloud Function Status
// Code" table: 430 user code exception, 433 timeout, 434 memory limit.
const (
	kindSuccess uint8 = iota
	kindUserError
	kindTimeout
	kindMemory
)

// billGranularityMs is the unit BillDuration is rounded up to.
const billGranularityMs = 100

const (
	retCodeUserError = 430
	retCodeTimeout   = 433
	retCodeMemory    = 434
)

// fnModel is a Function with the per-function constants the generator needs.
type fnModel struct {
	Function
	key      uint64 // hash of seed, region, namespace, name
	periodNs int64  // nanoseconds between two executions
	firstNs  int64  // start of execution 0 (Origin + phase), unix ns
	lastIdx  int64  // index of the last execution (Function.Until)
	memBytes int64
	timeout  string // RetMsg of a timed-out execution
}

// rec is an execution reduced to what filtering and sorting need; the
// (comparatively expensive) FunctionLog is only built for returned rows.
type rec struct {
	fn      *fnModel
	i       int64
	startNs int64
	durNs   int64
	durMs   float64
	mem     int64
	id      [16]byte
	kind    uint8
	q       uint8
	retry   uint8
	variant uint32
}

func (r *rec) retCode() int64 {
	switch r.kind {
	case kindUserError:
		return retCodeUserError
	case kindTimeout:
		return retCodeTimeout
	case kindMemory:
		return retCodeMemory
	}
	return 0
}

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

func newFnModel(f Function, seed int64, origin time.Time) *fnModel {
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
	return &fnModel{
		Function: f,
		key:      key,
		periodNs: period,
		firstNs:  origin.UnixNano() + phase,
		lastIdx:  lastIdx,
		memBytes: f.MemorySizeMB << 20,
		timeout: "Invoking task timed out after " +
			strconv.FormatFloat(float64(f.TimeoutMs)/1000, 'f', -1, 64) + " seconds",
	}
}

// exec computes execution i. It must stay cheap: a 24 h query at 1/s
// calls it 86,400 times.
func (f *fnModel) exec(i int64) rec {
	s := f.key + uint64(i)*0xD1B54A32D192ED03
	r := rec{fn: f, i: i, startNs: f.firstNs + i*f.periodNs}
	if u := unit(&s); u < f.FailureRatio {
		switch v := unit(&s); {
		case v < 0.6:
			r.kind = kindUserError
		case v < 0.85:
			r.kind = kindTimeout
		default:
			r.kind = kindMemory
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
	switch r.kind {
	case kindUserError:
		d *= 0.6
	case kindTimeout:
		d = timeout
	}
	if r.kind != kindTimeout && d > timeout*0.999 {
		d = timeout * 0.999
	}
	d = math.Round(d*1000) / 1000
	if d < 0.001 {
		d = 0.001
	}
	r.durMs = d
	r.durNs = int64(math.Round(d * 1e6))

	// Memory in 4 KiB pages, as Tencent reports it; mostly low usage.
	mu := unit(&s)
	if r.kind == kindMemory {
		r.mem = f.memBytes
	} else {
		frac := 0.02 + 0.88*mu*mu
		r.mem = int64(frac*float64(f.memBytes)) / 4096 * 4096
	}

	a, b := splitMix64(&s), splitMix64(&s)
	for k := 0; k < 8; k++ {
		r.id[k] = byte(a >> (56 - 8*k))
		r.id[8+k] = byte(b >> (56 - 8*k))
	}
	r.id[6] = r.id[6]&0x0f | 0x40 // UUID version 4
	r.id[8] = r.id[8]&0x3f | 0x80 // RFC 4122 variant

	rv := splitMix64(&s)
	r.variant = uint32(rv)
	if r.kind != kindSuccess {
		switch x := (rv >> 32) % 10; {
		case x >= 9:
			r.retry = 2
		case x >= 7:
			r.retry = 1
		}
	}
	return r
}

func formatID(id [16]byte) string {
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

// parseID accepts the canonical 8-4-4-4-12 form only, which is the only
// form the simulator ever hands out.
func parseID(s string) ([16]byte, bool) {
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

func (r *rec) userError() int { return int(r.variant % uint32(len(userErrors))) }

func (r *rec) retMsg() string {
	switch r.kind {
	case kindUserError:
		return userErrors[r.userError()].retMsg
	case kindTimeout:
		return r.fn.timeout
	case kindMemory:
		return "Memory limit exceeded"
	}
	if r.variant%10 == 0 {
		return plainResults[int(r.variant/10)%len(plainResults)]
	}
	return `{"processed":` + strconv.Itoa(int(r.variant>>8)%500) + `}`
}

// logText imitates what SCF writes for one invocation: START, the user's
// lines, END and the Report line.
func (r *rec) logText(id, retMsg string) string {
	b := make([]byte, 0, 512)
	line := func(off int64, level, text string) {
		b = time.Unix(0, r.startNs+off).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, '\t')
		b = append(b, id...)
		b = append(b, "\t["...)
		b = append(b, level...)
		b = append(b, "] "...)
		b = append(b, text...)
		b = append(b, '\n')
	}
	b = append(b, "START RequestId: "...)
	b = append(b, id...)
	b = append(b, "\nEvent RequestId: "...)
	b = append(b, id...)
	b = append(b, '\n')
	line(0, "INFO", "handler invoked, qualifier "+r.fn.Qualifiers[r.q])
	switch r.kind {
	case kindSuccess:
		line(r.durNs, "INFO", "result: "+retMsg)
	case kindUserError:
		e := userErrors[r.userError()]
		line(r.durNs, "ERROR", e.msg)
		b = append(b, e.trace...)
		b = append(b, '\n')
	default:
		b = append(b, retMsg...)
		b = append(b, '\n')
	}
	b = append(b, "END RequestId: "...)
	b = append(b, id...)
	b = append(b, "\nReport RequestId: "...)
	b = append(b, id...)
	b = append(b, " Duration:"...)
	b = strconv.AppendFloat(b, r.durMs, 'f', 3, 64)
	b = append(b, "ms Memory:"...)
	b = strconv.AppendInt(b, r.fn.MemorySizeMB, 10)
	b = append(b, "MB MemUsage:"...)
	b = strconv.AppendFloat(b, float64(r.mem)/(1<<20), 'f', 6, 64)
	b = append(b, "MB"...)
	return string(b)
}

func (r *rec) functionLog(loc *time.Location) scf.FunctionLog {
	id := formatID(r.id)
	// Billed time is the duration rounded up to the next 100 ms, as the
	// seed's example and both SDKs' model comments say; a timeout bills
	// the whole timeout.
	dur := r.durMs
	if r.kind == kindTimeout {
		dur = float64(r.fn.TimeoutMs)
	}
	bill := max(billGranularityMs, int64(math.Ceil(dur/billGranularityMs))*billGranularityMs)
	msg := r.retMsg()
	return scf.FunctionLog{
		FunctionName:   r.fn.Name,
		RetMsg:         msg,
		RequestId:      id,
		StartTime:      time.Unix(0, r.startNs).In(loc).Format(scf.TimeLayout),
		RetCode:        r.retCode(),
		InvokeFinished: 1,
		Duration:       r.durMs,
		BillDuration:   bill,
		MemUsage:       r.mem,
		Log:            r.logText(id, msg),
		RetryNum:       int64(r.retry),
	}
}

func (r *rec) execution(loc *time.Location) Execution {
	return Execution{
		Log:       r.functionLog(loc),
		Start:     time.Unix(0, r.startNs).In(loc),
		Qualifier: r.fn.Qualifiers[r.q],
		Region:    r.fn.Region,
		Namespace: r.fn.Namespace,
	}
}

// filter holds the row filters of a query; zero means "no filter".
type filter struct {
	qualifier string
	retCode   string // scf.RetCodeSucceeded, scf.RetCodeFailed or ""
	requestID *[16]byte
}

func (f *filter) match(r *rec) bool {
	if f.qualifier != "" && r.fn.Qualifiers[r.q] != f.qualifier {
		return false
	}
	switch f.retCode {
	case scf.RetCodeSucceeded:
		if r.kind != kindSuccess {
			return false
		}
	case scf.RetCodeFailed:
		if r.kind == kindSuccess {
			return false
		}
	}
	if f.requestID != nil && r.id != *f.requestID {
		return false
	}
	return true
}

// Instants are handled as unix nanoseconds; clamping keeps arithmetic on
// absurd inputs (year 1, year 9999) from overflowing.
const maxNanos = 1 << 62

func nanos(t time.Time) int64 {
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

// ordering is the sort order of GetFunctionLogs: the OrderBy key, then
// start, then RequestId, all in the direction of Order, so desc is exactly
// the reverse of asc and paging is stable.
type ordering struct {
	by   string
	desc bool
}

var byStartAsc = ordering{by: scf.OrderByStartTime}

func (o ordering) cmp(a, b *rec) int {
	var c int
	switch o.by {
	case scf.OrderByFunctionName:
		c = strings.Compare(a.fn.Name, b.fn.Name)
	case scf.OrderByDuration:
		c = cmp.Compare(a.durMs, b.durMs)
	case scf.OrderByMemUsage:
		c = cmp.Compare(a.mem, b.mem)
	}
	if c == 0 {
		c = cmp.Compare(a.startNs, b.startNs)
	}
	if c == 0 {
		c = bytes.Compare(a.id[:], b.id[:])
	}
	if c == 0 {
		c = cmp.Compare(a.fn.key, b.fn.key)
	}
	if o.desc {
		return -c
	}
	return c
}

// window is one query over the synthetic executions: those that started
// in [lo, hi) (unix ns), had finished at now and pass flt.
type window struct {
	lo, hi, now int64
	flt         filter
	order       ordering
	// keep is how many leading rows (in order) to return; -1 means all.
	keep int
}

// run returns the number of matching executions and the first keep of
// them in order. It never stores more than keep rows: a page needs at most
// Offset+Limit <= 10,000, however large the window.
func (w *window) run(fns []*fnModel) (int64, []rec) {
	var count int64
	var all []rec
	top := topK{order: w.order, k: w.keep}
	hi := min(w.hi, w.now+1) // nothing that starts after now has finished
	byStart := w.order.by == scf.OrderByStartTime
	for _, f := range fns {
		first := max(floorDiv(w.lo-f.firstNs+f.periodNs-1, f.periodNs), 0)
		last := min(floorDiv(hi-1-f.firstNs, f.periodNs), f.lastIdx)
		if first > last {
			continue
		}
		switch {
		case w.keep < 0:
			for i := first; i <= last; i++ {
				if r := f.exec(i); r.startNs+r.durNs <= w.now && w.flt.match(&r) {
					count++
					all = append(all, r)
				}
			}
		case byStart && w.flt.none():
			count += w.startOrdered(f, first, last, &top)
		default:
			// In start order, walk in the order's direction so a function
			// stops feeding the heap once it has given keep rows.
			i, end, step := first, last, int64(1)
			if byStart && w.order.desc {
				i, end, step = last, first, -1
			}
			taken := 0
			for ; ; i += step {
				if r := f.exec(i); r.startNs+r.durNs <= w.now && w.flt.match(&r) {
					count++
					if !byStart || taken < w.keep {
						top.add(&r)
						taken++
					}
				}
				if i == end {
					break
				}
			}
		}
	}
	if w.keep < 0 {
		slices.SortFunc(all, func(a, b rec) int { return w.order.cmp(&a, &b) })
		return count, all
	}
	return count, top.sorted()
}

// startOrdered handles the default query (start order, no row filter)
// without computing every execution: those that started at least a
// timeout ago have certainly finished, so they are counted arithmetically
// and only the ends that can reach the page are generated.
func (w *window) startOrdered(f *fnModel, first, last int64, top *topK) int64 {
	settled := min(last, floorDiv(w.now-f.TimeoutMs*int64(time.Millisecond)-f.firstNs, f.periodNs))
	var n int64
	if settled >= first {
		n = settled - first + 1
		k := min(int64(w.keep), n)
		from := first
		if w.order.desc {
			from = settled - k + 1
		}
		for i := from; i < from+k; i++ {
			r := f.exec(i)
			top.add(&r)
		}
	}
	for i := max(first, settled+1); i <= last; i++ {
		if r := f.exec(i); r.startNs+r.durNs <= w.now {
			n++
			top.add(&r)
		}
	}
	return n
}

func (f *filter) none() bool {
	return f.qualifier == "" && f.retCode == "" && f.requestID == nil
}

// topK keeps the first k records in order in a bounded max-heap whose
// root is the worst record kept.
type topK struct {
	order ordering
	k     int
	h     []rec
}

func (t *topK) add(r *rec) {
	if t.k <= 0 {
		return
	}
	if len(t.h) < t.k {
		t.h = append(t.h, *r)
		t.up(len(t.h) - 1)
		return
	}
	if t.order.cmp(r, &t.h[0]) >= 0 {
		return // not better than the worst kept
	}
	t.h[0] = *r
	t.down(0)
}

// worse reports whether h[i] sorts after h[j].
func (t *topK) worse(i, j int) bool { return t.order.cmp(&t.h[i], &t.h[j]) > 0 }

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.worse(i, p) {
			return
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.worse(r, l) {
			m = r
		}
		if !t.worse(m, i) {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

func (t *topK) sorted() []rec {
	slices.SortFunc(t.h, func(a, b rec) int { return t.order.cmp(&a, &b) })
	return t.h
}
