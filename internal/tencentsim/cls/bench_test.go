package cls

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
)

// The cost of mudscf's queries over a 24 h window of a busy function, in
// a topic of its own and in a region's shared topic of 10,000 functions:
// time per query and the records it examined (what the latency model
// charges). The queries are translate/cls's forms (queries.golden.json).
func BenchmarkSearchLog24h(b *testing.B) {
	for _, c := range []struct {
		name   string
		rate   float64
		others int
	}{
		{"busy 1/s, own topic", 1, 0},
		{"busy 10/s, own topic", 10, 0},
		{"busy 1/s, topic of 10000 functions", 1, 9999},
	} {
		now := testOrigin.Add(7 * 24 * time.Hour)
		fns := []*invocations.Model{invocations.NewModel(invocations.Function{Name: "busy", RatePerSecond: c.rate,
			FailureRatio: 0.1, ClsTopicID: sharedTopic}.WithDefaults(), 1, testOrigin)}
		for i := range c.others {
			fns = append(fns, invocations.NewModel(invocations.Function{Name: fmt.Sprintf("fn-%05d", i), ClsTopicID: sharedTopic}.WithDefaults(), 1, testOrigin))
		}
		a := New(fns, Config{Seed: 1, Now: func() time.Time { return now }})
		busy := fns[0]
		lo, hi := ms(now.Add(-24*time.Hour)), ms(now)
		cond := fmt.Sprintf(`SCF_Type:Platform AND SCF_Message:"Report RequestId" AND (NOT SCF_Message:"Init Report")`+
			` AND (NOT SCF_Message:"Provisioned Report") AND (NOT SCF_Message:"Previsioned Report") AND SCF_FunctionName:"busy"`+
			` AND SCF_Namespace:"default" AND SCF_StartTime>=%d AND SCF_StartTime<%d`, lo, hi)
		where := " WHERE SCF_FunctionName = 'busy' AND SCF_Namespace = 'default' AND SCF_Message LIKE 'Report RequestId%'"
		sqlCall := func(stmt string) call {
			return call{"TopicId": sharedTopic, "From": lo, "To": hi + busy.TimeoutMs, "Query": cond + " | " + stmt + where,
				"SyntaxRule": 1, "UseNewAnalysis": true}
		}
		// 100 request IDs spread over the day, for a batch of lines.
		first, last := busy.Range(now.Add(-24*time.Hour).UnixNano(), now.UnixNano())
		var ids []string
		for i := range int64(100) {
			r := busy.Exec(first + i*(last-first)/100)
			ids = append(ids, `SCF_RequestId:"`+r.RequestID()+`"`)
		}
		idList := "(" + strings.Join(ids, " OR ") + ")"
		for _, q := range []struct {
			name string
			req  call
		}{
			{"count", sqlCall("SELECT count(*) AS total")},
			{"page offset 9990", sqlCall("SELECT SCF_RequestId, SCF_StartTime, SCF_StatusCode, SCF_Duration, SCF_MemUsage, SCF_RetryNum")},
			{"stats", sqlCall("SELECT count(*) AS total, count_if(SCF_StatusCode = 200) AS successful, avg(SCF_Duration) AS avg_duration, max(SCF_StartTime) AS last_start")},
			{"100 response lines", call{"TopicId": sharedTopic, "From": lo, "To": hi + busy.TimeoutMs, "SyntaxRule": 1, "Limit": 1000, "Sort": "asc",
				"Query": fmt.Sprintf(`SCF_Type:Platform AND SCF_Message:"Response RequestId" AND SCF_FunctionName:"busy" AND SCF_Namespace:"default"`+
					` AND SCF_StartTime>=%d AND SCF_StartTime<%d AND %s`, lo, hi, idList)}},
			{"100 logs", call{"TopicId": sharedTopic, "From": lo, "To": hi + busy.TimeoutMs, "SyntaxRule": 1, "Limit": 1000, "Sort": "asc",
				"Query": `SCF_FunctionName:"busy" AND SCF_Namespace:"default" AND ` + idList}},
		} {
			if q.name == "page offset 9990" {
				q.req["Query"] = q.req["Query"].(string) + " ORDER BY SCF_StartTime DESC, SCF_RequestId DESC OFFSET 9990 LIMIT 10"
			}
			b.Run(c.name+"/"+q.name, func(b *testing.B) {
				var scanned int64
				for b.Loop() {
					resp, n := benchSearch(b, a, q.req)
					if len(resp.Results)+len(resp.AnalysisRecords) == 0 {
						b.Fatal("no answer")
					}
					scanned = n
				}
				b.ReportMetric(float64(scanned), "records/query")
			})
		}
	}
}

func benchSearch(b *testing.B, a *API, c call) (*SearchLogResponse, int64) {
	b.Helper()
	q, e := a.plan(planParams(b, c), testRegion, a.now())
	if e != nil {
		b.Fatal(e.Code, e.Message)
	}
	resp, n, e := a.Search(q)
	if e != nil {
		b.Fatal(e.Code, e.Message)
	}
	return resp, n
}
