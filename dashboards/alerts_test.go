package dashboards

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mudscf/mudscf/internal/testenv"
)

// promtoolBinary finds promtool (see testenv.Tool).
func promtoolBinary(t *testing.T) string {
	return testenv.Tool(t, "promtool", "Debian: apt-get install prometheus")
}

// TestAlertingRules runs promtool over alerts.yaml: the rules check, and
// alerts_test.yaml's unit tests fire each alert on synthetic series and
// keep it quiet on the neighbouring ones.
func TestAlertingRules(t *testing.T) {
	promtool := promtoolBinary(t)
	for _, args := range [][]string{
		{"check", "rules", "alerts.yaml"},
		{"test", "rules", "alerts_test.yaml"},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// TestEveryAlertTestedAndDocumented requires, for every alert, a severity,
// summary, description and a runbook_url anchor with its paragraph in
// docs/runbook.md, and in alerts_test.yaml an evaluation that expects it to
// fire and one that expects silence.
func TestEveryAlertTestedAndDocumented(t *testing.T) {
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string
				ExpAlerts []any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		}
	}
	readYAML(t, "alerts.yaml", &rules)
	readYAML(t, "alerts_test.yaml", &tests)
	runbookDoc, err := os.ReadFile("../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			fires[a.Alertname] = fires[a.Alertname] || len(a.ExpAlerts) > 0
			quiet[a.Alertname] = quiet[a.Alertname] || len(a.ExpAlerts) == 0
		}
	}
	const runbook = "https://github.com/mudscf/mudscf/blob/main/docs/runbook.md#"
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: for %q, severity %q, summary and description all required", r.Alert, r.For, r.Labels["severity"])
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], runbook)
			if !ok || anchor != strings.ToLower(r.Alert) || !strings.Contains(string(runbookDoc), "\n### "+r.Alert+"\n") {
				t.Errorf("%s: runbook_url %q; want %s%s and a docs/runbook.md heading \"### %s\"", r.Alert, r.Annotations["runbook_url"], runbook, strings.ToLower(r.Alert), r.Alert)
			}
			if !fires[r.Alert] || !quiet[r.Alert] {
				t.Errorf("%s: alerts_test.yaml needs a case that fires it (%v) and one where it does not (%v)", r.Alert, fires[r.Alert], quiet[r.Alert])
			}
		}
	}
	if n == 0 {
		t.Fatal("no alerts in alerts.yaml")
	}
}

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
