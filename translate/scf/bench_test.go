package scf

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// upstreamBody is a GetFunctionLogs answer with n realistic records.
func upstreamBody(b *testing.B, n int) []byte {
	b.Helper()
	loc := shanghai(b)
	resp := GetFunctionLogsResponse{TotalCount: int64(n), RequestId: "e2571ff3-da04-4c53-8438-f58bf057ce4a"}
	start := time.Date(2024, 1, 15, 18, 0, 0, 0, loc)
	for i := range n {
		id := fmt.Sprintf("bc309eaa-6d64-11e8-a7fe-%012d", i)
		l := FunctionLog{
			FunctionName: "APITest", RequestId: id, StartTime: start.Add(time.Duration(i) * time.Second).Format(TimeLayout),
			RetCode: 0, InvokeFinished: 1, Duration: 12.345 + float64(i%100), BillDuration: 13 + int64(i%100), MemUsage: 3174400 + int64(i),
			RetMsg: fmt.Sprintf(`{"processed":%d,"ok":true}`, i),
			Log:    "START RequestId: " + id + "\n[INFO] handler invoked\nEND RequestId: " + id + "\nReport RequestId: " + id + " Duration:12.34ms Memory:128MB MemUsage:3.1MB",
		}
		if i%10 == 0 {
			l.RetCode, l.RetMsg = 433, "Invoking task timed out after 3 seconds"
		}
		resp.Data = append(resp.Data, l)
	}
	body, err := json.Marshal(struct{ Response GetFunctionLogsResponse }{resp})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkTranslate compares the whole upstream-body to Mudbase-body path
// (decode, translate, encode) with its floor, a plain json.Unmarshal of the
// same body. BENCHMARKS.md reports the ratio.
func BenchmarkTranslate(b *testing.B) {
	body := upstreamBody(b, 100)
	loc := shanghai(b)
	b.Run("floor-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var out struct{ Response GetFunctionLogsResponse }
			if err := json.Unmarshal(body, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("translate", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var out struct{ Response GetFunctionLogsResponse }
			if err := json.Unmarshal(body, &out); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(page(out.Response, loc).Executions); err != nil {
				b.Fatal(err)
			}
		}
	})
}
