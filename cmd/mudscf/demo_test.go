package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
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
	return stdout.WaitFor(t, want)
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
		if err != nil || resp.StatusCode != http.StatusOK || !body.Success || len(body.Data.Executions) != 2 {
			t.Fatalf("%s: %d %+v %v", curlURL, resp.StatusCode, body, err)
		}
		for _, e := range body.Data.Executions {
			ids[i] = append(ids[i], e["requestId"])
		}
	}
	if !reflect.DeepEqual(ids[0], ids[1]) {
		t.Errorf("the GetFunctionLogs project shows %v, the CLS project %v", ids[0], ids[1])
	}

	// The exporter in the same process polls through the proxy, on its
	// own interval of the wall clock (real listeners, no bubble): a poll.
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

// A port already taken stops the demo with the flag that chose it.
func TestDemoPortClashNamesTheFlag(t *testing.T) {
	for _, flag := range []string{"--addr", "--admin-addr", "--sim-addr", "--exporter-addr"} {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"demo", "--jwt-secret", demoJWTSecret}
		for _, f := range []string{"--addr", "--admin-addr", "--sim-addr", "--exporter-addr"} {
			addr := "127.0.0.1:0"
			if f == flag {
				addr = taken.Addr().String()
			}
			args = append(args, f, addr)
		}
		var logs, stdout strings.Builder
		code := run(context.Background(), args, &stdout, io.Discard, testLoggerTo("the demo", &logs))
		taken.Close()
		if want := flag + " " + taken.Addr().String() + ": address already in use"; code != 1 || !strings.Contains(logs.String(), want) || stdout.Len() != 0 {
			t.Errorf("%s taken: exit %d, stdout %q, log %q: want 1, no banner and %q", flag, code, stdout.String(), logs.String(), want)
		}
	}
}

// The demo's defaults keep off the ports of the monitoring stack a user
// may run beside it.
func TestDemoDefaultPorts(t *testing.T) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	demoCommand(fs)
	taken := map[string]string{"9090": "Prometheus", "9093": "Alertmanager", "9464": "OpenTelemetry's Prometheus exporter",
		"9000": "php-fpm, MinIO", "3000": "Grafana", "4317": "OTLP/gRPC", "4318": "OTLP/HTTP"}
	seen := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		_, port, err := net.SplitHostPort(f.DefValue)
		if err != nil {
			return
		}
		if who, ok := taken[port]; ok {
			t.Errorf("--%s defaults to %s, %s's port", f.Name, f.DefValue, who)
		}
		if other, ok := seen[port]; ok {
			t.Errorf("--%s and --%s both default to port %s", f.Name, other, port)
		}
		seen[port] = f.Name
	})
	if len(seen) != 4 {
		t.Errorf("found %d default addresses, want 4", len(seen))
	}
}

// The proxy's access-log lines of the demo exporter's own polls stay off
// the terminal unless asked for; a user's requests are still logged.
func TestDemoExporterPollsOffTheTerminal(t *testing.T) {
	for _, shown := range []bool{false, true} {
		t.Run(fmt.Sprintf("--exporter-access-log=%v", shown), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var stdout, logs testenv.SyncBuffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{"demo", "--jwt-secret", demoJWTSecret, "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
					"--sim-addr", "127.0.0.1:0", "--exporter-addr", "127.0.0.1:0", fmt.Sprintf("--exporter-access-log=%v", shown)},
					&stdout, io.Discard, testLoggerTo("the demo", &logs))
			}()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("the demo exited %d", code)
				}
				suiteWitness.See("the stdout of demo", []byte(regexp.MustCompile(`(?m)^ *JWT secret .*$`).ReplaceAllString(stdout.String(), "")))
			}()
			banner := regexp.MustCompile(`proxy metrics +(http://\S+/metrics)(?s:.*)curl -s -H 'Authorization: Bearer ([^']+)' '([^']+)'`)
			m := stdout.WaitFor(t, banner)
			req, _ := http.NewRequest(http.MethodGet, m[3], nil)
			req.Header.Set("Authorization", "Bearer "+m[2])
			req.Header.Set("X-Request-Id", "the-users-own-request")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// Shown, the polls' lines appear; hidden, none has appeared once
			// the proxy has answered several polls (it counts a request just
			// before it logs it: the first polls' lines would be written).
			polled := regexp.MustCompile(`mudscf_http_requests_total\{[^}]*\} (\d+)`)
			// A poll: the demo's exporter polls on its own interval of the
			// wall clock, over real listeners.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				resp, err := http.Get(m[1])
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				n := 0
				for _, c := range polled.FindAllStringSubmatch(string(b), -1) {
					k, _ := strconv.Atoi(c[1])
					n += k
				}
				if shown && strings.Contains(logs.String(), `"request_id":"`+exporterPollPrefix) || !shown && n > 4 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 30s, %d requests answered and the log:\n%s", n, logs.String())
				}
			}
			if !strings.Contains(logs.String(), `"request_id":"the-users-own-request"`) {
				t.Errorf("the user's request was not logged:\n%s", logs.String())
			}
			if got := strings.Contains(logs.String(), `"request_id":"`+exporterPollPrefix); got != shown {
				t.Errorf("the exporter's polls logged: %v, want %v:\n%s", got, shown, logs.String())
			}
		})
	}
}
