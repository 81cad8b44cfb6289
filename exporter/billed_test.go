package exporter

import (
	"context"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

// An execution without billedDurationMs (a CLS-backed project's) adds
// nothing to the billed time; the others do, and all are counted as
// executions.
func TestExecutionsWithoutBilledDurationAddNoBilledTime(t *testing.T) {
	fake := &fakeLogs{first: time.Now().Add(-10 * time.Second).Truncate(time.Second), every: time.Second, n: 3,
		edit: func(i int, x *translate.Execution) {
			if i != 1 {
				x.BilledDurationMs = nil
			}
		}}
	cfg := fakeConfig(t, "f")
	e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
	if err != nil {
		t.Fatal(err)
	}
	e.Round(context.Background())
	if got := executionsOf(t, e, "p", "f"); got != 3 {
		t.Errorf("%v executions counted, want 3", got)
	}
	// The one execution with a billed duration: 300 ms.
	if s := collectCounter(t, e, "mudscf_function_billed_duration_seconds_total"); len(s) != 1 || s[0].value != 0.3 {
		t.Errorf("billed seconds %v, want 0.3", s)
	}
}
