package cls

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
)

// SCF delivers each invocation to CLS as several records ("每次请求的日志由多
// 条组成", Tencent's "日志结构说明" page, product/583/60336), each carrying
// the 14 SCF_* keys of the default format. The simulator derives them from
// the same invocations.Record that GetFunctionLogs serves, so both views describe the
// same executions.
//
// What the pages document: the 14 keys and their index types, Platform vs
// Custom, 202 meaning "running", SCF_Message limited to 8 KB (no simulated
// line comes near it, so nothing is cut), the return
// value written as "Response RequestId:xxx RetMsg:xxx". What is a guess:
// which platform line carries the final status, duration and memory (here
// only the Report line, the others say 202/0/0.00, as Tencent's own sample
// START record does), and the exact Report wording, which follows the
// Report line of the GetFunctionLogs Log text.

// clsLine is the position of a record within its invocation.
type clsLine uint8

const (
	lineStart    clsLine = iota // Platform: START RequestId: <id>
	lineInvoked                 // Custom: the handler's first print
	lineResult                  // Custom: the handler's last print (success or its own error)
	lineResponse                // Platform: Response RequestId:<id> RetMsg:<ret>
	lineEnd                     // Platform: END RequestId: <id>
	lineReport                  // Platform: Report RequestId: <id> Duration:... (final status)
)

// SCF status codes (Tencent's "Cloud Function Status Code" page,
// product/583/35311): 200 success, 202 still running; failures keep the
// RetCode GetFunctionLogs reports (430, 433, 434).
const (
	StatusSuccess = 200
	statusRunning = 202
)

// clsRecord is one CLS log record, reduced to what ordering and matching
// need; its text is built only when asked for.
type clsRecord struct {
	r      invocations.Record
	line   clsLine
	timeNs int64
}

// clsRecords appends the records of execution r, in the order SCF writes
// them. An execution's lines are only visible once it has finished.
func clsRecords(dst []clsRecord, r *invocations.Record) []clsRecord {
	end := r.StartNs + r.DurNs
	dst = append(dst,
		clsRecord{r: *r, line: lineStart, timeNs: r.StartNs},
		clsRecord{r: *r, line: lineInvoked, timeNs: r.StartNs})
	if r.Outcome == invocations.Succeeded || r.Outcome == invocations.UserError {
		dst = append(dst, clsRecord{r: *r, line: lineResult, timeNs: end})
	}
	return append(dst,
		clsRecord{r: *r, line: lineResponse, timeNs: end},
		clsRecord{r: *r, line: lineEnd, timeNs: end},
		clsRecord{r: *r, line: lineReport, timeNs: end})
}

// cmpRecords orders the records of one topic (one function) by time, then
// invocation, then line: the order of Sort=asc; desc is its exact reverse,
// so paging is stable.
func cmpRecords(a, b *clsRecord) int {
	if c := cmp.Compare(a.timeNs, b.timeNs); c != 0 {
		return c
	}
	if c := cmp.Compare(a.r.Index, b.r.Index); c != 0 {
		return c
	}
	return cmp.Compare(a.line, b.line)
}

func (c *clsRecord) final() bool { return c.line == lineReport }

func (c *clsRecord) statusCode() int64 {
	if !c.final() {
		return statusRunning
	}
	if c.r.Outcome == invocations.Succeeded {
		return StatusSuccess
	}
	return c.r.RetCode()
}

func (c *clsRecord) platform() bool { return c.line != lineInvoked && c.line != lineResult }

func (c *clsRecord) level() string {
	if (c.line == lineResult && c.r.Outcome == invocations.UserError) ||
		(c.line == lineResponse && c.r.Outcome != invocations.Succeeded) {
		return "ERROR"
	}
	return "INFO"
}

// userLine formats a print of the handler the way the runtimes do:
// time, request ID, level, text.
func (c *clsRecord) userLine(level, text string) string {
	return time.Unix(0, c.timeNs).UTC().Format("2006-01-02T15:04:05.000Z") + "\t" +
		c.r.RequestID() + "\t[" + level + "] " + text
}

func (c *clsRecord) message() string {
	id := c.r.RequestID()
	var m string
	switch c.line {
	case lineStart:
		m = "START RequestId: " + id
	case lineInvoked:
		m = c.userLine("INFO", "handler invoked, qualifier "+c.r.Qualifier())
	case lineResult:
		if c.r.Outcome == invocations.UserError {
			msg, trace := c.r.Exception()
			m = c.userLine("ERROR", msg) + "\n" + trace
		} else {
			m = c.userLine("INFO", "result: "+c.r.RetMsg())
		}
	case lineResponse:
		m = "Response RequestId:" + id + " RetMsg:" + c.r.RetMsg()
	case lineEnd:
		m = "END RequestId: " + id
	case lineReport:
		m = "Report RequestId: " + id +
			" Duration:" + strconv.FormatFloat(c.r.DurMs, 'f', 3, 64) + "ms" +
			" Memory:" + strconv.FormatInt(c.r.Model.MemorySizeMB, 10) + "MB" +
			" MemUsage:" + strconv.FormatFloat(float64(c.r.Mem)/(1<<20), 'f', 6, 64) + "MB"
	}
	return m
}

// clsFieldType is a field's type in the topic's key-value index, which
// decides how CQL and SQL compare it.
type clsFieldType uint8

const (
	fieldText clsFieldType = iota
	fieldLong
	fieldDouble
)

// clsFields are the keys of SCF's default format with their documented
// index types, in the (alphabetical) order LogJson carries them.
var clsFields = []struct {
	name string
	typ  clsFieldType
}{
	{"SCF_Alias", fieldText},
	// Documented as long; the simulator stores exact milliseconds with
	// decimals (see field), so it compares and sums as a double.
	{"SCF_Duration", fieldDouble},
	{"SCF_FunctionName", fieldText},
	{"SCF_Level", fieldText},
	{"SCF_LogTime", fieldLong},
	{"SCF_MemUsage", fieldDouble},
	{"SCF_Message", fieldText},
	{"SCF_Namespace", fieldText},
	{"SCF_Qualifier", fieldText},
	{"SCF_RequestId", fieldText},
	{"SCF_RetryNum", fieldLong},
	{"SCF_StartTime", fieldLong},
	{"SCF_StatusCode", fieldLong},
	{"SCF_Type", fieldText},
}

func clsFieldTypeOf(name string) (clsFieldType, bool) {
	for _, f := range clsFields {
		if strings.EqualFold(f.name, name) {
			return f.typ, true
		}
	}
	return 0, false
}

// field returns a record's value of a field (matched case-insensitively,
// as CLS does with index keys) as CLS stores it: text, even for numbers.
//
// SCF_Duration is documented as a long in milliseconds; the simulator
// keeps the exact milliseconds GetFunctionLogs reports (up to three
// decimals), so the CLS view loses nothing against the other one.
// SCF_MemUsage is in MB, exactly (bytes / 2^20).
func (c *clsRecord) field(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "scf_alias":
		return "", true
	case "scf_duration":
		if !c.final() {
			return "0", true
		}
		return strconv.FormatFloat(c.r.DurMs, 'f', -1, 64), true
	case "scf_functionname":
		return c.r.Model.Name, true
	case "scf_level":
		return c.level(), true
	case "scf_logtime":
		return strconv.FormatInt(c.timeNs, 10), true
	case "scf_memusage":
		if !c.final() {
			return "0.00", true
		}
		return strconv.FormatFloat(float64(c.r.Mem)/(1<<20), 'f', -1, 64), true
	case "scf_message":
		return c.message(), true
	case "scf_namespace":
		return c.r.Model.Namespace, true
	case "scf_qualifier":
		return c.r.Qualifier(), true
	case "scf_requestid":
		return c.r.RequestID(), true
	case "scf_retrynum":
		return strconv.Itoa(int(c.r.Retries)), true
	case "scf_starttime":
		return strconv.FormatInt(c.r.StartNs/int64(time.Millisecond), 10), true
	case "scf_statuscode":
		return strconv.FormatInt(c.statusCode(), 10), true
	case "scf_type":
		if c.platform() {
			return "Platform", true
		}
		return "Custom", true
	}
	return "", false
}

// logJSON is LogInfo.LogJson: every key, every value a JSON string.
func (c *clsRecord) logJSON() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range clsFields {
		if i > 0 {
			b.WriteByte(',')
		}
		v, _ := c.field(f.name)
		b.WriteString(strconv.Quote(f.name))
		b.WriteByte(':')
		q, _ := json.Marshal(v) // a string always encodes
		b.Write(q)
	}
	b.WriteByte('}')
	return b.String()
}
