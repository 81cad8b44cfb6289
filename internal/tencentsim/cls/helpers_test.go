package cls

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// testOrigin pins the synthetic requests; testNow is the clock, well
// after every window the tests search.
var (
	testOrigin = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	testNow    = testOrigin.Add(48 * time.Hour)
)

const (
	testRegion = "ap-guangzhou"
	// otherTopic holds one function of its own; noStatsTopic has an index
	// without statistics.
	otherTopic   = "11111111-2222-4333-8444-555555555555"
	noStatsTopic = "99999999-2222-4333-8444-555555555555"
)

// sharedTopic is the region's topic, which holds the test functions of
// SCF's default delivery: fn in two namespaces and a web function.
var sharedTopic = invocations.RegionClsTopicID(testRegion)

func testFunctions() []invocations.Function {
	return []invocations.Function{
		{Name: "fn", RatePerSecond: 0.5, FailureRatio: 0.3, Qualifiers: []string{"$LATEST", "2"}},
		{Name: "fn", Namespace: "other", RatePerSecond: 0.2},
		{Name: "web", Type: invocations.TypeWeb, RatePerSecond: 0.2, FailureRatio: 0.2},
		{Name: "lonely", ClsTopicID: otherTopic, RatePerSecond: 0.1},
		{Name: "nostats", ClsTopicID: noStatsTopic, RatePerSecond: 0.1},
	}
}

// testAPI serves the test functions.
func testAPI(t testing.TB) *API {
	t.Helper()
	var fns []*invocations.Model
	for _, f := range testFunctions() {
		f = f.WithDefaults()
		if f.ClsTopicID == "" {
			f.ClsTopicID = sharedTopic
		}
		fns = append(fns, invocations.NewModel(f, 1, testOrigin))
	}
	return New(fns, Config{Seed: 1, Now: func() time.Time { return testNow }, IndexCreated: testOrigin,
		NoStatistics: map[string]bool{noStatsTopic: true}})
}

// call is a SearchLog call's parameters.
type call map[string]any

func ms(t time.Time) int64 { return t.UnixMilli() }

// window10 is the window most tests search: ten minutes an hour in.
var (
	winFrom = testOrigin.Add(time.Hour)
	winTo   = winFrom.Add(10 * time.Minute)
)

func cqlCall(q string) call {
	return call{"TopicId": sharedTopic, "From": ms(winFrom), "To": ms(winTo), "QueryString": q}
}

func luceneCall(q string) call {
	return call{"TopicId": sharedTopic, "From": ms(winFrom), "To": ms(winTo), "Query": q, "SyntaxRule": 0}
}

func (c call) with(kv ...any) call {
	out := call{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// search plans and runs c as a POSTed JSON call, as the server does.
func search(t testing.TB, a *API, c call) (*SearchLogResponse, *tcapi.Error) {
	t.Helper()
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	q, e := a.Plan(r, body, testRegion)
	if e != nil {
		return nil, e
	}
	resp, _, e := a.Search(q)
	return resp, e
}

func mustSearch(t testing.TB, a *API, c call) *SearchLogResponse {
	t.Helper()
	resp, e := search(t, a, c)
	if e != nil {
		t.Fatalf("%v: %s %s", c, e.Code, e.Message)
	}
	return resp
}

// rows decodes AnalysisRecords.
func rows(t testing.TB, r *SearchLogResponse) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range r.AnalysisRecords {
		dec := json.NewDecoder(bytes.NewReader([]byte(rec)))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("record %s: %v", rec, err)
		}
		out = append(out, m)
	}
	return out
}

// logKeys decodes each result's LogJson.
func logKeys(t testing.TB, r *SearchLogResponse) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, li := range r.Results {
		var m map[string]string
		if err := json.Unmarshal([]byte(li.LogJson), &m); err != nil {
			t.Fatalf("LogJson %s: %v", li.LogJson, err)
		}
		out = append(out, m)
	}
	return out
}

// planParams decodes c as the server decodes a JSON body.
func planParams(t testing.TB, c call) *searchLogParams {
	t.Helper()
	body, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	p := &searchLogParams{}
	if err := json.Unmarshal(body, p); err != nil {
		t.Fatal(err)
	}
	return p
}
