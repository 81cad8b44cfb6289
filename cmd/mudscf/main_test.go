package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/witness"
)

// The secrets the tests configure; the simulator's is its default
// account's key, which the demo and simulate use.
const (
	demoJWTSecret  = "demo-jwt-secret-for-tests-0123456789abcdef"
	tokenJWTSecret = "token-test-secret-0123456789abcdef0123"
	proxyJWTSecret = "proxy-subcommand-secret-0123456789abcdef"
	proxySecretKey = "proxy-subcommand-secret-key-never-printed"
)

// suiteWitness reads every log line, every response to http.DefaultClient
// and what the subcommands print, and fails the run if a secret appeared.
var suiteWitness = witness.New(map[string]string{
	"simulator SecretKey": tencentsim.DefaultConfig().Accounts[0].SecretKey,
	"proxy SecretKey":     proxySecretKey,
	"demo JWT secret":     demoJWTSecret,
	"token JWT secret":    tokenJWTSecret,
	"proxy JWT secret":    proxyJWTSecret,
})

func TestMain(m *testing.M) {
	http.DefaultClient.Transport = suiteWitness.Transport(http.DefaultTransport)
	os.Exit(suiteWitness.Main(m).Run())
}

// testLogger is the logger every subcommand gets in the tests.
func testLogger(where string) *slog.Logger {
	return testLoggerTo(where, io.Discard)
}

// testLoggerTo is testLogger that also writes to extra.
func testLoggerTo(where string, extra io.Writer) *slog.Logger {
	out := io.MultiWriter(suiteWitness.Writer("the log of "+where), extra)
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestRunRejectsBadInvocations(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"simulate", "--no-such-flag"}} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, io.Discard, &stderr, testLogger("run")); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "--secret-id", "AKIDonlyHalf"}, io.Discard, &stderr, testLogger("run")); code != 1 {
		t.Errorf("a SecretId without its key: exit %d, want 1", code)
	}
}

// The simulate subcommand serves until its context ends, then exits 0.
func TestSimulateServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout testenv.SyncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"simulate", "--addr", "127.0.0.1:0"}, &stdout, io.Discard, testLogger("run"))
	}()
	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		m = addr.FindStringSubmatch(stdout.String())
	}
	if m == nil {
		cancel()
		t.Fatalf("no address printed: %q", stdout.String())
	}
	resp, err := http.Get("http://" + m[1] + "/_sim/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ok") {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel, want 0", code)
	}
}
