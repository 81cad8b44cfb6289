package exporter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := LoadConfig("../examples/exporter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Interval != 30*time.Second || cfg.Functions[0].Name != "APITest" || len(cfg.Deprecations()) != 0 {
		t.Errorf("parsed %+v, deprecated %v", cfg, cfg.Deprecations())
	}
}

func TestConfigRejects(t *testing.T) {
	const fn = "functions: [{project: p, function: f}]\n"
	const auth = "auth: {tokenEnv: T}\n"
	cases := []struct{ yaml, mentions string }{
		{"typo: 1\n" + auth + fn, "typo (line 1): unknown key; allowed: listen, endpoint"},
		{"endpoint: ftp://x\n" + auth + fn, "endpoint"},
		{"interval: -1s\n" + auth + fn, "interval"},
		{"interval: 1ns\n" + auth + fn, "interval: 1ns is below the minimum of 1s"},
		{"interval: 999ms\n" + auth + fn, "interval"},
		{"overlap: 10ms\n" + auth + fn, "overlap"},
		{"backfill: 1ms\n" + auth + fn, "backfill"},
		{"timeout: 1us\n" + auth + fn, "timeout"},
		{"logLevel: verbose\n" + auth + fn, "logLevel"},
		{"overlap: 13h\n" + auth + fn, "overlap"},
		{"pageSize: 5000\n" + auth + fn, "pageSize"},
		{fn, "auth"},
		{"auth: {tokenEnv: T, tokenFile: /x}\n" + fn, "exactly one"},
		{auth, "functions"},
		{"projectPageSize: 10001\n" + auth + fn, "projectPageSize"},
		{"concurrency: -1\n" + auth + fn, "concurrency"},
		{auth + "projects: [{project: 'bad id'}]\n", "projects[0].project"},
		{auth + "projects: [{project: p}, {project: p}]\n", "projects[1]"},
		{auth + "functions: [{project: 'bad id', function: f}]\n", "functions[0].project"},
		{auth + "functions: [{project: p, function: f}, {project: p, function: f}]\n", "listed twice"},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "exporter.yaml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(path)
		if err == nil || !strings.Contains(err.Error(), c.mentions) {
			t.Errorf("%q: got %v, want an error mentioning %q", c.yaml, err, c.mentions)
		}
	}
}

// statsEvery and memorySizeMB still load, each with a warning naming what
// replaced it.
func TestDeprecatedKeysLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exporter.yaml")
	yaml := "statsEvery: 1m\nauth: {tokenEnv: T}\nfunctions: [{project: p, function: f, memorySizeMB: 128}]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Deprecations()
	if len(d) != 2 || !strings.Contains(d[0], "statsEvery") || !strings.Contains(d[1], "functions[0].memorySizeMB") ||
		!strings.Contains(d[1], "mudscf_function_memory_size_bytes") {
		t.Errorf("deprecations %q", d)
	}
}
