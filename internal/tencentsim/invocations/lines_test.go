package invocations

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Durations are whole milliseconds, as SCF reports them (SCF_Duration is a
// long in ms; "Duration:1ms"), in the record and in the report line; the
// log text is the request's lines joined by "\n", in the order of their
// times.
func TestWholeMillisecondsAndLogText(t *testing.T) {
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []Function{
		{Name: "event", FailureRatio: 0.3, RatePerSecond: 1},
		{Name: "web", Type: TypeWeb, FailureRatio: 0.3, RatePerSecond: 1, TimeoutMs: 900},
	} {
		m := NewModel(f.WithDefaults(), 1, origin)
		var cold int
		for i := range int64(2000) {
			r := m.Exec(i)
			if r.DurMs != float64(int64(r.DurMs)) || r.DurMs < 1 || r.DurNs != int64(r.DurMs)*int64(time.Millisecond) {
				t.Fatalf("%s %d: duration %v ms, %d ns", f.Name, i, r.DurMs, r.DurNs)
			}
			lines := r.Lines(nil)
			var msgs []string
			for j, l := range lines {
				if j > 0 && l.TimeNs <= lines[j-1].TimeNs || l.TimeNs < r.StartNs || l.TimeNs > r.EndNs() {
					t.Fatalf("%s %d: line %d at %d", f.Name, i, j, l.TimeNs)
				}
				msgs = append(msgs, string(r.AppendMessage(nil, l)))
			}
			if got := strings.Join(msgs, "\n"); got != r.LogText() {
				t.Fatalf("%s %d: log text %q, lines %q", f.Name, i, r.LogText(), got)
			}
			report := msgs[len(msgs)-1]
			if !strings.Contains(report, " Duration:"+strconv.FormatInt(int64(r.DurMs), 10)+"ms ") {
				t.Fatalf("%s %d: report %q for %v ms", f.Name, i, report, r.DurMs)
			}
			if r.Cold {
				cold++
			}
		}
		if (cold > 0) != (f.Type == TypeWeb) {
			t.Errorf("%s: %d cold starts", f.Name, cold)
		}
	}
}

func TestAppendTimestamp(t *testing.T) {
	for _, ns := range []int64{0, 1767229201202479225, 253402300799999999999 / 1000, -1} {
		want := time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z")
		if got := string(appendTimestamp([]byte("x"), ns)); got != "x"+want {
			t.Errorf("%d: %s, want %s", ns, got, want)
		}
	}
}
