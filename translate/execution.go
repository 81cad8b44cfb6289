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
// and invokedBy have no counterpart in Tencent's log sources, so they stay
// empty (and are omitted) rather than being guessed. The second block
// carries upstream facts Mudbase has no field for; Mudbase clients ignore
// unknown fields, so this is a compatible superset.
type Execution struct {
	// ExecutedAt is nil only when the upstream start time cannot be read;
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

// Invocation is what a log source knows of one invocation, in the model's
// units. Each Tencent API's adapter fills one from its own wire types;
// NewExecution applies Mudbase's rules to it, the same for every source.
type Invocation struct {
	RequestID    string
	FunctionName string
	// Start is when it started; zero when the source's time could not be
	// read.
	Start time.Time
	// DurationMs is how long it ran, in (possibly fractional) milliseconds.
	DurationMs float64
	// BilledMs is the billed duration; nil where the source carries none.
	BilledMs    *int64
	MemoryBytes int64
	Retries     int64
	// RetCode is the source's return code, 0 for a normal return.
	RetCode int64
	// Finished says it ran to its end.
	Finished bool
	// RetMsg is what it returned: its value (JSON or text), or its error.
	RetMsg     string
	Log, Level string
}

// Succeeded applies Tencent's field definitions: RetCode 0 means the
// function returned normally, and only an invocation that ran to its end
// succeeded. (Tencent's own example shows RetCode 1 beside RetMsg
// "Success"; the definition, not the example, is the contract.)
func (inv Invocation) Succeeded() bool { return inv.RetCode == 0 && inv.Finished }

// The years a Mudbase time may lie in: upstream times outside them cannot
// be real log times and would not survive conversion to RFC 3339 once
// shifted by a day and a zone.
const minYear, maxYear = 2000, 9998

// FormatMudbaseTime writes t as Mudbase does.
func FormatMudbaseTime(t time.Time) string {
	return t.UTC().Format(MudbaseTimeLayout)
}

// InMudbaseRange says whether t can be written as a Mudbase time.
func InMudbaseRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= minYear && y <= maxYear
}

// NewExecution translates one invocation. It never fails: fields the
// upstream got wrong degrade (ExecutedAt nil, negative numbers clamped)
// instead of dropping the record.
func NewExecution(inv Invocation) Execution {
	e := Execution{
		ExecutionTime:    DurationMs(inv.DurationMs),
		Success:          inv.Succeeded(),
		RequestID:        inv.RequestID,
		FunctionName:     inv.FunctionName,
		RetCode:          inv.RetCode,
		MemoryUsageBytes: max(inv.MemoryBytes, 0),
		RetryCount:       max(inv.Retries, 0),
		Log:              inv.Log,
		Level:            inv.Level,
	}
	if inv.BilledMs != nil {
		e.BilledDurationMs = new(max(*inv.BilledMs, 0))
	}
	if !inv.Start.IsZero() && InMudbaseRange(inv.Start) {
		s := FormatMudbaseTime(inv.Start)
		e.ExecutedAt = &s
	}
	if e.Success {
		e.Result = resultOf(inv.RetMsg)
	} else {
		e.Error = failureMessage(inv)
	}
	return e
}

// DurationMs rounds fractional milliseconds to Mudbase's integer
// milliseconds; garbage becomes 0 rather than an absurd number.
func DurationMs(ms float64) int64 {
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
// end and left no message of its own; the exporter reads it back as the
// outcome "unfinished".
const UnfinishedMessage = "invocation did not finish"

func failureMessage(inv Invocation) string {
	if msg := strings.TrimSpace(inv.RetMsg); msg != "" {
		return inv.RetMsg
	}
	if inv.RetCode == 0 && !inv.Finished {
		return UnfinishedMessage
	}
	return fmt.Sprintf("function failed with return code %d", inv.RetCode)
}
