package helm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// helmDoc is docs/helm.md, the chart's page.
func helmDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/helm.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDocHelmBlock runs the first sh block of docs/helm.md as written, in a
// directory laid out like the repository's root, with the helm the other
// tests use first on PATH; what it renders must decode as TestTemplate's
// renders do, and its configurations must load.
func TestDocHelmBlock(t *testing.T) {
	_, block, ok := strings.Cut(helmDoc(t), "```sh\n")
	if !ok {
		t.Fatal("docs/helm.md has no sh block")
	}
	block, _, _ = strings.Cut(block, "\n```")
	dir := t.TempDir()
	chart, err := filepath.Abs(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "helm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(chart, filepath.Join(dir, "helm", "mudscf")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(helmBinary(t))+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docs/helm.md's block fails: %v\n%s\n--- the block:\n%s", err, out, block)
	}
	out, err := os.ReadFile(filepath.Join(dir, "mudscf.yaml"))
	if err != nil {
		t.Fatalf("docs/helm.md's block rendered nothing to mudscf.yaml: %v", err)
	}
	r := decodeRendered(t, string(out))
	cm := r.configMaps["mudscf"]
	if cm == nil {
		t.Fatal("docs/helm.md's render has no ConfigMap mudscf")
	}
	cfg, _ := parseProxyConfig(t, cm.Data["proxy.yaml"])
	parseExporterConfig(t, cm.Data["exporter.yaml"])
	if _, ok := cfg.Projects["proj_AsIu33tafZGe"]; ok {
		t.Error("docs/helm.md's values keep the chart's example project")
	}
}

// TestDocsHelmTemplateCommands requires --kube-version on every helm
// template command the README and docs/ show: without it, a helm built
// with go install fails on the chart's kubeVersion.
func TestDocsHelmTemplateCommands(t *testing.T) {
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range append([]string{"../README.md"}, docs...) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		inBlock := false
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "```") {
				inBlock = !inBlock
				continue
			}
			if inBlock && strings.Contains(line, "helm template ") && !strings.Contains(line, "--kube-version") {
				t.Errorf("%s:%d: helm template without --kube-version: %s", doc, i+1, line)
			}
		}
	}
}
