package cls

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// answer is a SearchLog answer of raw logs, each given as its SCF_* keys.
func answer(t *testing.T, listOver bool, context string, logs ...map[string]string) json.RawMessage {
	t.Helper()
	resp := SearchLogResponse{ListOver: listOver, Context: context, RequestId: "r"}
	for i, l := range logs {
		b, _ := json.Marshal(l)
		resp.Results = append(resp.Results, LogInfo{Time: int64(1000 + i), TopicId: "topic-1", LogJson: string(b)})
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func scfLine(id, logTime, typ, msg string) map[string]string {
	return map[string]string{"SCF_RequestId": id, "SCF_FunctionName": "APITest", "SCF_Namespace": "default",
		"SCF_Type": typ, "SCF_Message": msg, "SCF_LogTime": logTime}
}

// Only lines of exactly the page's invocations count: CQL matches tokens,
// so "X_" or another function's "X" may come back too. A log is the lines
// in the order they were written; the return value is the response line's.
func TestLinesAreExactAndOrdered(t *testing.T) {
	l := NewLines(target, []string{"X"})
	other := scfLine("X", "5", "Custom", "another function's line")
	other["SCF_FunctionName"] = "APITest2"
	next, err := l.Add(SearchLogRequest{}, answer(t, true, "",
		scfLine("X", "3", "Platform", `Response RequestId:X RetMsg:{"ok":true}`),
		scfLine("X", "1", "Platform", "START RequestId: X"),
		scfLine("X_", "2", "Platform", "Response RequestId:X_ RetMsg:wrong"),
		scfLine("X", "2", "Custom", "hello"),
		other,
		scfLine("X", "4", "Custom", "Response RequestId:X RetMsg:printed by the user"),
	))
	if err != nil || next != nil {
		t.Fatalf("Add: %v, %v", next, err)
	}
	if got := l.RetMsg("X"); got != `{"ok":true}` {
		t.Errorf("RetMsg %q", got)
	}
	want := "START RequestId: X\nhello\nResponse RequestId:X RetMsg:{\"ok\":true}\nResponse RequestId:X RetMsg:printed by the user"
	if got := l.Log("X"); got != want {
		t.Errorf("Log:\n%s\nwant:\n%s", got, want)
	}
	if l.RetMsg("X_") != "" || l.Log("X_") != "" {
		t.Error("an invocation the page does not have got lines")
	}
}

// An answer with more lines in CLS is continued with its Context, the
// other parameters unchanged; a log past MaxLogBytes is cut and says so.
func TestLinesContinueAndCut(t *testing.T) {
	l := NewLines(target, []string{"X"})
	req := SearchLogRequest{TopicId: "topic-1", Query: "q", Limit: 1000}
	big := strings.Repeat("x", 8<<10)
	var logs []map[string]string
	for i := range 10 {
		logs = append(logs, scfLine("X", fmt.Sprint(i), "Custom", big))
	}
	next, err := l.Add(req, answer(t, false, "ctx-2", logs...))
	if err != nil || next == nil || next.Context != "ctx-2" || next.Query != "q" || next.Limit != 1000 {
		t.Fatalf("continuation %+v, %v", next, err)
	}
	log := l.Log("X")
	if len(log) > MaxLogBytes+100 || !strings.HasSuffix(log, "; a log is cut at 64 KiB]") || !strings.Contains(log, "3 more lines") {
		t.Errorf("a log of %d bytes ending %q", len(log), log[len(log)-60:])
	}
}

// Column names are read whatever their case; numbers as JSON numbers or
// strings; an empty window's avg is null.
func TestReadAnalysis(t *testing.T) {
	rec := func(s string) json.RawMessage {
		b, _ := json.Marshal(SearchLogResponse{Analysis: true, AnalysisRecords: []string{s}})
		return b
	}
	st, err := ReadStats(rec(`{"TOTAL":3,"Successful":"2","avg_duration":12.5,"last_start":1705311000123}`))
	if err != nil || st.TotalExecutions != 3 || st.Successful != 2 || st.AvgExecutionTime != 13 || st.LastRun == nil || *st.LastRun != "2024-01-15T09:30:00.123Z" {
		t.Errorf("stats %+v, %v", st, err)
	}
	st, err = ReadStats(rec(`{"total":0,"successful":0,"avg_duration":null,"last_start":null}`))
	if err != nil || st.TotalExecutions != 0 || st.LastRun != nil || st.AvgExecutionTime != 0 {
		t.Errorf("empty window %+v, %v", st, err)
	}
	if _, err := ReadStats(rec(`{"total":"many"}`)); err == nil {
		t.Error("a count that is not a number was read")
	}
	reports, err := ReadReports(rec(`{"scf_requestid":"X","SCF_StartTime":1705311000123,"SCF_StatusCode":433,"SCF_Duration":3000,"SCF_MemUsage":29.7,"SCF_RetryNum":1}`))
	if err != nil || len(reports) != 1 || reports[0] != (Report{RequestID: "X", StartMs: 1705311000123, StatusCode: 433, DurationMs: 3000, MemUsageMB: 29.7, RetryNum: 1}) {
		t.Errorf("reports %+v, %v", reports, err)
	}
}
