package dashboards

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	gfdashboard "github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/mudscf/mudscf/internal/testenv"
)

type target struct {
	Expr  string `json:"expr"`
	RefID string `json:"refId"`
}

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
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
	Links  []struct{ Type string } `json:"links"`
	Panels []panel                 `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos     struct{ H, W, X, Y int } `json:"gridPos"`
	Targets     []target                 `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit       string          `json:"unit"`
			Thresholds json.RawMessage `json:"thresholds"`
			Links      []struct {
				URL string `json:"url"`
			} `json:"links"`
		} `json:"defaults"`
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options string `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string `json:"id"`
				Value any    `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Transformations []struct {
		ID      string `json:"id"`
		Options struct {
			ExcludeByName map[string]bool   `json:"excludeByName"`
			RenameByName  map[string]string `json:"renameByName"`
		} `json:"options"`
	} `json:"transformations"`
}

func readAll(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) != 2 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

func load(t *testing.T) map[string]dashboard {
	t.Helper()
	out := map[string]dashboard{}
	for f, b := range readAll(t) {
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = d
	}
	return out
}

// TestFoundationSDKStrict decodes each board with the Grafana Foundation
// SDK's strict decoder: every object of the schema (dashboard, panels,
// field configs, links, annotations, variables), each panel type's options
// and custom field config, and each Prometheus query reject a field the
// schema does not have and report a required one that is missing. The
// schemaVersion must be the one the SDK writes.
func TestFoundationSDKStrict(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for file, b := range readAll(t) {
		// The boards are classic dashboard JSON, what file provisioning and
		// the chart's sidecar load; dashboardv2 is the v2 API's resource.
		var d gfdashboard.Dashboard //nolint:staticcheck // SA1019: see above
		if errs := strictErrors(d.UnmarshalJSONStrict(b)); len(errs) > 0 {
			t.Errorf("%s does not decode strictly into the Grafana Foundation SDK's dashboard:\n%s", file, strings.Join(errs, "\n"))
			continue
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", file, err)
		}
		if want := gfdashboard.NewDashboard().SchemaVersion; d.SchemaVersion != want {
			t.Errorf("%s: schemaVersion %d, the SDK's is %d", file, d.SchemaVersion, want)
		}
	}
}

// strictErrors flattens what UnmarshalJSONStrict returns: a BuildErrors,
// which is a non-nil error even when empty.
func strictErrors(err error) []string {
	var build cog.BuildErrors
	if !errors.As(err, &build) {
		if err != nil {
			return []string{err.Error()}
		}
		return nil
	}
	var out []string
	for _, e := range build {
		out = append(out, e.Error())
	}
	return out
}

func TestDashboardStructure(t *testing.T) {
	uids := map[string]bool{}
	for file, d := range load(t) {
		if d.UID == "" || uids[d.UID] || d.Title == "" {
			t.Errorf("%s: uid %q, title %q", file, d.UID, d.Title)
		}
		uids[d.UID] = true
		vars := map[string]string{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v.Type
		}
		for name, typ := range map[string]string{"datasource": "datasource", "namespace": "query", "job": "query", "project": "query", "function": "query"} {
			if vars[name] != typ {
				t.Errorf("%s: variables %v; want a %s variable %q", file, vars, typ, name)
			}
		}
		// A variable reads one named metric: a selector on __name__ alone
		// makes Prometheus scan every series it has.
		for _, v := range d.Templating.List {
			if v.Type == "query" && !oneMetric.MatchString(v.Definition) {
				t.Errorf("%s: variable %s: %q does not read one named metric", file, v.Name, v.Definition)
			}
		}
		if !slices.ContainsFunc(d.Links, func(l struct{ Type string }) bool { return l.Type == "dashboards" }) {
			t.Errorf("%s: no link to the other mudscf dashboards", file)
		}
		var annotations []string
		for _, a := range d.Annotations.List {
			annotations = append(annotations, a.Expr)
		}
		for _, metric := range []string{"mudscf_upstream_breaker_transitions_total", "mudscf_redis_fallbacks_total"} {
			if !slices.ContainsFunc(annotations, func(e string) bool { return strings.Contains(e, metric) }) {
				t.Errorf("%s: no annotation from %s", file, metric)
			}
		}
		traceLinks := 0
		ids := map[int]bool{}
		for _, p := range d.Panels {
			for _, l := range p.FieldConfig.Defaults.Links {
				if strings.Contains(l.URL, "${traces}") {
					traceLinks++
				}
			}
			if ids[p.ID] || p.Title == "" || p.Datasource.UID != "${datasource}" || p.GridPos.W == 0 || p.GridPos.H == 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("%s: panel %d %q is malformed (duplicate id, no title, fixed datasource or bad gridPos)", file, p.ID, p.Title)
			}
			ids[p.ID] = true
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", file, p.Title)
			}
			if p.FieldConfig.Defaults.Unit == "" || len(p.FieldConfig.Defaults.Thresholds) == 0 {
				t.Errorf("%s: panel %q has no unit or no thresholds", file, p.Title)
			}
			if p.Type == "table" {
				checkColumnUnits(t, file, p)
			}
		}
		if d.UID == "mudscf-functions" && (traceLinks == 0 || vars["traces"] != "datasource") {
			t.Errorf("%s: %d data links to ${traces}, traces variable %q: want links from the function panels to a trace data source", file, traceLinks, vars["traces"])
		}
	}
}

// oneMetric is label_values over one metric named outright.
var oneMetric = regexp.MustCompile(`^label_values\([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?,\s*\w+\)$`)

// checkColumnUnits requires a unit override for every column a table
// shows under a name of its own: Grafana would otherwise show durations and
// ratios as bare numbers.
func checkColumnUnits(t *testing.T, file string, p panel) {
	t.Helper()
	units := map[string]bool{}
	for _, o := range p.FieldConfig.Overrides {
		for _, prop := range o.Properties {
			units[o.Matcher.Options] = units[o.Matcher.Options] || (o.Matcher.ID == "byName" && prop.ID == "unit")
		}
	}
	columns := 0
	for _, tr := range p.Transformations {
		for from, to := range tr.Options.RenameByName {
			if tr.Options.ExcludeByName[from] {
				continue
			}
			columns++
			if !units[to] {
				t.Errorf("%s: table %q shows column %q without a unit", file, p.Title, to)
			}
		}
	}
	if columns == 0 {
		t.Errorf("%s: table %q names no columns (an organize transformation with renameByName)", file, p.Title)
	}
}

// notInDemo are metrics the demo never has: it runs without Redis. Their
// queries must parse and honour the variables.
var notInDemo = []string{"mudscf_redis_up", "mudscf_redis_fallbacks_total"}

// mayBeEmpty says why a query need not return data, or "".
func mayBeEmpty(expr string) string {
	for _, m := range notInDemo {
		if strings.Contains(expr, m) {
			return m + " is not in the demo"
		}
	}
	return ""
}

// The values the test gives the variables: what a ServiceMonitor's
// targets carry (the demo's scrape config adds the namespace label), and
// values no target has, under which every query must return nothing.
var (
	realVars  = map[string]string{"namespace": "obs", "job": "(mudscf-proxy|mudscf-exporter)"}
	elsewhere = map[string]string{"namespace": "elsewhere", "job": "(mudscf-proxy|mudscf-exporter)"}
	otherJob  = map[string]string{"namespace": "obs", "job": "other"}
)

// expand substitutes Grafana's variables the way a dashboard showing all
// projects and functions over the last five minutes would.
func expand(expr string, vars map[string]string) string {
	return strings.NewReplacer(
		"$__rate_interval", "30s", "$__interval", "15s", "$__range_s", "300", "$__range", "5m",
		"${project}", ".*", "$project", ".*", "${function}", ".*", "$function", ".*",
		"${namespace}", vars["namespace"], "$namespace", vars["namespace"], "${job}", vars["job"], "$job", vars["job"],
	).Replace(expr)
}

// Every panel's, annotation's and variable's query, run by a real
// Prometheus scraping a real demo, parses, returns data (unless listed in
// notInDemo; annotations mark rare events) with the variables
// set to real values, and returns nothing with another namespace or job:
// so every query honours both variables.
func TestPanelsAgainstPrometheus(t *testing.T) {
	prometheus := testenv.Tool(t, "prometheus", "Debian: apt-get install prometheus")
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
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	promAddr := freeAddr(t)
	// The namespace label stands in for the one Kubernetes service
	// discovery gives every target.
	rules, err := filepath.Abs("alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The rules too: panels read the recording rule's series.
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: mudscf-proxy
    static_configs: [{targets: [%q], labels: {namespace: %s}}]
  - job_name: mudscf-exporter
    static_configs: [{targets: [%q], labels: {namespace: %s}}]
`, rules, adminAddr, realVars["namespace"], exporterAddr, realVars["namespace"])
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, prometheus, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	api := "http://" + promAddr

	// Wait for both targets, the exporter's first executions and the
	// recording rule's first cost (the proxy's memory sizes come from
	// GetFunction).
	ready := func() bool {
		r, err := query(api, `count(up == 1) == 2 and count(mudscf_function_executions_total) > 0 and count(mudscf_http_requests_total) > 0 and count(project_function:mudscf_function_billed_byte_seconds:rate5m) > 0`)
		return err == nil && len(r) > 0
	}
	// A poll: Prometheus scrapes and evaluates on its own clock, in a
	// process of its own.
	for deadline := time.Now().Add(60 * time.Second); !ready(); time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus did not see both targets, exported executions and their cost within 60s")
		}
	}
	time.Sleep(5 * time.Second) // a few more scrapes, so rates have samples: Prometheus scrapes on the wall clock

	type check struct{ file, what, expr, emptyOK string }
	var checks []check
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
			checks = append(checks, check{file, "variable " + v.Name, "count by (" + mm[2] + ") (" + mm[1] + ")", ""})
		}
		for _, a := range d.Annotations.List {
			checks = append(checks, check{file, "annotation " + a.Name, a.Expr, "marks rare events"})
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				checks = append(checks, check{file, fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), tg.Expr, mayBeEmpty(tg.Expr)})
			}
		}
	}
	for _, c := range checks {
		r, err := query(api, expand(c.expr, realVars))
		switch {
		case err != nil:
			t.Errorf("%s: %s: %v", c.file, c.what, err)
			continue
		case len(r) == 0 && c.emptyOK == "":
			t.Errorf("%s: %s returned no data: %s", c.file, c.what, expand(c.expr, realVars))
		case len(r) == 0:
			t.Logf("%s: %s: no data (%s)", c.file, c.what, c.emptyOK)
		}
		// The namespace and job variables list what the others select by.
		negatives := map[string][]map[string]string{"variable namespace": nil, "variable job": {elsewhere}}
		others, ok := negatives[c.what]
		if !ok {
			others = []map[string]string{elsewhere, otherJob}
		}
		for _, vars := range others {
			if r, err := query(api, expand(c.expr, vars)); err != nil || len(r) > 0 {
				t.Errorf("%s: %s ignores the namespace or job variable: %s returned %d series (%v)", c.file, c.what, expand(c.expr, vars), len(r), err)
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

type process struct{ out testenv.SyncBuffer }

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
			fmt.Fprintln(&p.out, sc.Text())
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
	return p.out.WaitFor(t, re)
}
