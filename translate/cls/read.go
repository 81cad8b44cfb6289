package cls

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// analysisRow decodes one AnalysisRecords row.
func analysisRow(record string) (map[string]json.RawMessage, error) {
	var row map[string]json.RawMessage
	if err := json.Unmarshal([]byte(record), &row); err != nil {
		return nil, fmt.Errorf("cls analysis record: %w", err)
	}
	return row, nil
}

// column is the value of the column name in row. SQL is case-insensitive
// and how CLS cases a column in its answer is not documented: an exact
// match first, else one that differs only in case.
func column(row map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if raw, ok := row[name]; ok {
		return raw, true
	}
	for k, raw := range row {
		if strings.EqualFold(k, name) {
			return raw, true
		}
	}
	return nil, false
}

// cell reads a number that CLS may write as a JSON number or, for text
// columns, as a string; null is absent.
func cell(row map[string]json.RawMessage, name string) (float64, bool, error) {
	raw, ok := column(row, name)
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Errorf("cls analysis column %s: %s is not a number", name, translate.Clip(string(raw)))
	}
	return f, true, nil
}

func text(row map[string]json.RawMessage, name string) string {
	raw, _ := column(row, name)
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return strings.Trim(string(raw), `"`)
	}
	return s
}

// decode reads a SearchLog answer.
func decode(answer json.RawMessage) (SearchLogResponse, error) {
	var resp SearchLogResponse
	if err := json.Unmarshal(answer, &resp); err != nil {
		return resp, fmt.Errorf("SearchLog answer: %w", err)
	}
	return resp, nil
}

// ReadCount reads the answer to CountRequest.
func ReadCount(answer json.RawMessage) (int64, error) {
	resp, err := decode(answer)
	if err != nil {
		return 0, err
	}
	if len(resp.AnalysisRecords) == 0 {
		return 0, nil
	}
	row, err := analysisRow(resp.AnalysisRecords[0])
	if err != nil {
		return 0, err
	}
	n, _, err := cell(row, "total")
	return int64(n), err
}

// Report is an invocation as its report line tells it.
type Report struct {
	RequestID  string
	StartMs    int64
	StatusCode int64
	DurationMs float64
	MemUsageMB float64
	RetryNum   int64
}

// ReadReports reads the answer to PageRequest, keeping its order.
func ReadReports(answer json.RawMessage) ([]Report, error) {
	return readRows(answer, readReport)
}

// readRows reads each AnalysisRecords row of answer with read, keeping
// their order.
func readRows[T any](answer json.RawMessage, read func(row map[string]json.RawMessage) (T, error)) ([]T, error) {
	resp, err := decode(answer)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(resp.AnalysisRecords))
	for _, rec := range resp.AnalysisRecords {
		row, err := analysisRow(rec)
		if err != nil {
			return nil, err
		}
		r, err := read(row)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// readReport reads a row of pageColumns.
func readReport(row map[string]json.RawMessage) (Report, error) {
	var nums [5]float64
	for i, name := range pageColumns[1:] {
		var err error
		if nums[i], _, err = cell(row, name); err != nil {
			return Report{}, err
		}
	}
	return Report{RequestID: text(row, "SCF_RequestId"), StartMs: int64(nums[0]),
		StatusCode: int64(nums[1]), DurationMs: nums[2], MemUsageMB: nums[3], RetryNum: int64(nums[4])}, nil
}

// Execution is the execution GetFunctionLogs would report for the
// invocation r of function fn, whose return value or error is retMsg and
// whose log text is log ("" when not asked for). CLS carries no billed
// duration: that field stays empty, never guessed. The start time keeps
// the milliseconds CLS records.
func Execution(fn string, r Report, retMsg, log string) translate.Execution {
	retCode := r.StatusCode
	if retCode == SCFStatusSuccess {
		retCode = 0 // GetFunctionLogs's RetCode of a normal return
	}
	return translate.NewExecution(translate.Invocation{
		RequestID:    r.RequestID,
		FunctionName: fn,
		Start:        time.UnixMilli(r.StartMs),
		DurationMs:   r.DurationMs,
		MemoryBytes:  int64(math.Round(r.MemUsageMB * (1 << 20))),
		Retries:      r.RetryNum,
		RetCode:      retCode,
		Finished:     r.StatusCode != SCFStatusRunning,
		RetMsg:       retMsg,
		Log:          log,
	})
}

// ReadStats reads the answer to StatsRequest: exact over the whole window.
func ReadStats(answer json.RawMessage) (translate.Stats, error) {
	resp, err := decode(answer)
	if err != nil {
		return translate.Stats{}, err
	}
	if len(resp.AnalysisRecords) == 0 {
		return translate.NewStats(0, 0, 0, time.Time{}), nil
	}
	row, err := analysisRow(resp.AnalysisRecords[0])
	if err != nil {
		return translate.Stats{}, err
	}
	var v [4]float64
	var ok [4]bool
	for i, name := range []string{"total", "successful", "avg_duration", "last_start"} {
		if v[i], ok[i], err = cell(row, name); err != nil {
			return translate.Stats{}, err
		}
	}
	var last time.Time
	if ok[3] && v[0] > 0 {
		last = time.UnixMilli(int64(v[3]))
	}
	return translate.NewStats(int64(v[0]), int64(v[1]), v[2], last), nil
}
