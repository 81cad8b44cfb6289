package upstream

import (
	"context"
	"errors"
	"maps"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mudscf/mudscf/internal/upstream/budget"
)

// Drained, the accounts send nothing more: a call waiting for a slot is
// refused with budget.ErrDraining (the Draining outcome, which no breaker
// counts), and so is every later call, on a budget made before the drain
// or after; the call already sent completes.
func TestDrainSendsNothingMore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := &fakeTencent{latency: time.Second}
		a := testAccounts(t, fake, BreakerConfig{Failures: 1, OpenFor: time.Minute}, prometheus.NewRegistry())
		c := testCallerOf(t, a, "p1")
		sent := make(chan error, 1)
		go func() { sent <- call(c.Call(context.Background(), testSearch, "topic-1", struct{}{})) }()
		waiting := make(chan error, 1)
		synctest.Wait() // the first call is out, holding the topic's one slot
		go func() { waiting <- call(c.Call(context.Background(), testSearch, "topic-1", struct{}{})) }()
		synctest.Wait() // the second waits for it
		a.Drain()
		if err := <-waiting; !errors.Is(err, budget.ErrDraining) || Classify(err) != Draining {
			t.Errorf("the waiting call got %v (%v), want ErrDraining", err, Classify(err))
		}
		if err := <-sent; err != nil {
			t.Errorf("the call sent before the drain: %v", err)
		}
		for _, topic := range []string{"topic-1", "topic-new"} {
			// A breaker that counted the refusals (one failure opens it)
			// would answer BreakerOpen.
			if err := call(c.Call(context.Background(), testSearch, topic, struct{}{})); !errors.Is(err, budget.ErrDraining) {
				t.Errorf("a call on %s after the drain got %v, want ErrDraining", topic, err)
			}
		}
		if n := fake.calls.Load(); n != 1 {
			t.Errorf("the upstream got %d calls, want the one sent before the drain", n)
		}
	})
}

// A call waits for its budgets as the project its context names, or else
// as its caller's: the waits are counted by project, and the series of
// every project on the account start at 0.
func TestCallsWaitAsTheirProject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		a := testAccounts(t, &fakeTencent{}, noBreaking, reg)
		p1 := testCallerOf(t, a, "p1")
		testCallerOf(t, a, "p2") // on the account, calling nothing
		if err := call(p1.Call(context.Background(), GetFunctionLogs, "", struct{}{})); err != nil {
			t.Fatal(err)
		}
		if err := call(p1.Call(budget.WithProject(context.Background(), "p3"), GetFunctionLogs, "", struct{}{})); err != nil {
			t.Fatal(err)
		}
		got := waitCounts(t, reg, GetFunctionLogs.Action)
		if want := map[string]uint64{"p1": 1, "p2": 0, "p3": 1}; !maps.Equal(got, want) {
			t.Errorf("waits by project %v, want %v", got, want)
		}
	})
}

// waitCounts are the interactive waits for api's budget, by project.
func waitCounts(t *testing.T, reg *prometheus.Registry, api string) map[string]uint64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "mudscf_budget_wait_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			if label(m, "api") == api && label(m, "priority") == "interactive" {
				counts[label(m, "project")] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	return counts
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
