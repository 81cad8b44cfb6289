package translate

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The wire types of CLS SearchLog (service cls, version 2020-10-16), the
// fields mudscf sends and reads, named as Tencent's API page and the
// SDKs' models name them.

// SearchLog's limits: Limit (raw logs per call) at most 1000; a query at
// most 12 KB.
const (
	SearchLogMaxLimit      = 1000
	searchLogMaxQueryBytes = 12 << 10
	// SyntaxCQL is SyntaxRule 1: CLS Query Language.
	SyntaxCQL = 1
)

// SearchLogRequest holds the parameters of one SearchLog call.
type SearchLogRequest struct {
	TopicId    string `json:"TopicId"`
	From       int64  `json:"From"` // ms, inclusive
	To         int64  `json:"To"`   // ms, exclusive
	Query      string `json:"Query"`
	SyntaxRule uint64 `json:"SyntaxRule"`
	Limit      int64  `json:"Limit,omitempty"`
	Sort       string `json:"Sort,omitempty"`
	Context    string `json:"Context,omitempty"`
	// UseNewAnalysis asks for SQL results as AnalysisRecords (one JSON
	// object per row, typed by Columns).
	UseNewAnalysis bool `json:"UseNewAnalysis,omitempty"`
}

// SearchLogResponse is the content of the "Response" object of a
// successful SearchLog call.
type SearchLogResponse struct {
	Context         string       `json:"Context"`
	ListOver        bool         `json:"ListOver"`
	Analysis        bool         `json:"Analysis"`
	Results         []CLSLogInfo `json:"Results"`
	AnalysisRecords []string     `json:"AnalysisRecords"`
	RequestId       string       `json:"RequestId"`
}

// CLSLogInfo is one raw log; LogJson holds its keys, every value a string.
type CLSLogInfo struct {
	Time    int64  `json:"Time"`
	TopicId string `json:"TopicId"`
	LogJson string `json:"LogJson"`
}

// CLSTarget is a function's log topic and how long after its start an
// invocation's last line can be written (the function's timeout).
type CLSTarget struct {
	Target
	TopicID     string
	MaxDuration time.Duration
}

// SCF's status codes in CLS (Tencent's "Cloud Function Status Code"
// page): 200 is a successful invocation; 202 marks a line written while
// the invocation was still running; any other is a failure (430 an error
// of the function's code, 433 a timeout, 434 over the memory limit, 5xx
// the platform's own).
const (
	SCFStatusSuccess = 200
	SCFStatusRunning = 202
)

// A search condition's selectors of SCF's platform lines: the report line
// carries the invocation's final status, duration, memory and retries;
// the response line its return value or error.
const (
	reportLines   = `SCF_Message:"Report RequestId"`
	responseLines = `SCF_Message:"Response RequestId"`
)

// The report-line columns a page reads, in the order of reportRow.
var pageColumns = []string{"SCF_RequestId", "SCF_StartTime", "SCF_StatusCode", "SCF_Duration", "SCF_MemUsage", "SCF_RetryNum"}

// startBounds are the start times GetFunctionLogs's window covers for q,
// in ms: its times have second precision, and its end covers its whole
// second.
func (q Query) startBounds() (lo, hi int64) {
	return q.Since.Unix() * 1000, (q.Until.Unix() + 1) * 1000
}

// search is a SearchLog call over the log times where q's invocations
// can have written lines: from the earliest start to a MaxDuration after
// the latest.
func (q Query) search(t CLSTarget, query string) SearchLogRequest {
	lo, hi := q.startBounds()
	return SearchLogRequest{TopicId: t.TopicID, From: lo, To: hi + t.MaxDuration.Milliseconds(), Query: query, SyntaxRule: SyntaxCQL}
}

// condition is the CQL condition selecting the report lines of q's
// invocations of t: the window of start times, the qualifier (a version
// or an alias), and with filters, q's status and requestId.
func (q Query) condition(t CLSTarget, filters bool) string {
	lo, hi := q.startBounds()
	c := []string{reportLines,
		"SCF_StartTime:>=" + strconv.FormatInt(lo, 10), "SCF_StartTime:<" + strconv.FormatInt(hi, 10)}
	if qual := q.qualifier(t.Target); qual != "" {
		c = append(c, "(SCF_Qualifier:"+cqlQuote(qual)+" OR SCF_Alias:"+cqlQuote(qual)+")")
	}
	if filters {
		switch q.Status {
		case StatusSuccess:
			c = append(c, "SCF_StatusCode:"+strconv.Itoa(SCFStatusSuccess))
		case StatusFailed:
			c = append(c, "NOT SCF_StatusCode:"+strconv.Itoa(SCFStatusSuccess))
		}
		if q.RequestID != "" {
			c = append(c, "SCF_RequestId:"+cqlQuote(q.RequestID))
		}
	}
	return strings.Join(c, " AND ")
}

func (q Query) qualifier(t Target) string {
	if q.Qualifier != "" {
		return q.Qualifier
	}
	return t.Qualifier
}

// function is the SQL condition naming t exactly: a topic may hold the
// logs of several functions, and full-text search only matches tokens.
func function(t Target) string {
	w := "SCF_FunctionName = " + sqlQuote(t.FunctionName)
	if t.Namespace != "" {
		w += " AND SCF_Namespace = " + sqlQuote(t.Namespace)
	}
	return w
}

// CLSCount is the SearchLog call counting the invocations q's page
// chooses from.
func (q Query) CLSCount(t CLSTarget) SearchLogRequest {
	r := q.search(t, q.condition(t, true)+" | SELECT count(*) AS total WHERE "+function(t.Target))
	r.UseNewAnalysis = true
	return r
}

// CLSPage is the SearchLog call listing the report lines of q's page:
// ordered by start time, as GetFunctionLogs orders its records, with q's
// offset reached exactly by SQL's LIMIT (raw logs come in the order they
// were written, which is when invocations ended, not started).
func (q Query) CLSPage(t CLSTarget) SearchLogRequest {
	cols := strings.Join(pageColumns, ", ")
	dir := " ASC"
	if q.Order != OrderAsc {
		dir = " DESC"
	}
	r := q.search(t, q.condition(t, true)+" | SELECT "+cols+" WHERE "+function(t.Target)+
		" GROUP BY "+cols+" ORDER BY SCF_StartTime"+dir+", SCF_RequestId"+dir+
		" LIMIT "+strconv.FormatInt(q.Offset, 10)+", "+strconv.FormatInt(q.Limit, 10))
	r.UseNewAnalysis = true
	return r
}

// responseBatch is how many invocations' response lines one call asks
// for: their request IDs must fit in the 12 KB query.
const responseBatch = 100

// CLSResponses are the SearchLog calls fetching the response lines (the
// return value or error) of the invocations ids, which started in q's
// window: one call per responseBatch invocations.
func (q Query) CLSResponses(t CLSTarget, ids []string) []SearchLogRequest {
	var out []SearchLogRequest
	for len(ids) > 0 {
		n := min(len(ids), responseBatch)
		terms := make([]string, n)
		for i, id := range ids[:n] {
			terms[i] = "SCF_RequestId:" + cqlQuote(id)
		}
		r := q.search(t, responseLines+" AND ("+strings.Join(terms, " OR ")+")")
		r.Limit, r.Sort = int64(min(2*n, SearchLogMaxLimit)), OrderAsc
		out = append(out, r)
		ids = ids[n:]
	}
	return out
}

// CLSStats is the one SearchLog call whose SQL gives q's stats over the
// whole window: all executions, the successful ones (status 200), their
// exact mean duration and the latest start.
func (q Query) CLSStats(t CLSTarget) SearchLogRequest {
	r := q.search(t, q.condition(t, false)+" | SELECT count(*) AS total, count_if(SCF_StatusCode = "+
		strconv.Itoa(SCFStatusSuccess)+") AS successful, avg(SCF_Duration) AS avgDuration,"+
		" max(SCF_StartTime) AS lastStart WHERE "+function(t.Target))
	r.UseNewAnalysis = true
	return r
}

func cqlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// analysisRow decodes one AnalysisRecords row.
func analysisRow(record string) (map[string]json.RawMessage, error) {
	var row map[string]json.RawMessage
	if err := json.Unmarshal([]byte(record), &row); err != nil {
		return nil, fmt.Errorf("cls analysis record: %w", err)
	}
	return row, nil
}

// cell reads a number that CLS may write as a JSON number or, for text
// columns, as a string; null is absent.
func cell(row map[string]json.RawMessage, name string) (float64, bool, error) {
	raw, ok := row[name]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Errorf("cls analysis column %s: %s is not a number", name, clip(string(raw)))
	}
	return f, true, nil
}

func text(row map[string]json.RawMessage, name string) string {
	var s string
	if json.Unmarshal(row[name], &s) != nil {
		return strings.Trim(string(row[name]), `"`)
	}
	return s
}

// CLSCountOf reads the answer to CLSCount.
func CLSCountOf(resp SearchLogResponse) (int64, error) {
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

// CLSReport is an invocation as its report line tells it.
type CLSReport struct {
	RequestID  string
	StartMs    int64
	StatusCode int64
	DurationMs float64
	MemUsageMB float64
	RetryNum   int64
}

// CLSReportsOf reads the answer to CLSPage, keeping its order.
func CLSReportsOf(resp SearchLogResponse) ([]CLSReport, error) {
	out := make([]CLSReport, 0, len(resp.AnalysisRecords))
	for _, rec := range resp.AnalysisRecords {
		row, err := analysisRow(rec)
		if err != nil {
			return nil, err
		}
		var nums [5]float64
		for i, name := range pageColumns[1:] {
			if nums[i], _, err = cell(row, name); err != nil {
				return nil, err
			}
		}
		out = append(out, CLSReport{RequestID: text(row, "SCF_RequestId"), StartMs: int64(nums[0]),
			StatusCode: int64(nums[1]), DurationMs: nums[2], MemUsageMB: nums[3], RetryNum: int64(nums[4])})
	}
	return out, nil
}

// CLSRetMsgsOf reads the answers to CLSResponses: each invocation's
// RetMsg by request ID, from SCF's "Response RequestId:<id> RetMsg:<ret>"
// line.
func CLSRetMsgsOf(resps []SearchLogResponse) map[string]string {
	out := map[string]string{}
	for _, resp := range resps {
		for _, l := range resp.Results {
			var keys struct {
				RequestID string `json:"SCF_RequestId"`
				Message   string `json:"SCF_Message"`
			}
			if json.Unmarshal([]byte(l.LogJson), &keys) != nil {
				continue
			}
			if _, ret, ok := strings.Cut(keys.Message, " RetMsg:"); ok && keys.RequestID != "" {
				out[keys.RequestID] = ret
			}
		}
	}
	return out
}

// NewCLSExecution builds the execution GetFunctionLogs would report for
// the invocation r of function fn, whose return value or error is retMsg.
// CLS carries neither the billed duration nor the invocation's whole log
// text in these two lines: those fields stay empty, never guessed. The
// start time keeps the milliseconds CLS records.
func NewCLSExecution(fn string, r CLSReport, retMsg string, loc *time.Location) Execution {
	retCode := r.StatusCode
	if retCode == SCFStatusSuccess {
		retCode = 0 // GetFunctionLogs's RetCode of a normal return
	}
	finished := int64(1)
	if r.StatusCode == SCFStatusRunning {
		finished = 0
	}
	e := NewExecution(FunctionLog{
		FunctionName:   fn,
		RetMsg:         retMsg,
		RequestId:      r.RequestID,
		StartTime:      time.UnixMilli(r.StartMs).In(loc).Format(UpstreamTimeLayout + ".000"),
		RetCode:        retCode,
		InvokeFinished: finished,
		Duration:       r.DurationMs,
		MemUsage:       int64(math.Round(r.MemUsageMB * (1 << 20))),
		RetryNum:       r.RetryNum,
	}, loc)
	e.BilledDurationMs = nil
	return e
}

// CLSStatsOf reads the answer to CLSStats.
func CLSStatsOf(resp SearchLogResponse) (Stats, error) {
	if len(resp.AnalysisRecords) == 0 {
		return Stats{}, nil
	}
	row, err := analysisRow(resp.AnalysisRecords[0])
	if err != nil {
		return Stats{}, err
	}
	var v [4]float64
	var ok [4]bool
	for i, name := range []string{"total", "successful", "avgDuration", "lastStart"} {
		if v[i], ok[i], err = cell(row, name); err != nil {
			return Stats{}, err
		}
	}
	total := max(int64(v[0]), 0)
	good := min(max(int64(v[1]), 0), total)
	s := Stats{TotalExecutions: total, Successful: good, Failed: total - good}
	if total > 0 {
		s.SuccessRate = math.Round(float64(good)*10000/float64(total)) / 100
	}
	if ok[2] {
		s.AvgExecutionTime = durationMs(v[2])
	}
	if ok[3] && total > 0 {
		last := FormatMudbaseTime(time.UnixMilli(int64(v[3])))
		s.LastRun = &last
	}
	return s, nil
}
