package exporter

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

// A record with negative numbers (any Mudbase-compatible endpoint may send
// one) is counted with them clamped to 0, logged once with its requestId,
// and checkpointed, so a restart neither crashes on it nor counts it again.
func TestInvalidFieldsAreClampedLoggedAndCheckpointed(t *testing.T) {
	fake := &fakeLogs{first: time.Now().Add(-10 * time.Second).Truncate(time.Second), every: time.Second, n: 3,
		edit: func(i int, x *translate.Execution) {
			if i == 1 {
				x.RetryCount, x.BilledDurationMs, x.MemoryUsageBytes, x.ExecutionTime = -1, new(int64(-5)), -7, -9
			}
		}}
	cfg := fakeConfig(t, "f")
	cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
	for restart := range 2 {
		logger, logs := bufferLogger()
		e, err := New(cfg, Options{Logger: logger, Transport: testenv.HandlerTransport{Handler: fake}})
		if err != nil {
			t.Fatal(err)
		}
		e.Round(context.Background())
		e.Round(context.Background())
		if err := e.save(); err != nil { // as Run does when it stops
			t.Fatal(err)
		}
		if got := executionsOf(t, e, "p", "f"); got != 3 {
			t.Errorf("restart %d: %v executions counted, want 3", restart, got)
		}
		for name, want := range map[string]float64{
			"mudscf_function_retries_total":                 0,
			"mudscf_function_billed_duration_seconds_total": 0.6,
		} {
			if s := collectCounter(t, e, name); len(s) != 1 || s[0].value != want {
				t.Errorf("restart %d: %s = %v, want %v", restart, name, s, want)
			}
		}
		wantLogs := 1 - restart // the restarted exporter has seen it already
		if n := strings.Count(logs.String(), "f-000001"); n != wantLogs {
			t.Errorf("restart %d: the invalid record's requestId is logged %d times, want %d:\n%s", restart, n, wantLogs, logs)
		}
	}
}

// Every corrupt checkpoint ends in one "unreadable checkpoint" error from
// New, never a panic (which the process would show as a stack trace and
// repeat on every restart).
func TestCorruptCheckpoints(t *testing.T) {
	const fn = `"p/f"`
	cases := map[string]string{
		"not JSON":              `{"version":1,`,
		"empty file":            ``,
		"wrong version":         `{"version":7,"functions":{}}`,
		"functions not a map":   `{"version":1,"functions":[1,2]}`,
		"null function":         `{"version":1,"functions":{` + fn + `:null}}`,
		"negative count":        `{"version":1,"functions":{` + fn + `:{"counts":{"success|unknown":-1}}}}`,
		"negative billed":       `{"version":1,"functions":{` + fn + `:{"billedSeconds":-0.5}}}`,
		"negative cost":         `{"version":1,"functions":{` + fn + `:{"costGBSeconds":-2}}}`,
		"negative retries":      `{"version":1,"functions":{` + fn + `:{"retries":-3}}}`,
		"count key without bar": `{"version":1,"functions":{` + fn + `:{"counts":{"success":1}}}}`,
		"unknown status":        `{"version":1,"functions":{` + fn + `:{"counts":{"maybe|unknown":1}}}}`,
		"unknown outcome":       `{"version":1,"functions":{` + fn + `:{"counts":{"failed|unknown|weird":1}}}}`,
		"seen time not a time":  `{"version":1,"functions":{` + fn + `:{"seen":{"x":"yesterday"}}}}`,
		"cursor not a time":     `{"version":1,"functions":{` + fn + `:{"cursor":12}}}`,
		"key without slash":     `{"version":1,"functions":{"pf":{}}}`,
		"v2 null stream":        `{"version":2,"streams":{"fn:p/f":null}}`,
		"v2 odd stream key":     `{"version":2,"streams":{"p/f":{}}}`,
		"v2 unknown outcome":    `{"version":2,"functions":{` + fn + `:{"counts":{"weird":1}}}}`,
		"v2 negative count":     `{"version":2,"functions":{` + fn + `:{"counts":{"success":-1}}}}`,
		"v2 NaN-ish hours":      `{"version":2,"functions":{` + fn + `:{"hours":{"12":[-1,0,0]}}}}`,
		"v2 hour not a number":  `{"version":2,"functions":{` + fn + `:{"hours":{"noon":[1,1,1]}}}}`,
		"v2 cursor not a time":  `{"version":2,"streams":{"fn:p/f":{"cursor":"yesterday"}}}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := fakeConfig(t, "f")
			cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
			if err := os.WriteFile(cfg.Checkpoint, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("panic: %v", p)
						t.Errorf("New panicked: %v", p)
					}
				}()
				_, err = New(cfg, Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{}}})
			}()
			if err == nil || !strings.HasPrefix(err.Error(), "unreadable checkpoint "+cfg.Checkpoint) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line starting %q", err, "unreadable checkpoint "+cfg.Checkpoint)
			}
		})
	}
}

// A checkpoint that cannot be written is refused at start: running on
// would count everything again after the next restart.
func TestRefusesUnwritableCheckpoint(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing directory":     filepath.Join(dir, "missing", "checkpoint.json"),
		"parent is a file":      filepath.Join(file, "checkpoint.json"),
		"path is  a directory ": dir,
	} {
		cfg := fakeConfig(t, "f")
		cfg.Checkpoint = path
		if _, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{}}}); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: New returned %v, want an error naming %s", name, err, path)
		}
	}
}

// When saving starts failing later, /readyz fails and the failures are
// counted; a save that works again restores readiness and the timestamp.
func TestCheckpointSaveFailureFailsReadiness(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fakeConfig(t, "f")
	cfg.Checkpoint = filepath.Join(dir, "checkpoint.json")
	fake := &fakeLogs{first: time.Now().Add(-5 * time.Second), every: time.Second, n: 2}
	e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: fake}})
	if err != nil {
		t.Fatal(err)
	}
	e.Round(context.Background())
	_ = e.save() // as Run does after a round
	e.ready.Store(true)
	if code := readyz(e); code != http.StatusOK {
		t.Fatalf("/readyz %d after a saved round", code)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	e.Round(context.Background())
	_ = e.save()
	if code := readyz(e); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d while the checkpoint cannot be saved, want 503", code)
	}
	body := scrape(t, e)
	if !strings.Contains(body, "mudscf_exporter_checkpoint_save_failures_total 1\n") {
		t.Errorf("no save failure counted:\n%s", grepLines(body, "checkpoint"))
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	e.Round(context.Background())
	_ = e.save()
	if code := readyz(e); code != http.StatusOK {
		t.Errorf("/readyz %d after the checkpoint was saved again", code)
	}
	s := collectCounter(t, e, "mudscf_exporter_checkpoint_last_success_timestamp_seconds")
	if len(s) != 1 || s[0].value < float64(before.Unix()) {
		t.Errorf("last successful save %v, want at least %d", s, before.Unix())
	}
}

// A JWT secret file that is missing fails at start (as the proxy's does),
// not at every poll behind a ready /readyz.
func TestMissingAuthFailsAtStart(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-secret")
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, auth := range map[string]AuthConfig{
		"missing secret file": {JWTSecretFile: missing},
		"empty secret file":   {JWTSecretFile: empty},
		"missing token file":  {TokenFile: missing},
		"unset secret var":    {JWTSecretEnv: "EXPORTER_TEST_UNSET_VARIABLE"},
		"unset token var":     {TokenEnv: "EXPORTER_TEST_UNSET_VARIABLE"},
	} {
		cfg := fakeConfig(t, "f")
		cfg.Auth = auth
		cfg.ApplyDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		if _, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{}}}); err == nil || !strings.Contains(err.Error(), "auth") {
			t.Errorf("%s: New returned %v, want an auth error", name, err)
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// Counts written before outcomes existed ("status|trigger") continue
// under outcome success or error, and those of the status and trigger
// labels' days by outcome, so no counter drops at the upgrade.
func TestCheckpointBeforeOutcomes(t *testing.T) {
	cfg := fakeConfig(t, "f")
	cfg.Checkpoint = filepath.Join(t.TempDir(), "checkpoint.json")
	old := `{"version":1,"functions":{"p/f":{"counts":{"success|unknown":7,"failed|timer":2}}}}`
	if err := os.WriteFile(cfg.Checkpoint, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, s := range collectCounter(t, e, "mudscf_function_executions_total") {
		got[s.labels["outcome"]] += s.value
	}
	if got["success"] != 7 || got["error"] != 2 {
		t.Errorf("restored %v", got)
	}
}
