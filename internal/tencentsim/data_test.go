package tencentsim

import (
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

// upstreamWindow renders StartTime/EndTime the way a client would send
// them: second precision, in the upstream zone.
func upstreamWindow(s *Simulator, from, to time.Time) string {
	return fmt.Sprintf(`"StartTime":%q,"EndTime":%q`,
		from.In(s.loc).Format(scf.TimeLayout), to.In(s.loc).Format(scf.TimeLayout))
}

// lastHours is the window of the n hours before now, at second precision.
func lastHours(clock *fakeClock, n int) (time.Time, time.Time) {
	return last(clock, time.Duration(n)*time.Hour)
}

func last(clock *fakeClock, d time.Duration) (time.Time, time.Time) {
	end := clock.Now().Truncate(time.Second)
	return end.Add(-d), end
}

func TestDeterminism(t *testing.T) {
	clock := newFakeClock()
	mk := func(seed int64) *Simulator {
		cfg := DefaultConfig()
		cfg.Now = clock.Now
		cfg.Seed = seed
		noRateLimit(&cfg)
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, other := mk(7), mk(7), mk(8)
	for _, body := range []string{`{}`, `{"OrderBy":"duration","Limit":50,"Offset":20}`, `{"Filter":{"RetCode":"not0"},"Limit":30}`} {
		ra, rb, ro := mustOK(t, call(t, a, clock, body)), mustOK(t, call(t, b, clock, body)), mustOK(t, call(t, other, clock, body))
		if ra.TotalCount != rb.TotalCount || !reflect.DeepEqual(ra.Data, rb.Data) {
			t.Fatalf("%s: same config, different pages", body)
		}
		if reflect.DeepEqual(ra.Data, ro.Data) {
			t.Fatalf("%s: the seed changes nothing", body)
		}
	}
}

func TestFiltersAndGroundTruth(t *testing.T) {
	s, clock := newSim(t, noRateLimit)
	from, to := lastHours(clock, 6)
	win := upstreamWindow(s, from, to)
	for _, fn := range []string{"APITest", "orders-webhook", "thumbnail-worker", ""} {
		t.Run("function="+fn, func(t *testing.T) {
			name := ""
			if fn != "" {
				name = fmt.Sprintf(`"FunctionName":%q,`, fn)
			}
			all := mustOK(t, call(t, s, clock, `{`+name+win+`,"Limit":0}`))
			ok := mustOK(t, call(t, s, clock, `{`+name+win+`,"Limit":0,"Filter":{"RetCode":"is0"}}`))
			bad := mustOK(t, call(t, s, clock, `{`+name+win+`,"Limit":0,"Filter":{"RetCode":"not0"}}`))
			if all.TotalCount == 0 || ok.TotalCount+bad.TotalCount != all.TotalCount {
				t.Fatalf("is0 %d + not0 %d != all %d", ok.TotalCount, bad.TotalCount, all.TotalCount)
			}
			// EndTime covers its whole second.
			truth := s.Executions("ap-guangzhou", "default", fn, from, to.Add(time.Second-1))
			if int64(len(truth)) != all.TotalCount {
				t.Fatalf("API TotalCount %d, ground truth %d", all.TotalCount, len(truth))
			}
			var failed int64
			for _, e := range truth {
				if e.Log.RetCode != 0 {
					failed++
				}
			}
			if failed != bad.TotalCount {
				t.Fatalf("not0 %d, ground truth %d", bad.TotalCount, failed)
			}
		})
	}
}

func TestQualifierAndRequestID(t *testing.T) {
	s, clock := newSim(t, noRateLimit)
	from, to := lastHours(clock, 6)
	win := upstreamWindow(s, from, to)
	truth := s.Executions("ap-guangzhou", "default", "orders-webhook", from, to.Add(time.Second-1))
	perQ := map[string]int64{}
	for _, e := range truth {
		perQ[e.Qualifier]++
	}
	if len(perQ) != 3 {
		t.Fatalf("executions not spread over the 3 qualifiers: %v", perQ)
	}
	for q, n := range perQ {
		got := mustOK(t, call(t, s, clock, fmt.Sprintf(`{"FunctionName":"orders-webhook",%s,"Qualifier":%q,"Limit":0}`, win, q)))
		if got.TotalCount != n {
			t.Fatalf("qualifier %s: %d, ground truth %d", q, got.TotalCount, n)
		}
	}
	if got := mustOK(t, call(t, s, clock, `{"FunctionName":"orders-webhook",`+win+`,"Qualifier":"9"}`)); got.TotalCount != 0 {
		t.Fatalf("unknown qualifier matched %d", got.TotalCount)
	}

	want := truth[len(truth)/2].Log
	for _, id := range []string{want.RequestId, strings.ToUpper(want.RequestId)} {
		got := mustOK(t, call(t, s, clock, fmt.Sprintf(`{"FunctionName":"orders-webhook",%s,"FunctionRequestId":%q}`, win, id)))
		if got.TotalCount != 1 || !reflect.DeepEqual(got.Data[0], want) {
			t.Fatalf("FunctionRequestId %s: %+v", id, got)
		}
	}
	if got := mustOK(t, call(t, s, clock, `{"FunctionRequestId":"not-an-id"}`)); got.TotalCount != 0 {
		t.Fatalf("garbage request id matched %d", got.TotalCount)
	}
}

// Pages of any size, in any order, must tile the full ordered list, and
// desc must be the exact reverse of asc.
func TestSortingAndPaging(t *testing.T) {
	s, clock := newSim(t, noRateLimit)
	from, to := last(clock, 10*time.Minute)
	win := upstreamWindow(s, from, to)
	fetch := func(orderBy, order string, offset, limit int64) apiResult {
		return mustOK(t, call(t, s, clock, fmt.Sprintf(`{%s,"OrderBy":%q,"Order":%q,"Offset":%d,"Limit":%d}`,
			win, orderBy, order, offset, limit)))
	}
	keys := map[string]func(scf.FunctionLog) string{
		scf.OrderByStartTime:    func(l scf.FunctionLog) string { return l.StartTime },
		scf.OrderByFunctionName: func(l scf.FunctionLog) string { return l.FunctionName },
		scf.OrderByDuration:     func(l scf.FunctionLog) string { return fmt.Sprintf("%020.3f", l.Duration) },
		scf.OrderByMemUsage:     func(l scf.FunctionLog) string { return fmt.Sprintf("%020d", l.MemUsage) },
	}
	for orderBy, key := range keys {
		t.Run(orderBy, func(t *testing.T) {
			asc := fetch(orderBy, "asc", 0, 10000)
			desc := fetch(orderBy, "desc", 0, 10000)
			n := int(asc.TotalCount)
			if n < 300 || len(asc.Data) != n || len(desc.Data) != n {
				t.Fatalf("rows %d/%d of %d", len(asc.Data), len(desc.Data), n)
			}
			if orderBy == scf.OrderByStartTime {
				truth := s.Executions("ap-guangzhou", "default", "", from, to.Add(time.Second-1))
				if len(truth) != n {
					t.Fatalf("%d rows, ground truth %d", n, len(truth))
				}
				for i := range truth {
					if truth[i].Log.RequestId != asc.Data[i].RequestId {
						t.Fatalf("row %d differs from the ground truth", i)
					}
				}
			}
			for i := range asc.Data {
				if i > 0 && key(asc.Data[i]) < key(asc.Data[i-1]) {
					t.Fatalf("asc row %d out of order", i)
				}
				if asc.Data[i].RequestId != desc.Data[n-1-i].RequestId {
					t.Fatalf("desc is not the reverse of asc at %d", i)
				}
			}
			for _, size := range []int64{1, 7, 100} {
				var tiled []scf.FunctionLog
				for off := int64(0); off < int64(n) && off < 20*size; off += size {
					p := fetch(orderBy, "asc", off, size)
					if p.TotalCount != int64(n) {
						t.Fatalf("TotalCount changes with paging: %d", p.TotalCount)
					}
					tiled = append(tiled, p.Data...)
				}
				if !reflect.DeepEqual(tiled, asc.Data[:len(tiled)]) {
					t.Fatalf("pages of %d do not tile the list", size)
				}
			}
			if tail := fetch(orderBy, "asc", int64(n-3), 10); !reflect.DeepEqual(tail.Data, asc.Data[n-3:]) {
				t.Fatalf("last page: %d rows", len(tail.Data))
			}
			if past := fetch(orderBy, "asc", int64(n+5), 10); len(past.Data) != 0 || past.Data == nil {
				t.Fatalf("offset past the end: %v", past.Data)
			}
		})
	}
}

// Every row must look like one Tencent would return, and the outcome mix
// must follow the configuration.
func TestRowShape(t *testing.T) {
	s, clock := newSim(t, noRateLimit)
	now := clock.Now()
	truth := s.Executions("ap-guangzhou", "default", "thumbnail-worker", now.Add(-3*time.Hour), now)
	if len(truth) < 5000 {
		t.Fatalf("%d executions in 3 h at 0.5/s", len(truth))
	}
	const memBytes = 512 << 20
	var failed, timeouts int
	for _, e := range truth {
		l := e.Log
		if e.Start.Add(time.Duration(l.Duration * float64(time.Millisecond))).After(now.Add(time.Millisecond)) {
			t.Fatalf("unfinished execution visible: %+v", l)
		}
		if l.StartTime != e.Start.In(s.loc).Format(scf.TimeLayout) {
			t.Fatalf("StartTime %s vs %s", l.StartTime, e.Start)
		}
		if l.FunctionName != "thumbnail-worker" || l.InvokeFinished != 1 || l.Level != "" || l.Source != "" {
			t.Fatalf("fields: %+v", l)
		}
		if l.Duration <= 0 || l.Duration > 15000 || l.Duration != math.Round(l.Duration*1000)/1000 {
			t.Fatalf("Duration %v", l.Duration)
		}
		// Rounded up to the next 100 ms (a timeout bills its whole timeout).
		if l.BillDuration%100 != 0 || float64(l.BillDuration) < l.Duration || float64(l.BillDuration) >= l.Duration+100 {
			t.Fatalf("BillDuration %d for Duration %v", l.BillDuration, l.Duration)
		}
		if l.MemUsage <= 0 || l.MemUsage > memBytes || l.MemUsage%4096 != 0 {
			t.Fatalf("MemUsage %d", l.MemUsage)
		}
		if !strings.HasPrefix(l.Log, "START RequestId: "+l.RequestId+"\n") ||
			!strings.Contains(l.Log, "\nEND RequestId: "+l.RequestId+"\nReport RequestId: "+l.RequestId+" Duration:") {
			t.Fatalf("Log:\n%s", l.Log)
		}
		if _, ok := invocations.ParseID(l.RequestId); !ok {
			t.Fatalf("RequestId %q", l.RequestId)
		}
		switch l.RetCode {
		case 0:
			if l.RetryNum != 0 {
				t.Fatalf("retried success: %+v", l)
			}
		case invocations.RetCodeTimeout:
			timeouts++
			failed++
			if l.Duration != 15000 || l.BillDuration != 15000 || l.RetMsg != "Invoking task timed out after 15 seconds" {
				t.Fatalf("timeout row: %+v", l)
			}
		case invocations.RetCodeMemory:
			failed++
			if l.MemUsage != memBytes {
				t.Fatalf("memory row: %+v", l)
			}
		case invocations.RetCodeUserError:
			failed++
			if !strings.HasPrefix(l.RetMsg, `{"errorCode":-1,`) {
				t.Fatalf("user error RetMsg %s", l.RetMsg)
			}
		default:
			t.Fatalf("RetCode %d", l.RetCode)
		}
	}
	ratio := float64(failed) / float64(len(truth))
	if ratio < 0.09 || ratio > 0.15 || timeouts == 0 {
		t.Fatalf("failure ratio %.3f (configured 0.12), %d timeouts", ratio, timeouts)
	}
	ids := make([]string, len(truth))
	for i, e := range truth {
		ids[i] = e.Log.RequestId
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(truth) {
		t.Fatal("duplicate RequestIds")
	}
}

// An execution appears only once it has finished, and the spacing follows
// RatePerSecond exactly.
func TestVisibilityAndSpacing(t *testing.T) {
	s, clock := newSim(t, func(c *Config) {
		// A quarter of all executions time out after a minute, so the last
		// minute certainly holds unfinished ones.
		c.Functions = []Function{{Name: "slow", RatePerSecond: 1, TimeoutMs: 60000, FailureRatio: 1}}
	})
	now := clock.Now()
	from := now.Add(-5 * time.Minute)
	before := s.Executions("", "", "", from, now)
	clock.Add(61 * time.Second)
	after := s.Executions("", "", "", from, now)
	var running int
	for i, e := range after {
		if i > 0 && e.Start.Sub(after[i-1].Start) != time.Second {
			t.Fatalf("spacing %v", e.Start.Sub(after[i-1].Start))
		}
		if e.Start.Add(time.Duration(e.Log.Duration * float64(time.Millisecond))).After(now) {
			running++
		}
	}
	if running == 0 || len(before) != len(after)-running {
		t.Fatalf("%d visible before, %d after, %d were running", len(before), len(after), running)
	}
	// Nothing before Origin.
	origin := now.Add(-7 * 24 * time.Hour).Truncate(time.Hour)
	if got := s.Executions("", "", "", origin.Add(-time.Hour), origin.Add(-time.Nanosecond)); len(got) != 0 {
		t.Fatalf("%d executions before Origin", len(got))
	}
	if got := s.Executions("", "", "", origin, origin.Add(time.Second)); len(got) != 1 {
		t.Fatalf("%d executions in the first second", len(got))
	}
}

// The SDK's GET flattening and the JSON body must select the same rows.
func TestGetMatchesPost(t *testing.T) {
	s, clock := newSim(t, noRateLimit)
	from, to := lastHours(clock, 2)
	q := fmt.Sprintf("EndTime=%s&Filter.RetCode=not0&Limit=20&OrderBy=mem_usage&StartTime=%s",
		strings.ReplaceAll(to.In(s.loc).Format(scf.TimeLayout), " ", "+"),
		strings.ReplaceAll(from.In(s.loc).Format(scf.TimeLayout), " ", "+"))
	get := mustOK(t, serve(t, s, apiRequest(t, clock, http.MethodGet, q, reqOpts{})))
	post := mustOK(t, call(t, s, clock, `{`+upstreamWindow(s, from, to)+`,"Filter":{"RetCode":"not0"},"Limit":20,"OrderBy":"mem_usage"}`))
	if get.TotalCount == 0 || get.TotalCount != post.TotalCount || !reflect.DeepEqual(get.Data, post.Data) {
		t.Fatalf("GET %d rows / POST %d rows differ", get.TotalCount, post.TotalCount)
	}
}

// A function with Until stops: nothing starts after it, so the ground
// truth stops moving.
func TestFunctionUntilStopsExecutions(t *testing.T) {
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := origin.Add(time.Minute)
	now := origin.Add(time.Hour)
	cfg := DefaultConfig()
	cfg.Origin = origin
	cfg.Now = func() time.Time { return now }
	cfg.Functions = []Function{{Name: "stops", RatePerSecond: 1, Until: until}, {Name: "goes-on", RatePerSecond: 1}}
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stops := sim.Executions("ap-guangzhou", "default", "stops", origin, now)
	if n := len(stops); n < 59 || n > 61 {
		t.Errorf("a 1/s function stopping after a minute made %d executions", n)
	}
	for _, e := range stops {
		if e.Start.After(until) {
			t.Fatalf("an execution started at %s, after Until %s", e.Start, until)
		}
	}
	if n := len(sim.Executions("ap-guangzhou", "default", "goes-on", origin, now)); n < 3500 {
		t.Errorf("the other function made only %d executions in an hour", n)
	}
}
