package tencentsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/mudscf/mudscf/internal/tencentsim/cls"
	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// clsOrigin pins the synthetic executions so pages are reproducible while
// the clock (which the SDK's timestamps must match) stays real.
var clsOrigin = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func clsSim(t testing.TB, mutate func(*Config)) (*Simulator, *fakeClock, *common.Client) {
	t.Helper()
	s, clock := newSim(t, func(c *Config) {
		c.Origin = clsOrigin
		noRateLimit(c)
		if mutate != nil {
			mutate(c)
		}
	})
	_, host := startServer(t, s)
	return s, clock, newSDKClient(host, defaultSecretID, defaultSecretKey, "POST")
}

func topicOf(name string) string { return DefaultClsTopicID("ap-guangzhou", "default", name) }

func ms(t time.Time) int64 { return t.UnixMilli() }

// searchLog sends SearchLog through the official SDK's generic client, as
// a real client would, and decodes the answer.
func searchLog(ctx context.Context, client *common.Client, params map[string]any) (*cls.SearchLogResponse, []byte, error) {
	req := tchttp.NewCommonRequest(cls.Service, cls.Version, cls.ActionSearchLog)
	if err := req.SetActionParameters(params); err != nil {
		return nil, nil, err
	}
	req.SetContext(ctx)
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		return nil, nil, err
	}
	var env struct{ Response cls.SearchLogResponse }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
		return nil, nil, err
	}
	return &env.Response, resp.GetBody(), nil
}

func mustSearch(t testing.TB, client *common.Client, params map[string]any) *cls.SearchLogResponse {
	t.Helper()
	r, _, err := searchLog(context.Background(), client, params)
	if err != nil {
		t.Fatalf("SearchLog %v: %v", params, err)
	}
	return r
}

func sdkCode(err error) string {
	var e *tcerr.TencentCloudSDKError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func fields(t testing.TB, li cls.LogInfo) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(li.LogJson), &m); err != nil {
		t.Fatalf("LogJson %q: %v", li.LogJson, err)
	}
	return m
}

// golden compares got with testdata/name, RequestId and Context blanked
// (they are random and time-stamped).
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v map[string]map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	v["Response"]["RequestId"] = "<request-id>"
	if v["Response"]["Context"] != "" {
		v["Response"]["Context"] = "<context>"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, t.Name())
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func TestCLSGoldenRawPage(t *testing.T) {
	_, _, client := clsSim(t, nil)
	from := clsOrigin.Add(time.Hour)
	_, body, err := searchLog(context.Background(), client, map[string]any{
		"TopicId": topicOf("thumbnail-worker"), "From": ms(from), "To": ms(from.Add(20 * time.Second)),
		"Query": "*", "SyntaxRule": 1, "Sort": "asc", "Limit": 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "cls_searchlog_raw.json", body)
}

func TestCLSGoldenAnalysis(t *testing.T) {
	_, _, client := clsSim(t, nil)
	from := clsOrigin.Add(time.Hour)
	for _, newAnalysis := range []bool{true, false} {
		_, body, err := searchLog(context.Background(), client, map[string]any{
			"TopicId": topicOf("thumbnail-worker"), "From": ms(from), "To": ms(from.Add(time.Hour)),
			"QueryString": `SCF_Type:Platform AND SCF_Message:"Report RequestId" | select count(*) as total, ` +
				`count_if(SCF_StatusCode=200) as successful, avg(SCF_Duration) as avgDuration, ` +
				`max(SCF_StartTime) as lastRun, min(SCF_MemUsage), sum(SCF_RetryNum) as retries ` +
				`where SCF_FunctionName = 'thumbnail-worker' and SCF_Message like 'Report RequestId%'`,
			"UseNewAnalysis": newAnalysis,
		})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "cls_searchlog_analysis_new"+strconv.FormatBool(newAnalysis)+".json", body)
	}
}

// The answer carries exactly the keys of the SDKs' SearchLogResponse and
// LogInfo models (tencentcloud-sdk-go cls/v20201016 models.go).
func TestCLSWireKeysMatchSDKModel(t *testing.T) {
	_, _, client := clsSim(t, nil)
	_, body, err := searchLog(context.Background(), client, map[string]any{
		"TopicId": topicOf("APITest"), "From": ms(clsOrigin), "To": ms(clsOrigin.Add(time.Hour)), "QueryString": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Response map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	want := []string{"Analysis", "AnalysisRecords", "AnalysisResults", "ColNames", "Columns", "Context",
		"ListOver", "RequestId", "Results", "SamplingRate", "Topics"}
	if got := slices.Sorted(maps.Keys(env.Response)); !slices.Equal(got, want) {
		t.Fatalf("response keys %v, want %v", got, want)
	}
	var results []map[string]json.RawMessage
	if err := json.Unmarshal(env.Response["Results"], &results); err != nil || len(results) == 0 {
		t.Fatalf("Results %s: %v", env.Response["Results"], err)
	}
	wantLog := []string{"FileName", "HighLights", "HostName", "IndexStatus", "LogJson", "PkgId", "PkgLogId",
		"RawLog", "Source", "Time", "TopicId", "TopicName"}
	if got := slices.Sorted(maps.Keys(results[0])); !slices.Equal(got, wantLog) {
		t.Fatalf("LogInfo keys %v, want %v", got, wantLog)
	}
	// SCF's default format: the same 14 keys on every record.
	var lj string
	if err := json.Unmarshal(results[0]["LogJson"], &lj); err != nil {
		t.Fatal(err)
	}
	var rec map[string]string
	if err := json.Unmarshal([]byte(lj), &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec) != 14 {
		t.Fatalf("record has %d keys, want 14: %v", len(rec), rec)
	}
}

type execView struct {
	id       string
	durMs    float64
	status   int64
	retries  int64
	memBytes int64
	retMsg   string
}

// The CLS view and the GetFunctionLogs view of one window are the same
// executions: request IDs, durations, statuses, memory, retries, return
// values; and SQL stats over the CLS view equal the ground truth exactly.
func TestCLSEquivalentToGetFunctionLogs(t *testing.T) {
	s, clock, client := clsSim(t, nil)
	fn := "thumbnail-worker"
	from := clsOrigin.Add(3 * time.Hour)
	to := from.Add(90 * time.Second) // executions that start in [from, to]
	// GetFunctionLogs through the API, all of the window on one page.
	gfl := mustOK(t, call(t, s, clock, `{"FunctionName":"`+fn+`","Limit":100,"Order":"asc","StartTime":"`+
		from.In(s.loc).Format("2006-01-02 15:04:05")+`","EndTime":"`+to.In(s.loc).Format("2006-01-02 15:04:05")+`"}`))
	if len(gfl.Data) < 20 || int64(len(gfl.Data)) != gfl.TotalCount {
		t.Fatalf("GetFunctionLogs: %d of %d", len(gfl.Data), gfl.TotalCount)
	}
	var want []execView
	for _, d := range gfl.Data {
		status := d.RetCode
		if status == 0 {
			status = invocations.StatusSuccess
		}
		want = append(want, execView{id: d.RequestId, durMs: d.Duration, status: status, retries: d.RetryNum,
			memBytes: d.MemUsage, retMsg: d.RetMsg})
	}

	startCond := `SCF_FunctionName:"` + fn + `" AND SCF_StartTime>=` + strconv.FormatInt(ms(from), 10) +
		" AND SCF_StartTime<" + strconv.FormatInt(ms(to.Add(time.Second)), 10)
	params := func(q string) map[string]any {
		// Records are written up to a timeout after their start.
		return map[string]any{"TopicId": topicOf(fn), "From": ms(from), "To": ms(to.Add(time.Minute)),
			"QueryString": q, "Sort": "asc", "Limit": 1000}
	}
	reports := mustSearch(t, client, params(startCond+` AND SCF_Type:Platform AND SCF_Message:"Report RequestId" AND NOT SCF_Message:"Init Report"`))
	responses := mustSearch(t, client, params(startCond+` AND SCF_Message:"Response RequestId"`))
	if len(reports.Results) != len(want) || len(responses.Results) != len(want) {
		t.Fatalf("%d report and %d response lines for %d executions", len(reports.Results), len(responses.Results), len(want))
	}
	var got []execView
	for i, li := range reports.Results {
		f := fields(t, li)
		d, _ := strconv.ParseFloat(f["SCF_Duration"], 64)
		st, _ := strconv.ParseInt(f["SCF_StatusCode"], 10, 64)
		rn, _ := strconv.ParseInt(f["SCF_RetryNum"], 10, 64)
		mb, _ := strconv.ParseFloat(f["SCF_MemUsage"], 64)
		rf := fields(t, responses.Results[i])
		if rf["SCF_RequestId"] != f["SCF_RequestId"] {
			t.Fatalf("response line %d is for %s, report for %s", i, rf["SCF_RequestId"], f["SCF_RequestId"])
		}
		ret, ok := strings.CutPrefix(rf["SCF_Message"], "Response RequestId:"+f["SCF_RequestId"]+" RetMsg:")
		if !ok {
			t.Fatalf("response line %q", rf["SCF_Message"])
		}
		got = append(got, execView{id: f["SCF_RequestId"], durMs: d, status: st, retries: rn,
			memBytes: int64(mb * (1 << 20)), retMsg: ret})
	}
	// Reports come in end order; GetFunctionLogs in start order.
	slices.SortFunc(got, func(a, b execView) int { return strings.Compare(a.id, b.id) })
	slices.SortFunc(want, func(a, b execView) int { return strings.Compare(a.id, b.id) })
	if !slices.Equal(got, want) {
		t.Fatalf("CLS view differs from GetFunctionLogs:\n got %+v\nwant %+v", got, want)
	}

	// Stats in one SQL query, against the ground truth.
	truth := s.Executions("ap-guangzhou", "default", fn, from, to.Add(time.Second-1))
	var ok, sum int64
	var lastRun int64
	for _, e := range truth {
		if e.Log.RetCode == 0 {
			ok++
		}
		sum += int64(math.Round(e.Log.Duration * 1000))
		lastRun = max(lastRun, e.Start.UnixMilli())
	}
	st := mustSearch(t, client, map[string]any{"TopicId": topicOf(fn), "From": ms(from), "To": ms(to.Add(time.Minute)),
		"QueryString": startCond + ` AND SCF_Message:"Report RequestId" | select count(*) as total, count_if(SCF_StatusCode=200) as ok, ` +
			"sum(SCF_Duration) as dur, max(SCF_StartTime) as last where SCF_Message like 'Report RequestId%'", "UseNewAnalysis": true})
	if !st.Analysis || len(st.AnalysisRecords) != 1 {
		t.Fatalf("analysis answer %+v", st)
	}
	var row struct {
		Total, OK, Last int64
		Dur             float64
	}
	if err := json.Unmarshal([]byte(st.AnalysisRecords[0]), &row); err != nil {
		t.Fatal(err)
	}
	if row.Total != int64(len(truth)) || row.OK != ok || int64(math.Round(row.Dur*1000)) != sum || row.Last != lastRun {
		t.Fatalf("stats %+v, truth total=%d ok=%d sum(µs)=%d last=%d", row, len(truth), ok, sum, lastRun)
	}
}

// Paging with Context, in both orders, returns exactly the records of one
// big query; Offset reaches the same records; the Context chain stops at
// 10,000 logs.
func TestCLSContextPaging(t *testing.T) {
	_, _, client := clsSim(t, nil)
	from := clsOrigin.Add(5 * time.Hour)
	base := func(sort string, limit int) map[string]any {
		return map[string]any{"TopicId": topicOf("thumbnail-worker"), "From": ms(from), "To": ms(from.Add(5 * time.Minute)),
			"QueryString": `SCF_FunctionName:"thumbnail-worker" AND SCF_Type:Platform`, "Sort": sort, "Limit": limit}
	}
	for _, sort := range []string{"asc", "desc"} {
		big := mustSearch(t, client, base(sort, 1000))
		if !big.ListOver || len(big.Results) < 300 {
			t.Fatalf("%s: big page has %d records, ListOver %v", sort, len(big.Results), big.ListOver)
		}
		var paged []cls.LogInfo
		p := base(sort, 17)
		for pages := 0; ; pages++ {
			r := mustSearch(t, client, p)
			paged = append(paged, r.Results...)
			if r.ListOver {
				if r.Context != "" {
					t.Fatalf("%s: last page still has a Context", sort)
				}
				break
			}
			if r.Context == "" || pages > 1000 {
				t.Fatalf("%s: page %d: no Context before ListOver", sort, pages)
			}
			p["Context"] = r.Context
		}
		if !slices.EqualFunc(paged, big.Results, func(a, b cls.LogInfo) bool { return a.LogJson == b.LogJson && a.Time == b.Time }) {
			t.Fatalf("%s: %d paged records differ from the %d of one query", sort, len(paged), len(big.Results))
		}
		deep := base(sort, 50)
		deep["Offset"] = 250
		r := mustSearch(t, client, deep)
		if !slices.EqualFunc(r.Results, big.Results[250:300], func(a, b cls.LogInfo) bool { return a.LogJson == b.LogJson }) {
			t.Fatalf("%s: Offset 250 differs from the big query", sort)
		}
	}

	// A cursor belongs to its query and cannot be forged.
	first := mustSearch(t, client, base("asc", 10))
	for name, mutate := range map[string]func(p map[string]any){
		"other query": func(p map[string]any) { p["QueryString"] = "*" },
		"other limit": func(p map[string]any) { p["Limit"] = 11 },
		"forged":      func(p map[string]any) { p["Context"] = first.Context[:len(first.Context)-2] + "AA" },
		"garbage":     func(p map[string]any) { p["Context"] = "not-a-cursor" },
	} {
		p := base("asc", 10)
		p["Context"] = first.Context
		mutate(p)
		if _, _, err := searchLog(context.Background(), client, p); sdkCode(err) != "FailedOperation.InvalidContext" {
			t.Errorf("%s: %v, want FailedOperation.InvalidContext", name, err)
		}
	}

	// 10,000 raw logs at most through one Context chain.
	p := map[string]any{"TopicId": topicOf("thumbnail-worker"), "From": ms(from), "To": ms(from.Add(2 * time.Hour)),
		"QueryString": "*", "Sort": "asc", "Limit": 1000}
	total := 0
	for pages := 0; ; pages++ {
		r := mustSearch(t, client, p)
		total += len(r.Results)
		if r.Context == "" {
			if r.ListOver || total != cls.MaxContextLogs {
				t.Fatalf("chain ended after %d logs, ListOver %v; want %d and more left", total, r.ListOver, cls.MaxContextLogs)
			}
			break
		}
		p["Context"] = r.Context
	}
}

func TestCLSContextExpires(t *testing.T) {
	_, clock, client := clsSim(t, func(c *Config) { c.MaxClockSkew = 48 * time.Hour })
	p := map[string]any{"TopicId": topicOf("thumbnail-worker"), "From": ms(clsOrigin), "To": ms(clsOrigin.Add(time.Hour)),
		"QueryString": "*", "Limit": 10}
	r := mustSearch(t, client, p)
	p["Context"] = r.Context
	clock.Add(cls.ContextTTL - time.Second)
	mustSearch(t, client, p)
	clock.Add(2 * time.Second)
	if _, _, err := searchLog(context.Background(), client, p); sdkCode(err) != "FailedOperation.InvalidContext" {
		t.Fatalf("expired cursor: %v", err)
	}
}

// Slow queries on one topic: exactly as many run as the topic has slots
// free (15, less those other users hold), the next is
// LimitExceeded.LogSearch, another topic is unaffected, and the ground
// truth saw no more at once. A query is slow by an injected fault or by
// the latency model, which both hold the slot. The calls go through the
// SDK over in-memory connections inside a synctest bubble: once the
// bubble is idle every call has been decided, and the hour of latency
// passes on the bubble's clock only if the test lets it.
func TestCLSTopicConcurrencyLimit(t *testing.T) {
	for _, c := range []struct {
		name   string
		others int
		slow   func(*Config)
	}{
		{"fault latency", 0, func(c *Config) { c.Faults.Latency = time.Hour }},
		{"latency model", 0, func(c *Config) { c.CLS.Latency = CLSLatency{Fixed: time.Hour, PerRecord: time.Millisecond} }},
		{"5 slots held by other users", 5, func(c *Config) { c.Faults.Latency = time.Hour }},
	} {
		t.Run(c.name, func(t *testing.T) { concurrencyLimit(t, c.others, c.slow) })
	}
}

func concurrencyLimit(t *testing.T, others int, slow func(*Config)) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := newSim(t, func(c *Config) {
			c.Origin, c.Now = clsOrigin, time.Now // the bubble's clock, which the SDK stamps too
			c.CLS.TopicPerFunction = true
			c.CLS.OtherQueries = others
			slow(c)
		})
		client := newSDKClient("sim.test", defaultSecretID, defaultSecretKey, "POST")
		client.WithHttpTransport(servePipes(t, s))
		hot := FunctionClsTopicID("ap-guangzhou", "default", "thumbnail-worker")
		cold := FunctionClsTopicID("ap-guangzhou", "default", "APITest")
		params := func(topic string) map[string]any {
			return map[string]any{"TopicId": topic, "From": ms(clsOrigin), "To": ms(clsOrigin.Add(time.Minute)), "QueryString": "*"}
		}
		free := 15 - others
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, free+2)
		for i := range free + 2 {
			topic := hot
			if i == free+1 {
				topic = cold
			}
			wg.Go(func() {
				_, _, err := searchLog(ctx, client, params(topic))
				errs <- err
			})
		}
		// Every call has been decided: free+1 hold a slot for the hour,
		// one was refused.
		synctest.Wait()
		tr := s.Truth().SearchLog
		if tr.InFlightPerTopic[hot] != free || tr.InFlightPerTopic[cold] != 1 || tr.ConcurrencyLimited[defaultSecretID] != 1 ||
			tr.Accepted[defaultSecretID] != int64(free+1) {
			t.Fatalf("truth %+v", tr)
		}
		refused := <-errs
		if sdkCode(refused) != "LimitExceeded.LogSearch" {
			t.Fatalf("the refused call got %v", refused)
		}
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			// The admitted calls were still waiting out the latency.
			if !errors.Is(err, context.Canceled) {
				t.Errorf("an admitted call ended with %v, want it cancelled while running", err)
			}
		}
		// The server has noticed the cancelled calls once the bubble is
		// idle again.
		synctest.Wait()
		tr = s.Truth().SearchLog
		if len(tr.InFlightPerTopic) != 0 || tr.Accepted[defaultSecretID] != int64(free+1) || tr.MaxConcurrentPerTopic[hot] != free ||
			tr.MaxConcurrentPerTopic[cold] != 1 || tr.ConcurrencyLimited[defaultSecretID] != 1 {
			t.Fatalf("truth after the storm: %+v", tr)
		}
	})
}

func TestCLSRateLimit(t *testing.T) {
	s, clock, client := clsSim(t, func(c *Config) { c.CLS.RateLimit = 3 })
	frozen := clock.Now()
	clock.Set(frozen)
	p := map[string]any{"TopicId": topicOf("APITest"), "From": ms(clsOrigin), "To": ms(clsOrigin.Add(time.Hour)), "QueryString": "*"}
	for i := range 3 {
		if _, _, err := searchLog(context.Background(), client, p); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, _, err := searchLog(context.Background(), client, p); sdkCode(err) != "RequestLimitExceeded" {
		t.Fatalf("4th call in one second: %v", err)
	}
	clock.Set(frozen.Add(time.Second))
	if _, _, err := searchLog(context.Background(), client, p); err != nil {
		t.Fatalf("a second later: %v", err)
	}
	tr := s.Truth().SearchLog
	if tr.Accepted[defaultSecretID] != 4 || tr.RateLimited[defaultSecretID] != 1 {
		t.Fatalf("truth %+v", tr)
	}
	api := s.Truth().APIs[cls.ActionSearchLog]
	if api.Limit != 3 || api.MaxCallsInAnySlidingSecond[defaultSecretID] != 3 || api.TotalRejected[defaultSecretID] != 1 {
		t.Fatalf("APIs[SearchLog] %+v", api)
	}
}

// The credential scope's service picks the API; each API knows its own
// actions and version.
func TestCLSRouting(t *testing.T) {
	s, clock := newSim(t, noRateLimit)
	body := `{"TopicId":"` + topicOf("APITest") + `","From":0,"To":1}`
	cases := []struct {
		name, service, action, version, region, want string
	}{
		{"cls SearchLog", "cls", "SearchLog", cls.Version, "ap-guangzhou", ""},
		{"scf scope, cls action", "scf", "SearchLog", cls.Version, "ap-guangzhou", "InvalidAction"},
		{"cls scope, scf action", "cls", scf.ActionGetFunctionLogs, scf.Version, "ap-guangzhou", "InvalidAction"},
		{"cls, scf version", "cls", "SearchLog", scf.Version, "ap-guangzhou", "NoSuchVersion"},
		{"unknown service", "cvm", "SearchLog", cls.Version, "ap-guangzhou", "AuthFailure.SignatureFailure"},
		{"topic of another region", "cls", "SearchLog", cls.Version, "ap-shanghai", "ResourceNotFound.TopicNotExist"},
		{"unknown region", "cls", "SearchLog", cls.Version, "xx-nowhere", "InvalidParameterValue"},
	}
	for _, c := range cases {
		r := serve(t, s, apiRequest(t, clock, "POST", body, reqOpts{service: c.service,
			headers: map[string]string{"X-TC-Action": c.action, "X-TC-Version": c.version, "X-TC-Region": c.region}}))
		if errCode(r) != c.want {
			t.Errorf("%s: %q, want %q", c.name, errCode(r), c.want)
		}
	}
}

func TestCLSParameterErrors(t *testing.T) {
	_, _, client := clsSim(t, nil)
	ok := func() map[string]any {
		return map[string]any{"TopicId": topicOf("APITest"), "From": ms(clsOrigin), "To": ms(clsOrigin.Add(time.Hour)), "QueryString": "*"}
	}
	cases := []struct {
		name   string
		mutate func(map[string]any)
		want   string
	}{
		{"valid", func(map[string]any) {}, ""},
		{"no From", func(p map[string]any) { delete(p, "From") }, "MissingParameter"},
		{"no topic", func(p map[string]any) { delete(p, "TopicId") }, "InvalidParameter"},
		{"From after To", func(p map[string]any) { p["From"] = ms(clsOrigin.Add(2 * time.Hour)) }, "InvalidParameter"},
		{"Limit 1000", func(p map[string]any) { p["Limit"] = 1000 }, ""},
		{"Limit 1001", func(p map[string]any) { p["Limit"] = 1001 }, "InvalidParameter"},
		{"Limit 0", func(p map[string]any) { p["Limit"] = 0 }, "InvalidParameter"},
		{"bad Sort", func(p map[string]any) { p["Sort"] = "up" }, "InvalidParameter"},
		{"Context and Offset", func(p map[string]any) { p["Context"] = "x"; p["Offset"] = 1 }, "InvalidParameter"},
		{"unknown topic", func(p map[string]any) { p["TopicId"] = "00000000-0000-0000-0000-000000000000" }, "ResourceNotFound.TopicNotExist"},
		{"unknown parameter", func(p map[string]any) { p["Limitt"] = 1 }, "UnknownParameter"},
		{"type error", func(p map[string]any) { p["From"] = "yesterday" }, "InvalidParameter"},
		{"syntax rule 2", func(p map[string]any) { p["QuerySyntax"] = 2 }, "InvalidParameter"},
		{"CQL syntax error", func(p map[string]any) { p["QueryString"] = "SCF_Type:(" }, "FailedOperation.SyntaxError"},
		{"SQL syntax error", func(p map[string]any) { p["QueryString"] = "* | select count(* from" }, "FailedOperation.SyntaxError"},
		{"SQL unknown column", func(p map[string]any) { p["QueryString"] = "* | select max(nope)" }, "FailedOperation.QueryError"},
		{"Lucene accepted", func(p map[string]any) { delete(p, "QueryString"); p["Query"] = "SCF_StatusCode:200" }, ""},
		{"Topics", func(p map[string]any) {
			delete(p, "TopicId")
			p["Topics"] = []map[string]string{{"TopicId": topicOf("APITest")}}
		}, ""},
	}
	for _, c := range cases {
		p := ok()
		c.mutate(p)
		if _, _, err := searchLog(context.Background(), client, p); sdkCode(err) != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func describeIndex(ctx context.Context, client *common.Client, topic string) (*cls.DescribeIndexResponse, error) {
	req := tchttp.NewCommonRequest(cls.Service, cls.Version, cls.ActionDescribeIndex)
	if err := req.SetActionParameters(map[string]any{"TopicId": topic}); err != nil {
		return nil, err
	}
	req.SetContext(ctx)
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		return nil, err
	}
	var env struct{ Response cls.DescribeIndexResponse }
	return &env.Response, json.Unmarshal(resp.GetBody(), &env)
}

// DescribeIndex reports the SCF keys of a topic's index with their types
// and statistics; a topic the configuration names in CLS.NoStatistics has
// SqlFlag off, and then mudscf's SQL on it is FailedOperation.QueryError
// with Tencent's verification_exception text, never
// OperationDenied.AnalysisSwitchClose (listed for DescribeTopics only).
// DescribeIndex answers 20 calls a second.
func TestCLSDescribeIndexAndStatistics(t *testing.T) {
	noStats := FunctionClsTopicID("ap-guangzhou", "default", "APITest")
	s, clock, client := clsSim(t, func(c *Config) {
		c.Functions[0].ClsTopicID = noStats
		c.CLS.NoStatistics = []string{noStats}
	})
	frozen := clock.Now()
	clock.Set(frozen)
	for _, c := range []struct {
		topic string
		stats bool
	}{{topicOf("thumbnail-worker"), true}, {noStats, false}} {
		ix, err := describeIndex(context.Background(), client, c.topic)
		if err != nil {
			t.Fatal(err)
		}
		if ix.TopicId != c.topic || !ix.Status || ix.Rule == nil || ix.Rule.KeyValue == nil || len(ix.Rule.KeyValue.KeyValues) != 14 {
			t.Fatalf("%+v", ix)
		}
		for _, kv := range ix.Rule.KeyValue.KeyValues {
			if kv.Value.SqlFlag != c.stats {
				t.Errorf("%s: %+v", c.topic, kv)
			}
		}
	}
	q := map[string]any{"TopicId": noStats, "From": ms(clsOrigin), "To": ms(clsOrigin.Add(time.Hour)), "UseNewAnalysis": true,
		"QueryString": `SCF_Message:"Report RequestId" | SELECT count(*) AS total WHERE SCF_FunctionName = 'APITest'`}
	_, _, err := searchLog(context.Background(), client, q)
	var e *tcerr.TencentCloudSDKError
	if !errors.As(err, &e) || e.Code != "FailedOperation.QueryError" || !strings.Contains(e.Message, "verification_exception") {
		t.Errorf("SQL without statistics: %v", err)
	}
	q["TopicId"] = topicOf("thumbnail-worker")
	mustSearch(t, client, q)

	if _, err := describeIndex(context.Background(), client, "no-such-topic"); sdkCode(err) != "ResourceNotFound.TopicNotExist" {
		t.Errorf("unknown topic: %v", err)
	}
	// 20 a second: three calls went by, 17 more pass, the 21st does not.
	for i := range 17 {
		if _, err := describeIndex(context.Background(), client, noStats); err != nil {
			t.Fatalf("call %d: %v", i+4, err)
		}
	}
	if _, err := describeIndex(context.Background(), client, noStats); sdkCode(err) != "RequestLimitExceeded" {
		t.Fatalf("the 21st call in a second: %v", err)
	}
	clock.Set(frozen.Add(time.Second))
	if _, err := describeIndex(context.Background(), client, noStats); err != nil {
		t.Fatalf("a second later: %v", err)
	}
	if api := s.Truth().APIs[cls.ActionDescribeIndex]; api.Limit != 20 || api.TotalRejected[defaultSecretID] != 1 {
		t.Errorf("truth %+v", api)
	}
}

// SCF's default delivery: GetFunction reports the region's one topic and
// logset for every function, and the topic holds the logs of two
// functions of the same name in two namespaces; with TopicPerFunction
// each function has its own.
func TestCLSTopicsAsDelivered(t *testing.T) {
	for _, perFunction := range []bool{false, true} {
		s, clock, client := clsSim(t, func(c *Config) {
			c.CLS.TopicPerFunction = perFunction
			c.Functions = append(c.Functions, Function{Name: "APITest", Namespace: "team", RatePerSecond: 0.1})
		})
		topics := map[string]string{}
		for _, ns := range []string{"default", "team"} {
			var d scf.FunctionDetail
			if e := callAction(t, s, clock, "POST", scf.ActionGetFunction, `{"FunctionName":"APITest","Namespace":"`+ns+`"}`, &d); e != nil {
				t.Fatal(e)
			}
			if d.ClsLogsetId != DefaultClsLogsetID("ap-guangzhou") {
				t.Errorf("logset %q", d.ClsLogsetId)
			}
			topics[ns] = d.ClsTopicId
		}
		want := map[string]string{"default": topicOf("APITest"), "team": topicOf("APITest")}
		if perFunction {
			want = map[string]string{"default": FunctionClsTopicID("ap-guangzhou", "default", "APITest"),
				"team": FunctionClsTopicID("ap-guangzhou", "team", "APITest")}
		}
		if !maps.Equal(topics, want) {
			t.Fatalf("per function %v: topics %v, want %v", perFunction, topics, want)
		}
		r := mustSearch(t, client, map[string]any{"TopicId": topics["default"], "From": ms(clsOrigin), "To": ms(clsOrigin.Add(time.Hour)),
			"QueryString":    `SCF_FunctionName:"APITest" | SELECT SCF_Namespace, count(*) AS n GROUP BY SCF_Namespace ORDER BY SCF_Namespace`,
			"UseNewAnalysis": true})
		if n := len(r.AnalysisRecords); n != map[bool]int{false: 2, true: 1}[perFunction] {
			t.Errorf("per function %v: namespaces in the topic %v", perFunction, r.AnalysisRecords)
		}
	}
}
