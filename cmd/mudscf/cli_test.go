package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/mudscf/mudscf/internal/testenv"
)

// Help is asked for, so it is no error; the subcommands are listed in one
// order every time.
func TestHelpAndVersion(t *testing.T) {
	var first string
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"--help"}, {"--help"}} {
		var stdout strings.Builder
		if code := run(context.Background(), args, &stdout, io.Discard, testLogger("run")); code != 0 {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
		if first == "" {
			first = stdout.String()
		} else if stdout.String() != first {
			t.Errorf("%v printed another usage:\n%s\nthan before:\n%s", args, stdout.String(), first)
		}
	}
	listed := regexp.MustCompile(`(?m)^  (\w+) `).FindAllStringSubmatch(first, -1)
	var names []string
	for _, m := range listed {
		names = append(names, m[1])
	}
	if got := strings.Join(names, " "); got != "proxy exporter check simulate demo token version" {
		t.Errorf("usage lists %q", got)
	}

	var stdout strings.Builder
	if code := run(context.Background(), []string{"--version"}, &stdout, io.Discard, testLogger("run")); code != 0 {
		t.Errorf("--version: exit %d", code)
	}
	if !regexp.MustCompile(`^mudscf, version \S* \(branch: \S*, revision: \S*\)\n +build user:.*\n +build date:.*\n +go version: +go1\.`).MatchString(stdout.String()) {
		t.Errorf("--version printed %q", stdout.String())
	}
}

// proxyConfigFile writes a proxy config listening on port (both
// addresses, on loopback) whose JWT secret is read from the variable
// jwtEnv.
func proxyConfigFile(t *testing.T, port, jwtEnv string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "proxy.yaml")
	if err := os.WriteFile(path, []byte(`
listen: 127.0.0.1:`+port+`
adminListen: 127.0.0.1:`+port+`
drainDelay: 0s
upstream: {endpoint: 127.0.0.1:9, scheme: http}
jwt: {algorithms: [HS256], secretEnv: `+jwtEnv+`}
projects:
  proj_AsIu33tafZGe:
    region: ap-guangzhou
    credentials: {secretIdEnv: TEST_PROXY_ID, secretKeyEnv: TEST_PROXY_KEY}
    functions: {MVPQVsgjuHBlvWFB: {name: APITest}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The proxy announces its addresses only once it has started: a proxy that
// fails on a missing secret, or is stopped by a signal during startup,
// prints no banner and serves nothing.
func TestProxyBannerOnlyAfterStart(t *testing.T) {
	t.Setenv("TEST_PROXY_JWT_SECRET", proxyJWTSecret)
	t.Setenv("TEST_PROXY_ID", "AKIDx")
	t.Setenv("TEST_PROXY_KEY", proxySecretKey)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		env  string
		log  string
	}{
		{"missing JWT secret", context.Background(), "TEST_PROXY_NO_SUCH_SECRET", "TEST_PROXY_NO_SUCH_SECRET"},
		{"signal during startup", cancelled, "TEST_PROXY_JWT_SECRET", "stopped during startup"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, logs testenv.SyncBuffer
			done := make(chan int, 1)
			go func() {
				done <- run(c.ctx, []string{"proxy", "--config", proxyConfigFile(t, "0", c.env)}, &stdout, io.Discard,
					testLoggerTo("the proxy's log", &logs))
			}()
			var code int
			select {
			case code = <-done:
			case <-time.After(30 * time.Second): // a guard against a hang, not a measure
				t.Fatal("the proxy did not stop")
			}
			if code != 1 || strings.Contains(stdout.String(), "API on") || !strings.Contains(logs.String(), c.log) {
				t.Errorf("exit %d, stdout %q, log %q: want 1, no banner, and %q in the log", code, stdout.String(), logs.String(), c.log)
			}
		})
	}
}

// The simulator's server closes keep-alive connections that stay idle.
func TestSimulatorClosesIdleConnections(t *testing.T) {
	saved := httpTimeouts
	httpTimeouts.idle = 100 * time.Millisecond
	t.Cleanup(func() { httpTimeouts = saved })
	m := startSubcommand(t, regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`), "simulate", "--addr", "127.0.0.1:0")
	testenv.AssertClosesIdle(t, m[1], "/_sim/healthz")
}

// service.name is mudscf's own unless OTEL_SERVICE_NAME (or
// OTEL_RESOURCE_ATTRIBUTES) names another; never the SDK's unknown_service.
func TestTracingResourceServiceName(t *testing.T) {
	for _, c := range []struct {
		name, serviceEnv, attrsEnv, want string
	}{
		{"default", "", "", "mudscf-proxy"},
		{"OTEL_SERVICE_NAME wins", "checkout-logs", "", "checkout-logs"},
		{"OTEL_RESOURCE_ATTRIBUTES wins", "", "service.name=from-attrs,deployment.environment.name=prod", "from-attrs"},
		{"OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES", "checkout-logs", "service.name=from-attrs", "checkout-logs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("OTEL_SERVICE_NAME", c.serviceEnv)
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", c.attrsEnv)
			res, err := tracingResource(context.Background(), "mudscf-proxy")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := res.Set().Value(semconv.ServiceNameKey)
			if got.AsString() != c.want {
				t.Errorf("service.name %q, want %q (resource %v)", got.AsString(), c.want, res)
			}
			if v, _ := res.Set().Value(attribute.Key("telemetry.sdk.name")); v.AsString() != "opentelemetry" {
				t.Errorf("telemetry.sdk.name %q", v.AsString())
			}
		})
	}
}

// The first SIGTERM starts the proxy's drain (readiness fails); a second
// one ends the process at once, wherever it is: main gives the signals
// back to their default action once the first has cancelled its context.
func TestSecondSignalEndsTheProcess(t *testing.T) {
	bin := builtBinary(t)
	cfg := proxyConfigFile(t, "0", "TEST_PROXY_JWT_SECRET")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A drain far longer than the test: only the second signal can end it.
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "drainDelay: 0s", "drainDelay: 1h", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "proxy", "--config", cfg)
	cmd.Env = append(os.Environ(), "TEST_PROXY_JWT_SECRET="+proxyJWTSecret, "TEST_PROXY_ID=AKIDx", "TEST_PROXY_KEY="+proxySecretKey)
	var stdout, stderr testenv.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // it may have exited already
		t.Logf("the proxy binary exited: %v", <-exited)
		suiteWitness.See("the stdout of the proxy binary", []byte(stdout.String()))
		suiteWitness.See("the stderr of the proxy binary", []byte(stderr.String()))
	})
	banner := regexp.MustCompile(`metrics and health on (http://\S+)`)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the proxy's stderr: %q", stderr.String())
		}
	})
	m := stdout.WaitFor(t, banner)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// A poll of a process of its own, which handles the signal in its
	// own time.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(m[1] + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readiness still passes 30s after SIGTERM")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Errorf("the process ended with %v, want killed by the second SIGTERM", err)
		}
		exited <- err // for the cleanup
	case <-time.After(30 * time.Second): // a guard against a hang, not a measure
		t.Fatal("a second SIGTERM did not end the draining process")
	}
}
