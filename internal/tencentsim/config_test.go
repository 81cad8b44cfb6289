package tencentsim

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sim.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	p := writeFile(t, `
accounts:
  - secretId: AKIDone
    secretKey: key-one
  - secretId: AKIDtwo
    secretKey: key-two
    token: tok
functions:
  - name: api
    region: ap-shanghai
    namespace: prod
    ratePerSecond: 2
    failureRatio: 0.5
    timeoutMs: 1000
    memorySizeMB: 256
    qualifiers: ["$LATEST", "3"]
    runtime: Go1
    description: the API
    clsTopicId: topic-api
    clsLogsetId: logset-prod
  - name: quiet
regions: [ap-guangzhou, ap-shanghai]
seed: 42
origin: 2024-05-01T00:00:00+08:00
timezone: UTC
rateLimit: 20
apiRateLimits:
  GetRequestStatus: 7
maxClockSkew: 1m
faults:
  latency: 250ms
  httpStatus: 502
cls:
  rateLimit: 30
  topicConcurrency: 4
  otherQueries: 3
  topicPerFunction: true
  noStatistics: [topic-api]
  latency: {fixed: 300ms, perRecord: 2us}
`)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Accounts) != 2 || c.Accounts[1].Token != "tok" || c.Seed != 42 || c.RateLimit != 20 ||
		c.MaxClockSkew != time.Minute || c.Location.String() != "UTC" || len(c.Regions) != 2 {
		t.Fatalf("config: %+v", c)
	}
	api, quiet := c.Functions[0], c.Functions[1]
	if api.Runtime != "Go1" || api.Description != "the API" || api.ClsTopicID != "topic-api" ||
		api.ClsLogsetID != "logset-prod" || quiet.Runtime != "Python3.6" ||
		quiet.ClsTopicID != "" || // chosen by New, by the CLS configuration

		quiet.ClsLogsetID != DefaultClsLogsetID("ap-guangzhou") {
		t.Fatalf("functions: %+v", c.Functions)
	}
	if c.APIRateLimits[scf.ActionGetRequestStatus] != 7 || c.APIRateLimits[scf.ActionGetFunction] != 100 ||
		c.APIRateLimits[scf.ActionListFunctions] != 100 {
		t.Fatalf("apiRateLimits %v", c.APIRateLimits)
	}
	if !c.Origin.Equal(time.Date(2024, 4, 30, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("origin %v", c.Origin)
	}
	if c.Faults != (Faults{Latency: 250 * time.Millisecond, HTTPStatus: 502}) {
		t.Fatalf("faults %+v", c.Faults)
	}
	if !reflect.DeepEqual(c.CLS, CLSConfig{RateLimit: 30, TopicConcurrency: 4, OtherQueries: 3, TopicPerFunction: true,
		NoStatistics: []string{"topic-api"}, Latency: CLSLatency{Fixed: 300 * time.Millisecond, PerRecord: 2 * time.Microsecond}}) {
		t.Fatalf("cls %+v", c.CLS)
	}
	api, quiet = c.Functions[0], c.Functions[1]
	if api.Region != "ap-shanghai" || api.Namespace != "prod" || api.RatePerSecond != 2 || api.TimeoutMs != 1000 ||
		len(api.Qualifiers) != 2 {
		t.Fatalf("api %+v", api)
	}
	if quiet.Region != "ap-guangzhou" || quiet.Namespace != "default" || quiet.RatePerSecond != 1.0/60 ||
		quiet.FailureRatio != 0.08 || quiet.TimeoutMs != 3000 || quiet.MemorySizeMB != 128 ||
		len(quiet.Qualifiers) != 1 || quiet.Qualifiers[0] != "$LATEST" {
		t.Fatalf("defaults not filled: %+v", quiet)
	}
	if _, err := New(c); err != nil {
		t.Fatal(err)
	}

	// An empty file is the default configuration.
	d, err := LoadConfig(writeFile(t, "# nothing\n"))
	if err != nil || len(d.Accounts) != 1 || len(d.Functions) != 4 {
		t.Fatalf("empty file: %+v %v", d, err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"unknown top-level key", "seed: 1\nrateLimt: 5\n", "rateLimt"},
		{"unknown function key", "functions:\n  - name: a\n    rate: 2\n", "rate"},
		{"unknown fault key", "faults:\n  latencyMs: 5\n", "latencyMs"},
		{"bad origin", "origin: yesterday\n", "origin"},
		{"bad timezone", "timezone: Mars/Olympus\n", "timezone"},
		{"bad duration", "maxClockSkew: soon\n", "soon"},
		{"region not served", "regions: [ap-tokyo]\n", "ap-guangzhou"},
		{"limit of an action not served", "apiRateLimits:\n  InvokeFunction: 5\n", "InvokeFunction"},
		{"limit of GetFunctionLogs twice", "apiRateLimits:\n  GetFunctionLogs: 5\n", "GetFunctionLogs"},
		{"negative limit", "apiRateLimits:\n  GetFunction: -1\n", "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeFile(t, tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want mention of %q", err, tc.want)
			}
		})
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestNewValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no account", func(c *Config) { c.Accounts = nil }, "account"},
		{"duplicate account", func(c *Config) { c.Accounts = append(c.Accounts, c.Accounts[0]) }, "duplicate"},
		{"duplicate function", func(c *Config) { c.Functions = append(c.Functions, Function{Name: "APITest"}) }, "duplicate"},
		{"negative rate", func(c *Config) { c.Functions[0].RatePerSecond = -1 }, "ratePerSecond"},
		{"ratio over 1", func(c *Config) { c.Functions[0].FailureRatio = 1.5 }, "failureRatio"},
		{"negative ratio", func(c *Config) { c.Functions[0].FailureRatio = -0.1 }, "failureRatio"},
		{"unserved region", func(c *Config) { c.Functions[0].Region = "ap-nowhere" }, "region"},
		{"bad fault status", func(c *Config) { c.Faults.HTTPStatus = 42 }, "httpStatus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want mention of %q", err, tc.want)
			}
		})
	}
	// New must not alias the caller's slices.
	cfg := DefaultConfig()
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Now != nil || !cfg.Origin.IsZero() {
		t.Fatal("New wrote into the caller's Config")
	}
}
