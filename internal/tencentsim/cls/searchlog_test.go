package cls

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// SCF's lines in CLS (583/60336): per request START, the init lines of a
// cold start (web and image functions), the handler's lines, ERROR on a
// failure, Response, END and Report, in that order, SCF_LogTime in ns
// increasing; only the report line says the final status, the others 202;
// values in LogJson are strings, SCF_Duration whole ms; provisioned
// instances write a Provisioned Report with a request ID of their own.
func TestSCFLinesInCLS(t *testing.T) {
	a := testAPI(t)
	c := cqlCall(`SCF_FunctionName:web`).with("Limit", 1000, "Sort", "asc", "To", ms(winFrom.Add(90*time.Minute)))
	byID := map[string][]map[string]string{}
	var order []string
	for {
		r := mustSearch(t, a, c)
		for _, k := range logKeys(t, r) {
			id := k["SCF_RequestId"]
			if byID[id] == nil {
				order = append(order, id)
			}
			byID[id] = append(byID[id], k)
		}
		if r.ListOver {
			break
		}
		c = c.with("Context", r.Context)
	}
	// Requests the window cuts are left out.
	order = slices.DeleteFunc(order, func(id string) bool {
		lines := byID[id]
		first, last := lines[0]["SCF_Message"], lines[len(lines)-1]["SCF_Message"]
		return !strings.HasPrefix(first, "START") && !strings.Contains(first, "provisioned instance") ||
			!strings.HasPrefix(last, "Report") && !strings.HasPrefix(last, "Provisioned Report")
	})
	var sawCold, sawFailure, sawProvisioned bool
	for _, id := range order {
		lines := byID[id]
		var kinds []string
		prev := ""
		for i, k := range lines {
			kinds = append(kinds, strings.Fields(k["SCF_Message"])[0])
			if len(k["SCF_LogTime"]) != 19 || k["SCF_LogTime"] <= prev {
				t.Fatalf("%s: SCF_LogTime %q after %q", id, k["SCF_LogTime"], prev)
			}
			prev = k["SCF_LogTime"]
			final := i == len(lines)-1
			if (k["SCF_StatusCode"] == "202") == final {
				t.Errorf("%s line %d (%s): status %s", id, i, k["SCF_Message"], k["SCF_StatusCode"])
			}
			if strings.ContainsAny(k["SCF_Duration"], ".e") {
				t.Errorf("SCF_Duration %q is not whole ms", k["SCF_Duration"])
			}
		}
		seq := strings.Join(kinds, " ")
		switch {
		case strings.HasPrefix(seq, "Provisioned") || strings.HasSuffix(seq, "Provisioned"):
			sawProvisioned = true
			if len(lines) != 2 || lines[1]["SCF_Type"] != "Platform" || !strings.HasPrefix(lines[1]["SCF_Message"], "Provisioned Report RequestId: "+id+" InitDuration: ") {
				t.Errorf("provisioned instance %s: %v", id, lines)
			}
		default:
			if kinds[0] != "START" || !strings.HasSuffix(seq, "Response END Report") {
				t.Errorf("%s: lines %s", id, seq)
			}
			if strings.Contains(seq, "Init") {
				sawCold = true
				if !strings.Contains(lines[2]["SCF_Message"], "Init Report RequestId: "+id+" InitDuration: ") {
					t.Errorf("%s: %q", id, lines[2]["SCF_Message"])
				}
			}
			if last := lines[len(lines)-1]; last["SCF_StatusCode"] != "200" {
				sawFailure = true
				if !strings.Contains(seq, "ERROR") || !slices.ContainsFunc(lines, func(k map[string]string) bool {
					return strings.HasPrefix(k["SCF_Message"], "ERROR RequestId:"+id+" Result:")
				}) {
					t.Errorf("failed request %s without its ERROR line: %s", id, seq)
				}
			} else if strings.Contains(seq, "ERROR") {
				t.Errorf("successful request %s with an ERROR line", id)
			}
		}
	}
	if !sawCold || !sawFailure || !sawProvisioned {
		t.Fatalf("cold start %v, failure %v, provisioned instance %v: the window shows too little", sawCold, sawFailure, sawProvisioned)
	}
}

// GetFunctionLogs's Log of a request is its CLS lines joined by "\n".
func TestLogTextIsTheCLSLines(t *testing.T) {
	a := testAPI(t)
	web := a.topics[sharedTopic].fns[2]
	for i := range int64(200) {
		rec := web.Exec(i)
		r := mustSearch(t, a, call{"TopicId": sharedTopic, "From": ms(time.Unix(0, rec.StartNs)), "To": ms(time.Unix(0, rec.EndNs()+1e6)),
			"QueryString": `SCF_RequestId:"` + rec.RequestID() + `"`, "Sort": "asc", "Limit": 1000})
		var msgs []string
		for _, k := range logKeys(t, r) {
			msgs = append(msgs, k["SCF_Message"])
		}
		if got := strings.Join(msgs, "\n"); got != rec.LogText() {
			t.Fatalf("request %d:\n CLS %q\nText %q", i, got, rec.LogText())
		}
	}
}

// mudscf's report-line selection (translate/cls: R with its NOT phrases,
// W with LIKE) counts invocations only: never the Init Report or
// Provisioned Report lines of a web function.
func TestReportSelectionCountsInvocations(t *testing.T) {
	a := testAPI(t)
	web := a.topics[sharedTopic].fns[2]
	from, to := winFrom, winFrom.Add(6*time.Hour)
	lo, hi := ms(from), ms(to)
	r := `SCF_Type:Platform AND SCF_Message:"Report RequestId" AND (NOT SCF_Message:"Init Report") AND (NOT SCF_Message:"Provisioned Report")` +
		` AND (NOT SCF_Message:"Previsioned Report") AND SCF_FunctionName:"web" AND SCF_Namespace:"default"` +
		fmt.Sprintf(" AND SCF_StartTime>=%d AND SCF_StartTime<%d", lo, hi)
	w := " WHERE SCF_FunctionName = 'web' AND SCF_Namespace = 'default' AND SCF_Message LIKE 'Report RequestId%'"
	first, last := web.Range(from.UnixNano(), to.UnixNano())
	want := last - first + 1
	for name, q := range map[string]string{
		"CQL and SQL": r + " | SELECT count(*) AS total" + w,
		"CQL only":    r + " | SELECT count(*) AS total",
		"SQL only":    fmt.Sprintf("SCF_StartTime>=%d AND SCF_StartTime<%d | SELECT count(*) AS total", lo, hi) + w,
	} {
		res := mustSearch(t, a, call{"TopicId": sharedTopic, "From": lo, "To": hi + web.TimeoutMs, "QueryString": q, "UseNewAnalysis": true})
		if got := rows(t, res)[0]["total"]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v report lines, %d invocations", name, got, want)
		}
	}
	// Without the exclusions, the phrase also finds the init lines.
	loose := mustSearch(t, a, call{"TopicId": sharedTopic, "From": lo, "To": hi + web.TimeoutMs, "UseNewAnalysis": true,
		"QueryString": `SCF_FunctionName:web AND SCF_Message:"Report RequestId" | SELECT count(*) AS total`})
	if got := rows(t, loose)[0]["total"]; fmt.Sprint(got) == fmt.Sprint(want) {
		t.Errorf("the loose selection counts %v too: the window has no init lines, so the test shows nothing", got)
	}
}

// One topic holds the region's functions, the same name in two namespaces
// included; mudscf's exact filters tell them apart.
func TestSharedTopicKeepsNamespacesApart(t *testing.T) {
	a := testAPI(t)
	count := func(ns string) string {
		q := fmt.Sprintf(`SCF_FunctionName:"fn" AND SCF_Namespace:"%s" AND SCF_Message:"Report RequestId" | SELECT count(*) AS n`+
			` WHERE SCF_FunctionName = 'fn' AND SCF_Namespace = '%s' AND SCF_Message LIKE 'Report RequestId%%'`, ns, ns)
		return fmt.Sprint(rows(t, mustSearch(t, a, cqlCall(q).with("UseNewAnalysis", true)))[0]["n"])
	}
	var want [2]string
	for i, f := range a.topics[sharedTopic].fns[:2] {
		n := 0
		first, last := f.Range(winFrom.UnixNano()-f.TimeoutMs*1e6, winTo.UnixNano())
		for j := first; j <= last; j++ {
			if r := f.Exec(j); r.EndNs() >= winFrom.UnixNano() && r.EndNs() < winTo.UnixNano() {
				n++
			}
		}
		want[i] = fmt.Sprint(n)
	}
	if got := [2]string{count("default"), count("other")}; got != want || got[0] == got[1] {
		t.Errorf("counts %v, want %v", got, want)
	}
}

// A Context continues the query it came from, whatever its Offset was,
// and only that query; the chain stops at 10,000 logs; Offset has no cap.
func TestContext(t *testing.T) {
	a := testAPI(t)
	base := cqlCall("SCF_FunctionName:fn").with("Sort", "asc", "Limit", 1000)
	all := mustSearch(t, a, base)
	withOffset := mustSearch(t, a, base.with("Offset", 10, "Limit", 5))
	if withOffset.Context == "" {
		t.Fatal("no Context")
	}
	next := mustSearch(t, a, base.with("Limit", 5, "Context", withOffset.Context))
	if !slices.EqualFunc(next.Results, all.Results[15:20], func(a, b LogInfo) bool { return a.LogJson == b.LogJson }) {
		t.Errorf("the Context of an Offset page does not continue it")
	}
	for name, c := range map[string]call{
		"other statement": base.with("Limit", 5, "QueryString", "*", "Context", withOffset.Context),
		"other limit":     base.with("Limit", 6, "Context", withOffset.Context),
		"other window":    base.with("Limit", 5, "To", ms(winTo)+1, "Context", withOffset.Context),
		"forged":          base.with("Limit", 5, "Context", withOffset.Context[:len(withOffset.Context)-2]+"AA"),
	} {
		if _, e := search(t, a, c); e == nil || e.Code != ic {
			t.Errorf("%s: %v, want %s", name, e, ic)
		}
	}
	// Expiry after an hour.
	later := New(a.topics[sharedTopic].fns, Config{Seed: 1, Now: func() time.Time { return testNow.Add(ContextTTL + time.Second) }})
	if _, e := search(t, later, base.with("Limit", 5, "Context", withOffset.Context)); e == nil || e.Code != ic {
		t.Errorf("an expired Context: %v", e)
	}

	long := cqlCall("*").with("To", ms(winFrom.Add(3*time.Hour)), "Limit", 1000, "Sort", "asc")
	total := 0
	for calls := 0; ; calls++ {
		r := mustSearch(t, a, long)
		total += len(r.Results)
		if r.Context == "" {
			if r.ListOver || total != MaxContextLogs {
				t.Fatalf("the chain stopped after %d logs, ListOver %v", total, r.ListOver)
			}
			break
		}
		long = long.with("Context", r.Context)
	}
	deep := mustSearch(t, a, cqlCall("*").with("To", ms(winFrom.Add(3*time.Hour)), "Limit", 10, "Offset", 12000))
	if len(deep.Results) != 10 {
		t.Errorf("Offset 12000: %d results", len(deep.Results))
	}
}

// A multi-topic search merges its topics' logs in time order and pages
// each topic with its own Context.
func TestMultiTopicPaging(t *testing.T) {
	a := testAPI(t)
	topics := []call{{"TopicId": sharedTopic}, {"TopicId": otherTopic}}
	c := cqlCall("SCF_Type:Platform").with("TopicId", nil, "Topics", topics, "Limit", 50, "Sort", "asc")
	var seen []int64
	for pages := 0; pages < 4; pages++ {
		r := mustSearch(t, a, c)
		for _, li := range r.Results {
			seen = append(seen, li.Time)
		}
		next := []call{}
		for _, info := range r.Topics.Infos {
			next = append(next, call{"TopicId": info.TopicId, "Context": info.Context})
		}
		c = c.with("Topics", next)
	}
	if len(seen) != 200 || !slices.IsSorted(seen) {
		t.Errorf("%d logs over four pages, sorted %v", len(seen), slices.IsSorted(seen))
	}
	one := mustSearch(t, a, cqlCall("SCF_Type:Platform").with("TopicId", nil, "Topics", topics, "Limit", 200, "Sort", "asc"))
	var times []int64
	for _, li := range one.Results {
		times = append(times, li.Time)
	}
	if !slices.Equal(times, seen) {
		t.Errorf("paged multi-topic search differs from one page")
	}
}

// The old analysis format (UseNewAnalysis false) carries every cell as a
// bare string, as Tencent's AnalysisResults do: text and timestamps
// unquoted, numbers as written, where the new format types them.
func TestOldFormatCellsAreBareStrings(t *testing.T) {
	a := testAPI(t)
	stmt := "SELECT SCF_FunctionName AS name, cast(SCF_StartTime AS timestamp) AS started, SCF_MemUsage AS mem ORDER BY started LIMIT 1"
	r := mustSearch(t, a, sql(stmt).with("UseNewAnalysis", false))
	if len(r.AnalysisResults) != 1 || len(r.AnalysisRecords) != 0 {
		t.Fatalf("%d rows, %d records; want 1 row in the old format only", len(r.AnalysisResults), len(r.AnalysisRecords))
	}
	cells := map[string]string{}
	for _, it := range r.AnalysisResults[0].Data {
		cells[it.Key] = it.Value
	}
	if cells["name"] != "fn" {
		t.Errorf("name %q, want fn", cells["name"])
	}
	if _, err := time.Parse("2006-01-02 15:04:05.000", cells["started"]); err != nil {
		t.Errorf("started %q is not a bare timestamp: %v", cells["started"], err)
	}
	if strings.Contains(cells["mem"], `"`) || cells["mem"] == "" {
		t.Errorf("mem %q, want a bare number", cells["mem"])
	}
	if !slices.Equal(r.ColNames, []string{"name", "started", "mem"}) {
		t.Errorf("ColNames %v", r.ColNames)
	}
}
