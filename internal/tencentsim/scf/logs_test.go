package scf

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The hand-written encoding of a GetFunctionLogs page is encoding/json's.
func TestGetFunctionLogsAppendJSON(t *testing.T) {
	for _, r := range []*GetFunctionLogsResponse{
		{TotalCount: 2, RequestId: "r", SearchContext: &LogSearchContext{Limit: 3}, Data: []FunctionLog{
			{FunctionName: "f", RetMsg: `{"processed":1}`, RequestId: "id", StartTime: "2026-01-01 08:00:00", RetCode: 433,
				InvokeFinished: 1, Duration: 3000, BillDuration: 3000, MemUsage: 4096, Log: "START\tx\nEND", RetryNum: 2},
			{Duration: 0.5},
		}},
		{Data: []FunctionLog{}},
		{},
	} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if got, want := string(r.AppendJSON(nil)), string(bytes.TrimSpace(buf.Bytes())); got != want {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
}
