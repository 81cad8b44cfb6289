package proxy

import (
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// ageHistograms reads mudscf_cache_answer_age_seconds by kind.
func ageHistograms(t *testing.T, e *fakeEnv) map[string]*dto.Histogram {
	t.Helper()
	families, err := e.proxy.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.Histogram{}
	for _, f := range families {
		if f.GetName() != "mudscf_cache_answer_age_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" {
					out[l.GetValue()] = m.GetHistogram()
				}
			}
		}
	}
	return out
}

// The Age of every successful answer is observed once, under the result
// of its worst part, and the four series exist before the first answer.
func TestAnswerAgeHistogram(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &bulkySource{hold: make(chan struct{})}
		env := startBulky(t, src)
		cfg := env.proxy.cfg.Cache
		want := map[string][]float64{"hit": nil, "miss": nil, "revalidate": nil, "stale": nil}
		check := func(step string) {
			t.Helper()
			got := ageHistograms(t, env)
			for kind, ages := range want {
				h, ok := got[kind]
				if !ok {
					t.Fatalf("%s: no series for kind %q", step, kind)
				}
				sum := 0.0
				for _, a := range ages {
					sum += a
				}
				if h.GetSampleCount() != uint64(len(ages)) || h.GetSampleSum() != sum {
					t.Errorf("%s: %s: %d answers of %vs in all, want %d of %vs", step, kind, h.GetSampleCount(), h.GetSampleSum(), len(ages), sum)
				}
			}
		}
		get := func(wantState string) {
			t.Helper()
			if r := env.getEncoded(t, http.MethodGet, "limit=5&stats=false"); r.Code != http.StatusOK || r.Header().Get("X-Cache") != wantState {
				t.Fatalf("%d %s, want %s", r.Code, r.Header().Get("X-Cache"), wantState)
			}
		}
		check("at the start")
		get(cacheMiss)
		want["miss"] = append(want["miss"], 0)
		check("after a miss")
		time.Sleep(3 * time.Second)
		get(cacheHit)
		want["hit"] = append(want["hit"], 3)
		check("after a hit")
		time.Sleep(cfg.PageTTL) // 3 s past the TTL
		get(cacheStale)
		want["revalidate"] = append(want["revalidate"], (cfg.PageTTL + 3*time.Second).Seconds())
		check("after a revalidation")
		src.fail(errors.New("the upstream is down"))
		close(src.hold)
		synctest.Wait() // the refresh failed
		time.Sleep(cfg.StaleWhileRevalidate + time.Minute)
		get(cacheStale)
		want["stale"] = append(want["stale"], (3*time.Second + cfg.PageTTL + cfg.StaleWhileRevalidate + time.Minute).Seconds())
		check("after a stale answer")
	})
}
