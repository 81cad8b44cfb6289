package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// CheckMetrics runs promtool check metrics (Prometheus's own linter) on a
// /metrics exposition.
func CheckMetrics(t testing.TB, exposition string) {
	t.Helper()
	promtool := Tool(t, "promtool", "Debian: apt-get install prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
