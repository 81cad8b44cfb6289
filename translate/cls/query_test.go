package cls

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/translate"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	since  = time.Date(2024, 1, 15, 9, 30, 0, 0, time.UTC)
	until  = since.Add(time.Hour)
	target = Target{Target: translate.Target{FunctionName: "APITest", Namespace: "default"}, TopicID: "topic-1", MaxDuration: 900 * time.Second}
)

// Every query form mudscf sends, as exact SearchLog parameters: the golden
// file is the list docs/cls-queries.md documents form by form.
func TestGoldenQueries(t *testing.T) {
	base := translate.Query{Limit: 20, Order: translate.OrderDesc, Since: since, Until: until}
	with := func(f func(q *translate.Query)) translate.Query { q := base; f(&q); return q }
	type golden struct {
		Name    string
		Request SearchLogRequest
	}
	var got []golden
	add := func(name string, r SearchLogRequest) { got = append(got, golden{name, r}) }
	add("count", CountRequest(base, target))
	add("count, failed, one request ID, a qualifier", CountRequest(with(func(q *translate.Query) {
		q.Status, q.RequestID, q.Qualifier = translate.StatusFailed, "bc309eaa-6d64-11e8-a7fe-5254000b4175", "prod"
	}), target))
	add("page, newest first", PageRequest(base, target))
	add("page, oldest first, offset, successes", PageRequest(with(func(q *translate.Query) {
		q.Order, q.Offset, q.Limit, q.Status = translate.OrderAsc, 40, 10, translate.StatusSuccess
	}), target))
	add("stats", StatsRequest(base, target))
	first, last := since.Add(time.Minute).UnixMilli(), since.Add(2*time.Minute).UnixMilli()
	ids := []string{"bc309eaa-6d64-11e8-a7fe-5254000b4175", "c1"}
	add("response lines", LinesRequests(base, target, ids, first, last, false)[0])
	add("log lines", LinesRequests(base, target, ids, first, last, true)[0])
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	path := filepath.Join("testdata", "queries.golden.json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./translate/cls -update creates it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("the queries differ from %s:\n%s", path, b)
	}
}

// Forms Tencent does not document are never sent: MySQL's "LIMIT o, n",
// the Lucene-only colon range, GROUP BY of the page's raw columns, camel
// case aliases; every statement fits in 12,000 bytes.
func TestQueriesUseOnlyDocumentedForms(t *testing.T) {
	q := translate.Query{Limit: 100, Offset: 9900, Order: translate.OrderAsc, Status: translate.StatusFailed,
		RequestID: "x", Qualifier: "$LATEST", Since: since, Until: until}
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = strings.Repeat("f", 30) + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
	}
	reqs := append([]SearchLogRequest{CountRequest(q, target), PageRequest(q, target), StatsRequest(q, target)},
		LinesRequests(q, target, ids, since.UnixMilli(), until.UnixMilli(), true)...)
	reqs = append(reqs, LinesRequests(q, target, ids, since.UnixMilli(), until.UnixMilli(), false)...)
	for _, r := range reqs {
		for _, bad := range []string{":>", ":<", "GROUP BY", "avgDuration", "lastStart", "LIMIT 9900,"} {
			if strings.Contains(r.Query, bad) {
				t.Errorf("%q in %s", bad, r.Query)
			}
		}
		if len(r.Query) > maxQueryBytes {
			t.Errorf("a statement of %d bytes: %.80s...", len(r.Query), r.Query)
		}
		if r.SyntaxRule != SyntaxCQL || r.From >= r.To {
			t.Errorf("request %+v", r)
		}
	}
	if n := len(LinesRequests(q, target, ids, 0, 1, false)); n < 4 || n > 6 {
		t.Errorf("1000 request IDs in %d calls; a call takes as many as fit in 12,000 bytes (about 200)", n)
	}
	if !strings.Contains(PageRequest(q, target).Query, " OFFSET 9900 LIMIT 100") {
		t.Errorf("page: %s", PageRequest(q, target).Query)
	}
	if q.Offset = 0; !strings.HasSuffix(PageRequest(q, target).Query, " LIMIT 100") || strings.Contains(PageRequest(q, target).Query, "OFFSET") {
		t.Errorf("first page: %s", PageRequest(q, target).Query)
	}
}

// Response and log lines cover only the page's own span of starts, plus
// the time its last invocation may have gone on writing.
func TestLinesCoverThePageSpan(t *testing.T) {
	first, last := since.Add(10*time.Minute).UnixMilli(), since.Add(11*time.Minute).UnixMilli()
	for _, withLog := range []bool{false, true} {
		r := LinesRequests(translate.Query{Since: since, Until: until}, target, []string{"a"}, first, last, withLog)[0]
		if r.From != first || r.To != last+1+target.MaxDuration.Milliseconds() {
			t.Errorf("withLog %v: [%d, %d), want [%d, %d)", withLog, r.From, r.To, first, last+1+target.MaxDuration.Milliseconds())
		}
	}
}
