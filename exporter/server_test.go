package exporter

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
)

// The metrics server closes a keep-alive connection its scraper left idle.
func TestServerClosesIdleConnections(t *testing.T) {
	e, err := New(fakeConfig(t, "a"), Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{first: time.Now(), every: time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	e.idleTimeout = 100 * time.Millisecond
	testenv.AssertClosesIdle(t, serve(t, e), "/healthz")
}

// serve runs e's Serve on a loopback listener until the test ends, and
// returns its address.
func serve(t *testing.T, e *Exporter) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return l.Addr().String()
}

// The metrics listener serves exporter-toolkit's web configuration: over
// TLS, /metrics and the landing page ask for basic auth, and a scrape
// with the user's credentials gets the metrics; kubelet's probes, which
// carry no credentials, still reach /healthz and /readyz.
func TestMetricsOverTLSWithBasicAuth(t *testing.T) {
	web := testenv.NewWebConfig(t)
	fake := &fakeLogs{first: time.Now().Add(-10 * time.Second), every: time.Second, n: 5}
	e, err := New(fakeConfig(t, "a"), Options{Transport: testenv.HandlerTransport{Handler: fake}, WebConfigFile: web.File})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, e)
	base := "https://" + addr
	get := func(path string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if auth {
			req.SetBasicAuth(web.User, web.Password)
		}
		// The server starts beside the test: a refused connection means
		// not yet (a wall-clock wait of a real listener).
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			resp, err := web.Client.Do(req)
			if err != nil && time.Now().Before(deadline) && strings.Contains(err.Error(), "connection refused") {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
	}
	for _, c := range []struct {
		path string
		auth bool
		want int
	}{
		{"/metrics", false, http.StatusUnauthorized},
		{"/", false, http.StatusUnauthorized},
		{"/metrics", true, http.StatusOK},
		{"/", true, http.StatusOK},
		{"/healthz", false, http.StatusOK},
		{"/readyz", false, 0}, // 200 or 503 by the round, never 401
	} {
		code, body := get(c.path, c.auth)
		if code != c.want && (c.want != 0 || code == http.StatusUnauthorized) {
			t.Errorf("GET %s (credentials %v): %d, want %d: %.200s", c.path, c.auth, code, c.want, body)
		}
		switch {
		case c.path == "/metrics" && code == http.StatusOK && !strings.Contains(body, "mudscf_function_executions_total{"):
			t.Errorf("/metrics over TLS has no executions:\n%.500s", body)
		case c.path == "/" && code == http.StatusOK && !strings.Contains(body, "mudscf exporter"):
			t.Errorf("the landing page does not name the exporter:\n%.500s", body)
		}
	}
	plain := &http.Client{}
	if resp, err := plain.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP answered %d on a TLS listener", resp.StatusCode)
		}
	}
}

// A web configuration that does not load is refused at start, naming the
// file.
func TestBadWebConfigFailsServe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(path, []byte("basic_auth_users:\n  prometheus: not-a-bcrypt-hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := New(fakeConfig(t, "a"), Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{}}, WebConfigFile: path})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serve(t.Context(), l); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Serve: %v, want an error naming %s", err, path)
	}
}
