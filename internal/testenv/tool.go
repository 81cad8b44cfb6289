package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Tool returns the path of the real program name, which the test needs.
// Missing, the test skips with install, the way to get it; under CI (set)
// it fails instead, because .ci/run must have installed it and a skipped
// test there would hide that it did not.
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing in CI: .ci/run must install it (%s)", name, install)
	}
	t.Skipf("%s is not on PATH (%s)", name, install)
	return ""
}
