package preflight

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// A Check is one row of the table.
type Check interface {
	// Name says what is checked, e.g. "proxy config proxy.yaml" or
	// "GetFunction ap-guangzhou/default/APITest".
	Name() string
	// Run checks, within ctx. A check that cannot finish says so in a
	// failing Result; it never panics for bad input.
	Run(ctx context.Context) Result
}

// Result is what a check found.
type Result struct {
	Pass bool
	// Message is what a passing check found, or why a failing one failed:
	// one line per problem.
	Message string
}

// Pass and Fail are Results with a formatted message.
func Pass(format string, args ...any) Result {
	return Result{Pass: true, Message: fmt.Sprintf(format, args...)}
}

func Fail(format string, args ...any) Result {
	return Result{Message: fmt.Sprintf(format, args...)}
}

// Func is a Check made of a name and a function.
func Func(name string, run func(context.Context) Result) Check {
	return funcCheck{name, run}
}

type funcCheck struct {
	name string
	run  func(context.Context) Result
}

func (c funcCheck) Name() string                   { return c.name }
func (c funcCheck) Run(ctx context.Context) Result { return c.run(ctx) }

// Table prints a row per check as it runs and counts the failures.
type Table struct {
	w           io.Writer
	run, failed int
}

// NewTable is a Table printing to w.
func NewTable(w io.Writer) *Table { return &Table{w: w} }

// Run runs each check in turn and prints its row. Once ctx is done, the
// checks left fail without running.
func (t *Table) Run(ctx context.Context, checks ...Check) {
	for _, c := range checks {
		var r Result
		if err := ctx.Err(); err != nil {
			r = Fail("not run: %v", err)
		} else {
			r = c.Run(ctx)
		}
		t.row(c.Name(), r)
	}
}

// row prints "PASS  name: message", a message of several lines with one
// problem per indented line under the name.
func (t *Table) row(name string, r Result) {
	t.run++
	status := "PASS"
	if !r.Pass {
		status = "FAIL"
		t.failed++
	}
	lines := strings.Split(strings.TrimRight(r.Message, "\n"), "\n")
	switch {
	case r.Message == "":
		fmt.Fprintf(t.w, "%s  %s\n", status, name)
	case len(lines) == 1:
		fmt.Fprintf(t.w, "%s  %s: %s\n", status, name, lines[0])
	default:
		fmt.Fprintf(t.w, "%s  %s:\n", status, name)
		for _, l := range lines {
			fmt.Fprintf(t.w, "        %s\n", l)
		}
	}
}

// Note prints a line that is no check, e.g. why some were not run.
func (t *Table) Note(format string, args ...any) {
	fmt.Fprintf(t.w, "      "+format+"\n", args...)
}

// Summarize prints how many checks ran and failed, and reports whether all
// passed. A table without checks has not passed.
func (t *Table) Summarize() bool {
	if t.failed == 0 && t.run > 0 {
		fmt.Fprintf(t.w, "%d of %d checks passed\n", t.run, t.run)
		return true
	}
	fmt.Fprintf(t.w, "%d of %d checks failed\n", t.failed, t.run)
	return false
}
