package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

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
	code := suiteWitness.Main(m).Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// binary is mudscf built once for the tests that run it as a process.
var binary struct {
	once      sync.Once
	dir, path string
	err       error
}

// builtBinary is mudscf as a plain `go build` makes it: no -ldflags, and
// the go command's own default of stamping version control information
// (this machine's GOFLAGS=-buildvcs=false set aside).
func builtBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "mudscf-test-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "mudscf")
		cmd := exec.Command("go", "build", "-o", binary.path, ".")
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
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
	for _, args := range [][]string{nil, {"nope"}, {"simulate", "--no-such-flag"}, {"simulate", "--secret-id", "AKIDonlyHalf"},
		{"proxy"}, {"exporter"}, {"check"}, {"token", "--sub", "x"}, {"version", "extra"}} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, io.Discard, &stderr, testLogger("run")); code != 2 || !strings.Contains(stderr.String(), "usage: mudscf") {
			t.Errorf("%v: exit %d, stderr %q: want 2 and the usage", args, code, stderr.String())
		}
	}
}

// The simulate subcommand serves until its context ends, then exits 0.
func TestSimulateServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // when the test fails before its own cancel
	var stdout testenv.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"simulate", "--addr", "127.0.0.1:0"}, &stdout, io.Discard, testLogger("run"))
	}()
	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`)
	m := stdout.WaitFor(t, addr)
	resp, err := http.Get("http://" + m[1] + "/_sim/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ok") {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel, want 0", code)
	}
}
