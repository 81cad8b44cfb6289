package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mudscf/mudscf/internal/preflight"
	"github.com/mudscf/mudscf/proxy"
)

// A valid proxy configuration; the cases below change one thing in it.
const checkProxyYAML = `logLevel: info
jwt: {algorithms: [HS256], secretEnv: CHECK_JWT_SECRET}
cache:
  pageTTL: 10s
projects:
  p1:
    region: ap-guangzhou
    credentials: {secretIdEnv: CHECK_ID, secretKeyEnv: CHECK_KEY}
    functions:
      f1: {name: fn}
`

// A valid exporter configuration, likewise.
const checkExporterYAML = `interval: 30s
pageSize: 100
auth: {tokenEnv: CHECK_TOKEN}
functions:
  - {project: p1, function: f1}
`

// writeConfig writes content to a file of its own and returns its path.
func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// check exits 0 for valid files and 1 for each kind of problem, whose row
// names the key path (and the line, when the file writes the key), what is
// wrong and what is allowed.
func TestCheck(t *testing.T) {
	t.Setenv("MUDSCF_CONFIG", "")
	t.Setenv("MUDSCF_EXPORTER_CONFIG", "")
	proxyFile := func(old, replacement string) string {
		if !strings.Contains(checkProxyYAML, old) {
			t.Fatalf("the proxy config has no %q", old)
		}
		return writeConfig(t, "proxy.yaml", strings.Replace(checkProxyYAML, old, replacement, 1))
	}
	exporterFile := func(old, replacement string) string {
		if !strings.Contains(checkExporterYAML, old) {
			t.Fatalf("the exporter config has no %q", old)
		}
		return writeConfig(t, "exporter.yaml", strings.Replace(checkExporterYAML, old, replacement, 1))
	}
	validProxy, validExporter := proxyFile("", ""), exporterFile("", "")
	cases := []struct {
		name string
		args []string
		code int
		want []string // lines of the output
	}{
		{"valid proxy config", []string{"--config", validProxy, "--offline"}, 0,
			[]string{"PASS  proxy config " + validProxy + ": valid: 1 project, 1 listed function", "1 of 1 checks passed"}},
		{"valid exporter config", []string{"--exporter-config", validExporter}, 0,
			[]string{"PASS  exporter config " + validExporter + ": valid: 1 function", "1 of 1 checks passed"}},
		{"both", []string{"--config", validProxy, "--exporter-config", validExporter, "--offline"}, 0,
			[]string{"PASS  proxy config", "PASS  exporter config", "2 of 2 checks passed"}},

		{"proxy: unknown key", []string{"--config", proxyFile("pageTTL", "pageTtl")}, 1,
			[]string{"FAIL  proxy config", ": cache.pageTtl (line 4): unknown key; did you mean pageTTL? allowed: pageTTL, statsTTL, staleMaxAge,", "1 of 1 checks failed"}},
		{"proxy: bad type", []string{"--config", proxyFile("10s", "10")}, 1,
			[]string{"cache.pageTTL (line 4): 10 is not a duration: give its unit, e.g. 10s"}},
		{"proxy: bad value", []string{"--config", proxyFile("logLevel: info", "logLevel: verbose")}, 1,
			[]string{`logLevel (line 1): "verbose" is not debug, info, warn or error`}},
		{"proxy: missing required", []string{"--config", proxyFile("    region: ap-guangzhou\n", "")}, 1,
			[]string{"projects.p1.region: required (e.g. ap-guangzhou)"}},
		{"proxy: contradictory", []string{"--config", proxyFile("{name: fn}", "{name: fn, clsTopicId: t1}")}, 1,
			[]string{"projects.p1.functions.f1.clsTopicId (line 10): only a project whose source is cls reads a CLS topic"}},
		{"proxy: half a credential pair", []string{"--config", proxyFile(", secretKeyEnv: CHECK_KEY", "")}, 1,
			[]string{"projects.p1.credentials (line 8): a SecretId source needs its SecretKey source and vice versa"}},
		{"proxy: several problems", []string{"--config", proxyFile("pageTTL: 10s", "pageTtl: 10s\n  statsTTL: soon")}, 1,
			[]string{"proxy.yaml:\n        cache.pageTtl (line 4): unknown key", "\n        cache.statsTTL (line 5): \"soon\" is not a duration"}},
		{"proxy: not YAML", []string{"--config", proxyFile("cache:\n", "cache:\n\t")}, 1,
			[]string{"line 4: not valid YAML"}},
		{"proxy: no such file", []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, 1,
			[]string{"reading config", "no such file"}},

		{"exporter: unknown key", []string{"--exporter-config", exporterFile("pageSize", "pagesize")}, 1,
			[]string{"pagesize (line 2): unknown key; did you mean pageSize? allowed: listen, endpoint, auth,"}},
		{"exporter: bad type", []string{"--exporter-config", exporterFile("pageSize: 100", "pageSize: all")}, 1,
			[]string{`pageSize (line 2): "all" is not a whole number`}},
		{"exporter: bad value", []string{"--exporter-config", exporterFile("pageSize: 100", "pageSize: 5000")}, 1,
			[]string{"pageSize (line 2): must be 1 to 1000, got 5000"}},
		{"exporter: missing required", []string{"--exporter-config", exporterFile("functions:\n  - {project: p1, function: f1}\n", "")}, 1,
			[]string{"functions: list at least one project/function to export"}},
		{"exporter: contradictory", []string{"--exporter-config", exporterFile("{tokenEnv: CHECK_TOKEN}", "{tokenEnv: CHECK_TOKEN, tokenFile: /t}")}, 1,
			[]string{"auth (line 3): give exactly one of tokenFile, tokenEnv, jwtSecretEnv, jwtSecretFile"}},
		{"one of two bad", []string{"--config", validProxy, "--exporter-config", exporterFile("30s", "30"), "--offline"}, 1,
			[]string{"PASS  proxy config", "FAIL  exporter config", "interval (line 1): 30 is not a duration", "1 of 2 checks failed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(context.Background(), append([]string{"check"}, c.args...), &stdout, &stderr, testLogger("check"))
			out := stdout.String()
			if code != c.code || stderr.Len() != 0 {
				t.Errorf("exit %d, stderr %q; want %d and nothing", code, stderr.String(), c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("the output does not contain %q:\n%s", w, out)
				}
			}
			if goType.MatchString(out) {
				t.Errorf("the output names a Go type:\n%s", out)
			}
		})
	}
}

// goType matches what a Go type name looks like in an error:
// proxy.CacheConfig, time.Duration, !!str, int64.
var goType = regexp.MustCompile(`\b(proxy|exporter|time|upstream|jwtauth|budget|redisstore)\.[A-Z]|!!|\bu?int(64)?\b|\bstring\b`)

// checkWith runs check with live as its live checks.
func checkWith(live liveChecks, args ...string) (string, error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	act := checkCommand(live)(fs)
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	var out strings.Builder
	err := act(context.Background(), &out, testLogger("check"))
	return out.String(), err
}

// Live checks are more rows of the same table, built from the valid proxy
// configuration, and run only without --offline.
func TestCheckLiveRows(t *testing.T) {
	t.Setenv("MUDSCF_CONFIG", "")
	t.Setenv("MUDSCF_EXPORTER_CONFIG", "")
	valid := writeConfig(t, "proxy.yaml", checkProxyYAML)
	invalid := writeConfig(t, "bad.yaml", strings.Replace(checkProxyYAML, "pageTTL", "pageTtl", 1))
	rows := func(results ...preflight.Result) liveChecks {
		return func(_ context.Context, cfg proxy.Config, _ *slog.Logger) ([]preflight.Check, error) {
			var checks []preflight.Check
			for i, r := range results {
				name := []string{"credentials", "GetFunction fn"}[i] + " (" + cfg.Projects["p1"].Region + ")"
				checks = append(checks, preflight.Func(name, func(context.Context) preflight.Result { return r }))
			}
			return checks, nil
		}
	}
	cases := []struct {
		name    string
		live    liveChecks
		args    []string
		failed  bool
		want    []string
		notWant string
	}{
		{"all pass", rows(preflight.Pass("AKID…x accepted"), preflight.Pass("128 MB")), []string{"--config", valid}, false,
			[]string{"PASS  credentials (ap-guangzhou): AKID…x accepted", "PASS  GetFunction fn (ap-guangzhou): 128 MB", "3 of 3 checks passed"}, "no live checks"},
		{"one fails", rows(preflight.Fail("AuthFailure.SignatureFailure: the SecretKey is wrong"), preflight.Pass("128 MB")), []string{"--config", valid}, true,
			[]string{"FAIL  credentials (ap-guangzhou): AuthFailure.SignatureFailure: the SecretKey is wrong", "1 of 3 checks failed"}, ""},
		{"offline", rows(preflight.Fail("must not run")), []string{"--config", valid, "--offline"}, false,
			[]string{"1 of 1 checks passed"}, "must not run"},
		{"invalid file", rows(preflight.Fail("must not run")), []string{"--config", invalid}, true,
			[]string{"the account is not checked: the proxy configuration is invalid", "1 of 1 checks failed"}, "must not run"},
		{"none yet", rows(), []string{"--config", valid}, false,
			[]string{"the configuration names nothing to check live: only the files were checked", "1 of 1 checks passed"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := checkWith(c.live, c.args...)
			if failed := errors.Is(err, errReported); failed != c.failed || (err != nil && !failed) {
				t.Errorf("got %v, want failed=%v", err, c.failed)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("the output does not contain %q:\n%s", w, out)
				}
			}
			if c.notWant != "" && strings.Contains(out, c.notWant) {
				t.Errorf("the output contains %q:\n%s", c.notWant, out)
			}
		})
	}
}

// proxy and exporter refuse a bad file with the very lines check prints:
// in their JSON log line, or as plain text on a terminal.
func TestConfigErrorsReadAlike(t *testing.T) {
	t.Setenv("MUDSCF_CONFIG", "")
	t.Setenv("MUDSCF_EXPORTER_CONFIG", "")
	defer func(saved func(io.Writer) bool) { stderrIsTerminal = saved }(stderrIsTerminal)
	for _, c := range []struct{ subcommand, checkFlag, file string }{
		{"proxy", "--config", writeConfig(t, "proxy.yaml", strings.Replace(checkProxyYAML, "pageTTL: 10s", "pageTtl: 10s\n  statsTTL: soon", 1))},
		{"exporter", "--exporter-config", writeConfig(t, "exporter.yaml", strings.Replace(checkExporterYAML, "pageSize: 100", "pagesize: 100\ninterval: 1", 1))},
	} {
		t.Run(c.subcommand, func(t *testing.T) {
			var checked strings.Builder
			run(context.Background(), []string{"check", c.checkFlag, c.file, "--offline"}, &checked, io.Discard, testLogger("check"))
			var problems []string
			for _, l := range strings.Split(checked.String(), "\n") {
				if strings.HasPrefix(l, "        ") {
					problems = append(problems, strings.TrimSpace(l))
				}
			}
			if len(problems) != 2 {
				t.Fatalf("check printed %d problems, want 2:\n%s", len(problems), checked.String())
			}

			stderrIsTerminal = func(io.Writer) bool { return false }
			var logs strings.Builder
			code := run(context.Background(), []string{c.subcommand, "--config", c.file}, io.Discard, io.Discard,
				slog.New(slog.NewJSONHandler(&logs, nil)))
			var line struct{ Msg, Err string }
			if err := json.Unmarshal([]byte(logs.String()), &line); err != nil || code != 1 {
				t.Fatalf("exit %d, log %q (%v): want 1 and one JSON line", code, logs.String(), err)
			}
			if want := "config " + c.file + ": " + strings.Join(problems, "\n"); line.Err != want {
				t.Errorf("the log says %q, want %q", line.Err, want)
			}

			stderrIsTerminal = func(io.Writer) bool { return true }
			var stderr strings.Builder
			logs.Reset()
			code = run(context.Background(), []string{c.subcommand, "--config", c.file}, io.Discard, &stderr,
				slog.New(slog.NewJSONHandler(&logs, nil)))
			want := "mudscf " + c.subcommand + ": config " + c.file + " is invalid:\n  " + strings.Join(problems, "\n  ") + "\n"
			if code != 1 || stderr.String() != want || logs.Len() != 0 {
				t.Errorf("exit %d, stderr %q, log %q: want 1, %q and no log", code, stderr.String(), logs.String(), want)
			}
		})
	}
}

// A flag that spoils a valid file is named as the flags' doing.
func TestOverrideErrorsNameTheFlags(t *testing.T) {
	var logs strings.Builder
	code := run(context.Background(), []string{"proxy", "--config", writeConfig(t, "proxy.yaml", checkProxyYAML), "--log-level", "loud"},
		io.Discard, io.Discard, slog.New(slog.NewJSONHandler(&logs, nil)))
	if want := `with the flags and MUDSCF_* variables applied: config: logLevel: \"loud\" is not debug`; code != 1 || !strings.Contains(logs.String(), want) {
		t.Errorf("exit %d, log %q: want 1 and %q", code, logs.String(), want)
	}
}
