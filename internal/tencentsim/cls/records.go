package cls

import (
	"strconv"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/cls/analysis"
	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
)

// SCF delivers each request to CLS as one record per line of its log
// ("每次请求的日志由多条组成", 583/60336), each carrying the 14 SCF_* keys of
// the default format; the lines are invocations.Record.Lines, the same
// GetFunctionLogs joins into its Log text.
//
// What the pages document: the 14 keys and their index types, Platform vs
// Custom, 202 on lines written while running (a real START row), LogJson
// values as strings, SCF_LogTime in ns, SCF_Duration a long in ms. What is
// the simulator's choice: that only the final line carries the status,
// duration and memory (the others say 202, "0" and "0.00", as the real
// START row does), and the values of the initialisation lines.

// record is one CLS log record: a line of a request.
type record struct {
	r    invocations.Record
	line invocations.Line
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fieldType is a key's type in the topic's key-value index, which decides
// how CQL and SQL compare it.
type fieldType uint8

const (
	fieldText fieldType = iota
	fieldLong
	fieldDouble
)

func (t fieldType) String() string {
	return [...]string{"text", "long", "double"}[t]
}

// field names a key of SCF's default format; its number is its position
// in LogJson (alphabetical, as the real rows have them).
type field uint8

const (
	fAlias field = iota
	fDuration
	fFunctionName
	fLevel
	fLogTime
	fMemUsage
	fMessage
	fNamespace
	fQualifier
	fRequestID
	fRetryNum
	fStartTime
	fStatusCode
	fType
	numFields
	// fTimestamp is __TIMESTAMP__, the log time in ms, known to SQL only.
	fTimestamp = numFields
)

// scfFields are the keys with their documented index types (583/60336,
// 583/39778): SCF_Duration long ("函数运行时间(单位:毫秒)"), SCF_MemUsage
// double, SCF_LogTime long.
var scfFields = [numFields]struct {
	name string
	typ  fieldType
}{
	{"SCF_Alias", fieldText},
	{"SCF_Duration", fieldLong},
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

// fieldByName finds a key by its exact name: index keys are matched as
// written (Tencent is silent on their case; the stricter reading).
func fieldByName(name string) (field, bool) {
	for i, f := range scfFields {
		if f.name == name {
			return field(i), true
		}
	}
	return 0, false
}

// level is how much of a record a field depends on: its function alone,
// its request, the kind of its line, or the line itself (its text and
// time). Conditions are decided at the coarsest level they can be, so
// most records are never rendered.
type level uint8

const (
	levelFunction level = iota
	levelRequest
	levelKind
	levelLine
)

func (f field) level() level {
	switch f {
	case fFunctionName, fNamespace, fAlias:
		return levelFunction
	case fStartTime, fRequestID, fQualifier, fRetryNum:
		return levelRequest
	case fMessage, fLogTime:
		return levelLine
	}
	return levelKind
}

// number is a numeric field's value as CQL compares it; numeric fields
// are never empty.
func (c *record) number(f field) float64 {
	if scfFields[f].typ == fieldDouble {
		return c.double(f)
	}
	return float64(c.long(f))
}

// long is a long field's value (or __TIMESTAMP__'s).
func (c *record) long(f field) int64 {
	r := &c.r
	switch f {
	case fDuration:
		if !c.line.Kind.Final() {
			return 0
		}
		return int64(r.DurMs)
	case fLogTime:
		return c.line.TimeNs
	case fRetryNum:
		return int64(r.Retries)
	case fStartTime:
		return r.StartNs / int64(time.Millisecond)
	case fStatusCode:
		return r.StatusCode(c.line.Kind)
	case fTimestamp:
		return c.line.TimeNs / int64(time.Millisecond)
	}
	return 0
}

// double is SCF_MemUsage, in MB: exact, as usage is whole 4 KiB pages.
func (c *record) double(field) float64 {
	if !c.line.Kind.Final() {
		return 0
	}
	return float64(c.r.Mem) / (1 << 20)
}

// appendText appends the field's value as LogJson carries it: a string,
// even for numbers.
func (c *record) appendText(b []byte, f field) []byte {
	r := &c.r
	switch f {
	case fAlias:
		return b // the simulated functions are called by version, never by alias
	case fFunctionName:
		return append(b, r.Model.Name...)
	case fLevel:
		return append(b, r.Level(c.line.Kind)...)
	case fMessage:
		return r.AppendMessage(b, c.line)
	case fNamespace:
		return append(b, r.Model.Namespace...)
	case fQualifier:
		return append(b, r.Qualifier()...)
	case fRequestID:
		return append(b, r.RequestID()...)
	case fType:
		if c.line.Kind.Platform() {
			return append(b, "Platform"...)
		}
		return append(b, "Custom"...)
	case fMemUsage:
		if !c.line.Kind.Final() {
			return append(b, "0.00"...) // as the real START row has it
		}
		return strconv.AppendFloat(b, c.double(f), 'f', -1, 64)
	}
	return strconv.AppendInt(b, c.long(f), 10)
}

// logJSON is LogInfo.LogJson: every key, every value a JSON string.
func (c *record) logJSON() string {
	b := make([]byte, 0, 768)
	var v []byte
	b = append(b, '{')
	for i, f := range scfFields {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f.name)
		b = append(b, ':')
		v = c.appendText(v[:0], field(i))
		b = analysis.AppendJSONString(b, v)
	}
	return string(append(b, '}'))
}

// logColumns are the columns of "log", the topic itself, to SQL: its
// keys, then __TIMESTAMP__ (the log time in ms, IDX-39594).
var logColumns = func() []analysis.Column {
	var cols []analysis.Column
	for _, f := range scfFields {
		cols = append(cols, analysis.Column{Name: f.name, Type: f.typ.sqlType()})
	}
	return append(cols, analysis.Column{Name: "__TIMESTAMP__", Type: analysis.Bigint})
}()

// sqlType is the SQL type of a key of type t.
func (t fieldType) sqlType() analysis.Type {
	switch t {
	case fieldLong:
		return analysis.Bigint
	case fieldDouble:
		return analysis.Double
	}
	return analysis.Varchar
}
