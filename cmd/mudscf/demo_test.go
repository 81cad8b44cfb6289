package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/testenv"
)

// startSubcommand runs args until the test ends and returns what it prints
// once want has appeared in it.
func startSubcommand(t *testing.T, want *regexp.Regexp, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout testenv.SyncBuffer
	done := make(chan int, 1)
	var stderr testenv.SyncBuffer
	go func() { done <- run(ctx, args, &stdout, &stderr, testLogger(args[0])) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("%v exited %d", args, code)
		}
		out := stdout.String()
		if args[0] == "demo" {
			// The demo's banner shows its JWT secret on purpose, on that
			// one line; nothing else may.
			out = regexp.MustCompile(`(?m)^ *JWT secret .*$`).ReplaceAllString(out, "")
		}
		suiteWitness.See("the stdout of "+args[0], []byte(out))
		suiteWitness.See("the stderr of "+args[0], []byte(stderr.String()))
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := want.FindStringSubmatch(stdout.String()); m != nil {
			return m
		}
	}
	t.Fatalf("%v printed no %s: %q", args, want, stdout.String())
	return nil
}

// The README's first command: the demo prints a curl per project that
// works as printed, and both projects tell of the same executions.
func TestDemoCurlWorks(t *testing.T) {
	m := startSubcommand(t, regexp.MustCompile(`(?s)exporter +(http://\S+/metrics).*curl -s -H 'Authorization: Bearer ([^']+)' '([^']+)'\n  curl -s -H 'Authorization: Bearer [^']+' '([^']+)'`),
		"demo", "--jwt-secret", demoJWTSecret, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--sim-addr", "127.0.0.1:0", "--exporter-addr", "127.0.0.1:0")
	exporterMetrics, token := m[1], m[2]
	var ids [2][]any
	for i, curlURL := range m[3:5] {
		if want := []string{demoProject, demoCLSProject}[i]; !strings.Contains(curlURL, "/projects/"+want+"/") {
			t.Fatalf("curl %d reads %s, want project %s", i, curlURL, want)
		}
		req, _ := http.NewRequest(http.MethodGet, curlURL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Success bool
			Data    struct{ Executions []map[string]any }
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !body.Success || len(body.Data.Executions) != 2 {
			t.Fatalf("%s: %d %+v %v", curlURL, resp.StatusCode, body, err)
		}
		for _, e := range body.Data.Executions {
			ids[i] = append(ids[i], e["requestId"])
		}
	}
	if !reflect.DeepEqual(ids[0], ids[1]) {
		t.Errorf("the GetFunctionLogs project shows %v, the CLS project %v", ids[0], ids[1])
	}

	// The exporter in the same process polls through the proxy.
	var metrics string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(exporterMetrics)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if metrics = string(b); strings.Contains(metrics, "mudscf_function_executions_total{") {
			return
		}
	}
	t.Errorf("the demo's exporter exported no executions within 10s:\n%.2000s", metrics)
}

func TestTokenSubcommand(t *testing.T) {
	const secret = tokenJWTSecret
	var out strings.Builder
	code := run(context.Background(), []string{"token", "--secret", secret, "--sub", "usr_morgan_de", "--projects", "proj_a, proj_b", "--roles", "admin", "--ttl", "2h"},
		&out, io.Discard, testLogger("token"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	cfg := jwtauth.Config{Algorithms: []string{"HS256"}, ProjectsClaim: "projects", RolesClaim: "roles", Leeway: time.Second}
	p, err := jwtauth.NewAuthenticator(cfg, []byte(secret), nil).Authenticate("Bearer " + strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "usr_morgan_de" || len(p.Projects) != 2 || p.Projects[1] != "proj_b" || p.Roles[0] != "admin" || time.Until(p.Expires) < 119*time.Minute {
		t.Errorf("principal %+v", p)
	}
	if code := run(context.Background(), []string{"token", "--sub", "x"}, io.Discard, io.Discard, testLogger("token")); code != 1 {
		t.Errorf("no secret: exit %d, want 1", code)
	}
}

// The proxy subcommand reads its file, lets MUDSCF_* variables override it
// and refuses unknown keys.
func TestProxySubcommandConfig(t *testing.T) {
	dir := t.TempDir()
	good := proxyConfigFile(t, "1", "TEST_PROXY_JWT_SECRET")
	t.Setenv("TEST_PROXY_JWT_SECRET", proxyJWTSecret)
	t.Setenv("TEST_PROXY_ID", "AKIDx")
	t.Setenv("TEST_PROXY_KEY", proxySecretKey)
	t.Setenv("MUDSCF_LISTEN", "127.0.0.1:0")
	m := startSubcommand(t, regexp.MustCompile(`API on http://127\.0\.0\.1:(\d+), metrics and health on http://127\.0\.0\.1:(\d+)`),
		"proxy", "--config", good, "--admin-listen", "127.0.0.1:0")
	if m[1] == "1" || m[2] == "1" {
		t.Errorf("listening on ports %s and %s: the variable and the flag should override the file's port 1", m[1], m[2])
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: :8080\nlisten_typo: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	code := run(context.Background(), []string{"proxy", "--config", bad}, io.Discard, io.Discard, slog.New(slog.NewTextHandler(io.MultiWriter(&logs, suiteWitness.Writer("the proxy's log")), nil)))
	if code != 1 || !strings.Contains(logs.String(), "listen_typo") {
		t.Errorf("exit %d, log %q: want 1 and the bad key named", code, logs.String())
	}
}
