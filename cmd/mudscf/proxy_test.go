package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mudscf/mudscf/internal/testenv"
)

// mudscf proxy --web.config.file: the admin listener serves HTTPS with
// basic auth, kubelet's probes still reach /healthz and /readyz without
// credentials, and a web configuration that cannot work stops the proxy
// before it listens, naming the flag.
func TestProxyWebConfigFile(t *testing.T) {
	t.Setenv("TEST_PROXY_JWT_SECRET", proxyJWTSecret)
	t.Setenv("TEST_PROXY_ID", "AKIDx")
	t.Setenv("TEST_PROXY_KEY", proxySecretKey)
	web := testenv.NewWebConfig(t)
	m := startSubcommand(t, regexp.MustCompile(`metrics and health on (127\.0\.0\.1:\d+) \(web configuration `+regexp.QuoteMeta(web.File)+`\)`),
		"proxy", "--config", proxyConfigFile(t, "0", "TEST_PROXY_JWT_SECRET"), "--web.config.file", web.File)
	client := &http.Client{Transport: suiteWitness.Transport(web.Client.Transport)}
	for _, c := range []struct {
		path        string
		credentials bool
		want        int
	}{
		{"/healthz", false, http.StatusOK},
		{"/readyz", false, http.StatusOK},
		{"/metrics", false, http.StatusUnauthorized},
		{"/metrics", true, http.StatusOK},
	} {
		req, err := http.NewRequest(http.MethodGet, "https://"+m[1]+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.credentials {
			req.SetBasicAuth(web.User, web.Password)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s (credentials: %v): %d, want %d", c.path, c.credentials, resp.StatusCode, c.want)
		}
	}

	plainPassword := filepath.Join(t.TempDir(), "web-config.yml")
	if err := os.WriteFile(plainPassword, []byte("basic_auth_users:\n  prometheus: not-a-bcrypt-hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"a password where a bcrypt hash goes", []string{"--web.config.file", plainPassword}, "--web.config.file " + plainPassword + ": "},
		{"no such file", []string{"--web.config.file", web.File + ".missing"}, "--web.config.file " + web.File + ".missing: "},
		{"the admin port taken", []string{"--web.config.file", web.File, "--admin-listen", taken.Addr().String()},
			"adminListen " + taken.Addr().String() + ": address already in use"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, logs testenv.SyncBuffer
			args := append([]string{"proxy", "--config", proxyConfigFile(t, "0", "TEST_PROXY_JWT_SECRET")}, c.args...)
			code := run(context.Background(), args, &stdout, io.Discard, testLoggerTo("the proxy's log", &logs))
			if code != 1 || stdout.String() != "" || !strings.Contains(logs.String(), c.want) {
				t.Errorf("exit %d, stdout %q, log %q: want 1, no banner and %q", code, stdout.String(), logs.String(), c.want)
			}
		})
	}
}
