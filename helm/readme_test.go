package helm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeHelmSection is the README's Helm chart section.
func readmeHelmSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Helm chart")
	if !ok {
		t.Fatal("README.md has no '## Helm chart' section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// TestReadmeHelmBlock runs the first sh block of the README's Helm section
// as written, in a directory laid out like the repository's root, with the
// helm the other tests use first on PATH; what it renders must decode as
// TestTemplate's renders do, and its configurations must load.
func TestReadmeHelmBlock(t *testing.T) {
	_, block, ok := strings.Cut(readmeHelmSection(t), "```sh\n")
	if !ok {
		t.Fatal("the Helm section has no sh block")
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
		t.Fatalf("the README's Helm block fails: %v\n%s\n--- the block:\n%s", err, out, block)
	}
	out, err := os.ReadFile(filepath.Join(dir, "mudscf.yaml"))
	if err != nil {
		t.Fatalf("the README's Helm block rendered nothing to mudscf.yaml: %v", err)
	}
	r := decodeRendered(t, string(out))
	cm := r.configMaps["mudscf"]
	if cm == nil {
		t.Fatal("the README's render has no ConfigMap mudscf")
	}
	cfg, _ := parseProxyConfig(t, cm.Data["proxy.yaml"])
	parseExporterConfig(t, cm.Data["exporter.yaml"])
	if _, ok := cfg.Projects["proj_AsIu33tafZGe"]; ok {
		t.Error("the README's values keep the chart's example project")
	}
}

// TestReadmeHelmTemplateCommands requires --kube-version on every helm
// template command the README shows: without it, a helm built with go
// install fails on the chart's kubeVersion.
func TestReadmeHelmTemplateCommands(t *testing.T) {
	b, err := os.ReadFile("../README.md")
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
			t.Errorf("README.md:%d: helm template without --kube-version: %s", i+1, line)
		}
	}
}
