package upstream

import (
	"context"
	"maps"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"
)

// A call is counted under its outcome's own name, so that a client's bad
// paging (invalid_request) and Tencent's own failure (internal_error) are
// told apart.
func TestCallsCountedByOutcome(t *testing.T) {
	for _, c := range []struct {
		api  API
		code string // the fake's answer, "" for success
		want string
	}{
		{GetFunctionLogs, "", "ok"},
		{GetFunctionLogs, "InvalidParameterValue.Offset", "invalid_request"},
		{GetFunctionLogs, "ResourceNotFound.Function", "not_found"},
		{GetFunctionLogs, "UnauthorizedOperation.CAM", "permission_denied"},
		{GetFunctionLogs, "InvalidParameterValue", "misconfigured"},
		{GetFunctionLogs, "InvalidAction", "rejected"},
		{GetFunctionLogs, "InternalError", "internal_error"},
		{GetFunctionLogs, "ResourceUnavailable", "unavailable"},
		{GetFunctionLogs, "RequestLimitExceeded", "rate_limited"},
		{GetFunctionLogs, "AuthFailure.SignatureFailure", "auth_failure"},
		{testSearch, TopicConcurrencyExceeded, "topic_busy"},
	} {
		t.Run(c.code, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := &fakeTencent{}
				fake.setCode(c.code)
				reg := prometheus.NewRegistry()
				caller := testCallerOn(t, fake, noBreaking, reg)
				_ = call(caller.Call(context.Background(), c.api, "topic-1", struct{}{}))
				counts := callCounts(t, reg, c.api.Action)
				if counts[c.want] != 1 {
					t.Errorf("%s answered with %q: %s counted %v, want 1", c.api.Action, c.code, c.want, counts[c.want])
				}
				for result, n := range counts {
					if result != c.want && n != 0 {
						t.Errorf("%s answered with %q: %s counted %v, want 0", c.api.Action, c.code, result, n)
					}
				}
				synctest.Wait()
			})
		})
	}
}

// Every result a sent call can end in exists at 0 from an API's first
// call; topic_busy only where the API has a per-topic limit, and never a
// refusal before sending (the budget's and the breaker's own metrics).
func TestCallSeriesPrecreated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		caller := testCallerOn(t, &fakeTencent{}, noBreaking, reg)
		for _, api := range []API{GetFunctionLogs, testSearch} {
			if err := call(caller.Call(context.Background(), api, "topic-1", struct{}{})); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, o := range sentOutcomes {
				if o != TopicBusy || api.PerTopic > 0 {
					want = append(want, o.String())
				}
			}
			got := callCounts(t, reg, api.Action)
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(slices.Values(want))) {
				t.Errorf("%s: results %v, want %v", api.Action, keys, want)
			}
		}
		synctest.Wait()
	})
}

// callCounts are mudscf_upstream_calls_total's series of api, by result.
func callCounts(t *testing.T, reg *prometheus.Registry, api string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "mudscf_upstream_calls_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["api"] == api {
				out[labels["result"]] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}
