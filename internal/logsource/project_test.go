package logsource

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/cls"
)

// A project page over a topic several functions share holds the report
// line of every execution of the project's namespace that started in the
// window, exactly once, in the order of starts then request IDs, at one
// upstream call per page; a function of the same name in another
// namespace of the topic is not the project's.
func TestProjectPageIsTheNamespacesExecutions(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		const topic = "topic-shared"
		env := startSim(t, nil,
			tencentsim.Function{Name: "orders", RatePerSecond: 0.5, FailureRatio: 0.3, ClsTopicID: topic},
			tencentsim.Function{Name: "mailer", RatePerSecond: 0.2, ClsTopicID: topic, Qualifiers: []string{"$LATEST", "2"}},
			tencentsim.Function{Name: "orders", Namespace: "staging", RatePerSecond: 1, ClsTopicID: topic},
		)
		caller := env.caller(t, 5)
		src := NewCLS(caller, NewTopics(caller, nil)).(ProjectSource)
		until := time.Now().Add(-time.Minute).Truncate(time.Second)
		since := until.Add(-30 * time.Minute)
		var truth []tencentsim.Execution
		for _, name := range []string{"orders", "mailer"} {
			truth = append(truth, env.Executions("ap-guangzhou", "default", name, since, until.Add(time.Second-1))...)
		}
		slices.SortFunc(truth, func(a, b tencentsim.Execution) int {
			if c := b.Start.Compare(a.Start); c != 0 {
				return c
			}
			return -compareStrings(a.Log.RequestId, b.Log.RequestId)
		})
		if len(truth) < 500 {
			t.Fatalf("%d executions in the window; the test needs more than a page", len(truth))
		}
		for _, names := range [][]string{nil, {"orders", "mailer"}} {
			target := cls.ProjectTarget{TopicID: topic, Namespace: "default", Names: names, MaxDuration: time.Hour}
			var got []cls.ProjectReport
			before := caller.searches.Load()
			pages := 0
			for offset := int64(0); ; offset += 200 {
				page, err := src.ProjectPage(context.Background(), target, translate.Query{Limit: 200, Offset: offset, Order: translate.OrderDesc, Since: since, Until: until})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				got = append(got, page...)
				if len(page) < 200 {
					break
				}
			}
			if calls := caller.searches.Load() - before; calls != int64(pages) {
				t.Errorf("%d pages cost %d calls, want one each", pages, calls)
			}
			if len(got) != len(truth) {
				t.Fatalf("names %v: %d report lines, the simulator has %d executions", names, len(got), len(truth))
			}
			for i, x := range truth {
				r := got[i]
				if r.RequestID != x.Log.RequestId || r.FunctionName != x.Log.FunctionName || r.StartMs != x.Start.UnixMilli() || r.Qualifier != x.Qualifier {
					t.Fatalf("line %d: %+v, want %s of %s at %s (%s)", i, r, x.Log.RequestId, x.Log.FunctionName, x.Start, x.Qualifier)
				}
			}
		}
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
