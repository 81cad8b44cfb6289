package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/common/version"
)

// Help that is asked for is no error: every subcommand prints its usage on
// stdout and exits 0.
func TestHelpExitsZero(t *testing.T) {
	for _, sub := range subcommands {
		for _, flag := range []string{"-h", "--help", "-help"} {
			var stdout, stderr strings.Builder
			code := run(context.Background(), []string{sub.name, flag}, &stdout, &stderr, testLogger("run"))
			if code != 0 || !strings.HasPrefix(stdout.String(), "usage: mudscf "+sub.name+" [flags]\n\n"+sub.summary) || stderr.Len() != 0 {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q: want 0 and the usage on stdout", sub.name, flag, code, stdout.String(), stderr.String())
			}
		}
	}
}

// `mudscf version` prints what `mudscf --version` prints.
func TestVersionSubcommand(t *testing.T) {
	var flagOut, subOut strings.Builder
	if run(context.Background(), []string{"--version"}, &flagOut, io.Discard, testLogger("run")) != 0 ||
		run(context.Background(), []string{"version"}, &subOut, io.Discard, testLogger("run")) != 0 {
		t.Fatal("a version exited non-zero")
	}
	if flagOut.String() != subOut.String() || !strings.HasPrefix(flagOut.String(), "mudscf, version ") {
		t.Errorf("--version printed %q, version %q", flagOut.String(), subOut.String())
	}
}

// What no -X flag stamped comes from the build info; what one stamped
// stays.
func TestVersionFromBuildInfo(t *testing.T) {
	saved := [2]string{version.Version, version.BuildDate}
	t.Cleanup(func() { version.Version, version.BuildDate = saved[0], saved[1] })
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}}}
	for _, c := range []struct{ stamped, wantVersion string }{{"", "v1.4.0"}, {"1.5.0-rc.1", "1.5.0-rc.1"}} {
		version.Version, version.BuildDate = c.stamped, ""
		versionFromBuildInfo(bi)
		if version.Version != c.wantVersion || version.BuildDate != "2026-01-02T03:04:05Z" {
			t.Errorf("stamped %q: version %q, build date %q", c.stamped, version.Version, version.BuildDate)
		}
	}
}

// A plain `go build` binary knows its version: the module's (a
// pseudo-version naming the commit in a git checkout), and the commit.
func TestVersionOfAPlainBuild(t *testing.T) {
	bin := builtBinary(t)
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^mudscf, version (\S+) \(branch: \S*, revision: (\S+)\)\n`).FindStringSubmatch(string(out))
	if m == nil || m[1] == "" {
		t.Fatalf("--version printed %q: no version", out)
	}
	sub, err := exec.Command(bin, "version").Output()
	if err != nil || string(sub) != string(out) {
		t.Errorf("version printed %q (%v), --version %q", sub, err, out)
	}
	// The go command stamps version control information only in a
	// checkout whose .git is a directory: not in a git worktree (.git a
	// file), nor in an unpacked archive.
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Logf("not in a git checkout (%v): the version is %s, the revision not checked", err, m[1])
		return
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Logf("in a git worktree, which go build does not stamp: the version is %s, the revision not checked", m[1])
		return
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(string(head))
	if !strings.HasPrefix(m[2], commit) || !strings.Contains(m[1], commit[:12]) || !strings.Contains(string(out), "build date:       2") {
		t.Errorf("--version printed %q, want the version and revision of commit %s and its time", out, commit)
	}
}
