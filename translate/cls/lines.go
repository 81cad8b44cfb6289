package cls

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// MaxLogBytes bounds the log text of one execution on a CLS page: SCF
// delivers at most 8 KB per line (583/39778), and a log this long is
// already eight of them. What is cut is said at its end.
const MaxLogBytes = 64 << 10

// Lines gathers, from the answers to LinesRequests, what the lines of one
// page's invocations say: each one's return value or error, and its log
// text. Only lines whose request ID, function and namespace are exactly the
// page's count: CQL matched their tokens, which is looser.
type Lines struct {
	fn, ns string
	byID   map[string]*invocationLines
	seq    int
}

type invocationLines struct {
	retMsg string
	lines  []line
	bytes  int
	cut    int // lines left out past MaxLogBytes
}

// line is one log line and where it goes in the invocation's log.
type line struct {
	at  int64 // SCF_LogTime (ns), or the log's time (ms) in ns
	seq int   // arrival order, for lines of one instant
	msg string
}

// NewLines gathers the lines of t's invocations ids.
func NewLines(t Target, ids []string) *Lines {
	l := &Lines{fn: t.FunctionName, ns: t.Namespace, byID: make(map[string]*invocationLines, len(ids))}
	for _, id := range ids {
		l.byID[id] = &invocationLines{}
	}
	return l
}

// lineKeys are the SCF_* keys a line is read by; LogJson's values are
// strings (583/60336).
type lineKeys struct {
	RequestID string `json:"SCF_RequestId"`
	Function  string `json:"SCF_FunctionName"`
	Namespace string `json:"SCF_Namespace"`
	Type      string `json:"SCF_Type"`
	Message   string `json:"SCF_Message"`
	LogTime   string `json:"SCF_LogTime"`
}

// Add reads the answer to req, one of LinesRequests or a continuation of
// one, and returns the call that continues it when CLS has more lines for
// it (its Context, 614/56447), or nil.
func (l *Lines) Add(req SearchLogRequest, answer json.RawMessage) (*SearchLogRequest, error) {
	resp, err := decode(answer)
	if err != nil {
		return nil, err
	}
	for _, info := range resp.Results {
		var k lineKeys
		if json.Unmarshal([]byte(info.LogJson), &k) != nil {
			continue
		}
		inv, ok := l.byID[k.RequestID]
		if !ok || k.Function != l.fn || l.ns != "" && k.Namespace != l.ns {
			continue
		}
		if _, ret, ok := strings.Cut(k.Message, " RetMsg:"); ok && k.Type == "Platform" && strings.HasPrefix(k.Message, "Response RequestId") {
			inv.retMsg = ret
		}
		at, err := strconv.ParseInt(k.LogTime, 10, 64)
		if err != nil {
			at = info.Time * 1e6
		}
		l.seq++
		if inv.bytes+len(k.Message)+1 > MaxLogBytes {
			inv.cut++
			continue
		}
		inv.bytes += len(k.Message) + 1
		inv.lines = append(inv.lines, line{at: at, seq: l.seq, msg: k.Message})
	}
	if resp.ListOver || resp.Context == "" || len(resp.Results) == 0 {
		return nil, nil
	}
	next := req
	next.Context = resp.Context
	return &next, nil
}

// RetMsg is the return value or error of invocation id ("" if its
// response line was not found).
func (l *Lines) RetMsg(id string) string {
	if inv, ok := l.byID[id]; ok {
		return inv.retMsg
	}
	return ""
}

// Log is the log text of invocation id: its lines in the order they were
// written, one per line, as GetFunctionLogs gives it.
func (l *Lines) Log(id string) string {
	inv, ok := l.byID[id]
	if !ok || len(inv.lines) == 0 {
		return ""
	}
	slices.SortStableFunc(inv.lines, func(a, b line) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq))
	})
	var b strings.Builder
	b.Grow(inv.bytes + 64)
	for i, ln := range inv.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(ln.msg)
	}
	if inv.cut > 0 {
		b.WriteString("\n[mudscf: " + strconv.Itoa(inv.cut) + " more lines in CLS; a log is cut at 64 KiB]")
	}
	return b.String()
}
