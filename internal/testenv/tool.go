package testenv

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Tool returns the path of the real program name, which the test needs.
// Missing, the test skips with install, the way to get it; under CI (set)
// it fails instead, because .ci/run must have installed it and a skipped
// test there would hide that it did not.
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	// Where `go install` puts a tool (helm) when GOPATH/bin is not on PATH.
	if path := filepath.Join(build.Default.GOPATH, "bin", name); isExecutable(path) {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing in CI: .ci/run must install it (%s)", name, install)
	}
	t.Skipf("%s is not on PATH (%s)", name, install)
	return ""
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
