package translate

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// MudbaseTimeLayout is how Mudbase writes instants: RFC 3339 in UTC with
// milliseconds ("2024-01-15T10:30:00.000Z").
const MudbaseTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Execution is one Mudbase execution record.
//
// The first block is Mudbase's schema. Mudbase's triggerType, triggerEvent
// and invokedBy have no counterpart in GetFunctionLogs, so they stay empty
// (and are omitted) rather than being guessed. The second block carries
// upstream facts Mudbase has no field for; Mudbase clients ignore unknown
// fields, so this is a compatible superset.
type Execution struct {
	// ExecutedAt is nil only when the upstream start time cannot be parsed;
	// the record is still served, as losing it would be worse.
	ExecutedAt    *string         `json:"executedAt"`
	ExecutionTime int64           `json:"executionTime"`
	Success       bool            `json:"success"`
	Result        json.RawMessage `json:"result,omitempty"`
	Error         string          `json:"error,omitempty"`
	TriggerType   string          `json:"triggerType,omitempty"`
	TriggerEvent  string          `json:"triggerEvent,omitempty"`
	InvokedBy     string          `json:"invokedBy,omitempty"`

	RequestID        string `json:"requestId,omitempty"`
	FunctionName     string `json:"functionName,omitempty"`
	RetCode          int64  `json:"retCode"`
	MemoryUsageBytes int64  `json:"memoryUsageBytes"`
	// BilledDurationMs is nil, and omitted, where the upstream does not
	// carry it (CLS's log lines do not): 0 would be an invented value, and
	// billed time summed from it a wrong one.
	BilledDurationMs *int64 `json:"billedDurationMs,omitempty"`
	RetryCount       int64  `json:"retryCount"`
	Log              string `json:"log,omitempty"`
	Level            string `json:"level,omitempty"`
}

// Succeeded applies Tencent's field definitions: RetCode 0 means the
// function returned normally and InvokeFinished 1 means the invocation ran
// to its end. (Tencent's own example shows RetCode 1 beside RetMsg
// "Success"; the definition, not the example, is the contract.)
func (l FunctionLog) Succeeded() bool {
	return l.RetCode == 0 && l.InvokeFinished == 1
}

// ParseUpstreamTime reads a FunctionLog.StartTime, written in the
// upstream's zone loc, with or without fractional seconds. Years outside
// 2000-9998 are refused: they cannot be real log times and would not
// survive conversion to RFC 3339.
func ParseUpstreamTime(s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(UpstreamTimeLayout+".999999999", strings.TrimSpace(s), loc)
	if err != nil {
		return time.Time{}, err
	}
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		return time.Time{}, fmt.Errorf("upstream time %q is outside the years %d-%d", s, minYear, maxYear)
	}
	return t, nil
}

// FormatMudbaseTime writes t as Mudbase does.
func FormatMudbaseTime(t time.Time) string {
	return t.UTC().Format(MudbaseTimeLayout)
}

// NewExecution translates one upstream record. It never fails: fields the
// upstream got wrong degrade (ExecutedAt nil, negative numbers clamped)
// instead of dropping the record.
func NewExecution(l FunctionLog, loc *time.Location) Execution {
	e := Execution{
		ExecutionTime:    durationMs(l.Duration),
		Success:          l.Succeeded(),
		RequestID:        l.RequestId,
		FunctionName:     l.FunctionName,
		RetCode:          l.RetCode,
		MemoryUsageBytes: max(l.MemUsage, 0),
		BilledDurationMs: new(max(l.BillDuration, 0)),
		RetryCount:       max(l.RetryNum, 0),
		Log:              l.Log,
		Level:            l.Level,
	}
	if t, err := ParseUpstreamTime(l.StartTime, loc); err == nil {
		s := FormatMudbaseTime(t)
		e.ExecutedAt = &s
	}
	if e.Success {
		e.Result = resultOf(l.RetMsg)
	} else {
		e.Error = failureMessage(l)
	}
	return e
}

// NewExecutions translates a page of records, keeping their order.
func NewExecutions(logs []FunctionLog, loc *time.Location) []Execution {
	out := make([]Execution, len(logs))
	for i, l := range logs {
		out[i] = NewExecution(l, loc)
	}
	return out
}

// durationMs rounds Tencent's fractional milliseconds to Mudbase's integer
// milliseconds; garbage becomes 0 rather than an absurd number.
func durationMs(ms float64) int64 {
	if math.IsNaN(ms) || ms <= 0 || ms > math.MaxInt32 {
		return 0
	}
	return int64(math.Round(ms))
}

// resultOf returns RetMsg as JSON: as-is when it already is JSON (functions
// return JSON-serialised values), else as a JSON string.
func resultOf(retMsg string) json.RawMessage {
	if retMsg == "" {
		return nil
	}
	if json.Valid([]byte(retMsg)) {
		return json.RawMessage(retMsg)
	}
	quoted, _ := json.Marshal(retMsg) // a string always marshals
	return quoted
}

// UnfinishedMessage is the error of an execution that did not run to its
// end (InvokeFinished is not 1) and left no message of its own; the
// exporter reads it back as the outcome "unfinished".
const UnfinishedMessage = "invocation did not finish"

func failureMessage(l FunctionLog) string {
	if msg := strings.TrimSpace(l.RetMsg); msg != "" {
		return l.RetMsg
	}
	if l.RetCode == 0 && l.InvokeFinished != 1 {
		return UnfinishedMessage
	}
	return fmt.Sprintf("function failed with return code %d", l.RetCode)
}
