package dashboards

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name, Type string
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
}

func load(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) != 2 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = d
	}
	return out
}

func TestDashboardStructure(t *testing.T) {
	uids := map[string]bool{}
	for file, d := range load(t) {
		if d.UID == "" || uids[d.UID] || d.Title == "" || d.SchemaVersion < 36 {
			t.Errorf("%s: uid %q, title %q, schemaVersion %d", file, d.UID, d.Title, d.SchemaVersion)
		}
		uids[d.UID] = true
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v.Type
		}
		if vars["datasource"] != "datasource" || vars["project"] != "query" || vars["function"] != "query" {
			t.Errorf("%s: variables %v; want a datasource variable and project and function variables", file, vars)
		}
		ids := map[int]bool{}
		for _, p := range d.Panels {
			if ids[p.ID] || p.Title == "" || p.Datasource.UID != "${datasource}" || p.GridPos.W == 0 || p.GridPos.H == 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("%s: panel %d %q is malformed (duplicate id, no title, fixed datasource or bad gridPos)", file, p.ID, p.Title)
			}
			ids[p.ID] = true
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, p.Title)
			}
		}
	}
}

// expand substitutes Grafana's variables the way a dashboard showing all
// projects and functions over the last five minutes would.
func expand(expr string) string {
	return strings.NewReplacer(
		"$__rate_interval", "30s", "$__interval", "15s", "$__range", "5m",
		"${project}", ".*", "$project", ".*", "${function}", ".*", "$function", ".*",
	).Replace(expr)
}

// Every panel's query, run by a real Prometheus scraping a real demo,
// parses and returns data; so does every variable's.
func TestPanelsAgainstPrometheus(t *testing.T) {
	prometheus, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus is missing in CI: .ci/run must install Debian's prometheus package")
		}
		t.Skip("prometheus is not installed (apt-get install prometheus; .ci/run installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mudscf")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mudscf").CombinedOutput(); err != nil {
		t.Fatalf("building mudscf: %v\n%s", err, out)
	}

	demo := start(t, bin, "demo", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--sim-addr", "127.0.0.1:0", "--exporter-addr", "127.0.0.1:0")
	m := demo.waitFor(t, regexp.MustCompile(`(?s)proxy metrics +http://(\S+)/metrics.*exporter +http://(\S+)/metrics.*curl -s -H 'Authorization: Bearer ([^']+)' '([^']+)'`))
	adminAddr, exporterAddr, token, logsURL := m[1], m[2], m[3], m[4]
	// Some client traffic: misses, then hits.
	for range 5 {
		req, _ := http.NewRequest(http.MethodGet, logsURL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	promAddr := freeAddr(t)
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: mudscf-proxy
    static_configs: [{targets: [%q]}]
  - job_name: mudscf-exporter
    static_configs: [{targets: [%q]}]
`, adminAddr, exporterAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	api := "http://" + promAddr

	// Wait for both targets and for the exporter's first executions.
	ready := func() bool {
		r, err := query(api, `count(up == 1) == 2 and count(mudscf_function_executions_total) > 0 and count(mudscf_http_requests_total) > 0`)
		return err == nil && len(r) > 0
	}
	for deadline := time.Now().Add(60 * time.Second); !ready(); time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus did not see both targets and exported executions within 60s")
		}
	}
	time.Sleep(5 * time.Second) // a few more scrapes, so rates have samples

	for file, d := range load(t) {
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			mm := regexp.MustCompile(`^label_values\((.*),\s*(\w+)\)$`).FindStringSubmatch(v.Definition)
			if mm == nil {
				t.Errorf("%s: variable %s: %q is not label_values(metric, label)", file, v.Name, v.Definition)
				continue
			}
			if r, err := query(api, "count by ("+mm[2]+") ("+expand(mm[1])+")"); err != nil || len(r) == 0 {
				t.Errorf("%s: variable %s has no values (%v)", file, v.Name, err)
			}
		}
		for _, p := range d.Panels {
			for _, target := range p.Targets {
				r, err := query(api, expand(target.Expr))
				if err != nil {
					t.Errorf("%s: panel %q query %s: %v", file, p.Title, target.RefID, err)
				} else if len(r) == 0 {
					t.Errorf("%s: panel %q query %s returned no data: %s", file, p.Title, target.RefID, expand(target.Expr))
				}
			}
		}
	}
}

func query(api, expr string) ([]json.RawMessage, error) {
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct{ Result []json.RawMessage }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("%s: %s", body.Status, body.Error)
	}
	return body.Data.Result, nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type process struct {
	mu  sync.Mutex
	out strings.Builder
}

// start runs a command until the test ends, collecting its stdout.
func start(t *testing.T, name string, args ...string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = cmd.Wait()
	})
	return p
}

func (p *process) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		p.mu.Lock()
		m := re.FindStringSubmatch(p.out.String())
		p.mu.Unlock()
		if m != nil {
			return m
		}
	}
	t.Fatalf("no %s in the output", re)
	return nil
}
