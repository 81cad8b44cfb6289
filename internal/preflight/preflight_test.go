package preflight

import (
	"context"
	"strings"
	"testing"
)

// Rows print as they run, a message of several lines one per line under
// the name, and the summary counts the failures.
func TestTable(t *testing.T) {
	ran := 0
	check := func(name string, r Result) Check {
		return Func(name, func(context.Context) Result { ran++; return r })
	}
	cases := []struct {
		name   string
		checks []Check
		passed bool
		want   string
	}{
		{"all pass", []Check{check("a", Pass("found %d", 2)), check("b", Result{Pass: true})}, true,
			"PASS  a: found 2\nPASS  b\n2 of 2 checks passed\n"},
		{"one fails", []Check{check("a", Pass("ok")), check("b", Fail("no: %s", "why"))}, false,
			"PASS  a: ok\nFAIL  b: no: why\n1 of 2 checks failed\n"},
		{"several lines", []Check{check("file", Fail("x (line 1): bad\ny (line 2): worse\n"))}, false,
			"FAIL  file:\n        x (line 1): bad\n        y (line 2): worse\n1 of 1 checks failed\n"},
		{"no checks", nil, false, "0 of 0 checks failed\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			table := NewTable(&out)
			table.Run(context.Background(), c.checks...)
			if passed := table.Summarize(); passed != c.passed || out.String() != c.want {
				t.Errorf("passed %v, printed\n%s\nwant %v and\n%s", passed, out.String(), c.passed, c.want)
			}
		})
	}
	ran = 0
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out strings.Builder
	table := NewTable(&out)
	table.Run(ctx, check("late", Pass("ran")))
	table.Note("a note")
	if table.Summarize() || ran != 0 || out.String() != "FAIL  late: not run: context canceled\n      a note\n1 of 1 checks failed\n" {
		t.Errorf("after cancel: ran %d, printed %q", ran, out.String())
	}
}
