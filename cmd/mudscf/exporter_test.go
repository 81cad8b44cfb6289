package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A corrupt checkpoint ends the exporter with exit status 1 and one log
// line saying so, before anything is printed as started; logLevel sets the
// process's level.
func TestExporterStartFailures(t *testing.T) {
	dir := t.TempDir()
	checkpoint := filepath.Join(dir, "checkpoint.json")
	if err := os.WriteFile(checkpoint, []byte(`{"version":1,"functions":{"p/f":null}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "exporter.yaml")
	yaml := "listen: 127.0.0.1:0\nlogLevel: warn\nauth: {tokenEnv: MUDSCF_TEST_EXPORTER_TOKEN}\ncheckpoint: " + checkpoint +
		"\nfunctions: [{project: p, function: f}]\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MUDSCF_TEST_EXPORTER_TOKEN", "x")
	defer logLevel.Set(slog.LevelInfo)
	var logs, stdout bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: &logLevel}))
	if code := run(context.Background(), []string{"exporter", "--config", config}, &stdout, io.Discard, logger); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "unreadable checkpoint") {
		t.Errorf("logged %d lines, want one about the unreadable checkpoint:\n%s", n, logs.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("printed %q before failing", stdout.String())
	}
	if logLevel.Level() != slog.LevelWarn {
		t.Errorf("log level %v, want warn from logLevel", logLevel.Level())
	}
}

// Log durations are seconds under a key that says so: slog's JSON would
// write a time.Duration as integer nanoseconds.
func TestLogDurationsInSeconds(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: durationsInSeconds}))
	logger.Info("request", slog.Duration("duration", 1500*time.Millisecond), slog.Duration("wait_seconds", 250*time.Millisecond), slog.Int("status", 200))
	for _, want := range []string{`"duration_seconds":1.5`, `"wait_seconds":0.25`, `"status":200`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("no %s in %s", want, buf.String())
		}
	}
}
