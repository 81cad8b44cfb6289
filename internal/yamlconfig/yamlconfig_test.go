package yamlconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type testConfig struct {
	Listen   string        `yaml:"listen"`
	Grace    time.Duration `yaml:"grace"`
	Upstream struct {
		Timeout time.Duration `yaml:"timeout"`
		Retries int           `yaml:"retries"`
	} `yaml:"upstream"`
	Functions []struct {
		Name   string `yaml:"name"`
		Memory int    `yaml:"memory"`
	} `yaml:"functions"`
}

// Errors name the key path the user wrote, beside yaml.v3's line number.
func TestDecodeNamesKeyPaths(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "listn: x\n", []string{"config: ", "field listn not found"}},
		{"top level", "grace: 10\n", []string{"grace (line 1): cannot unmarshal !!int `10` into time.Duration"}},
		{"block style", "upstream:\n  timeout: 10 s\n", []string{"upstream.timeout (line 2): cannot unmarshal"}},
		{"flow style", "upstream: {timeout: 10 s}\n", []string{"upstream.timeout (line 1)"}},
		{"flow style, two values", "upstream: {timeout: 1s, retries: many}\n", []string{"upstream (line 1)"}},
		{"in a list", "functions:\n  - name: a\n    memory: lots\n", []string{"functions[0].memory (line 3)"}},
		{"a list for a string", "listen: [1]\n", []string{"listen (line 1): cannot unmarshal !!seq into string"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cfg testConfig
			err := Decode([]byte(c.yaml), &cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadRefusesWhatIsNotAConfigFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero", big, dir} {
		var cfg testConfig
		if err := Load(path, &cfg); err == nil || !strings.HasPrefix(err.Error(), "reading config: ") {
			t.Errorf("%s: got %v, want a refusal", path, err)
		}
	}
}

func TestNest(t *testing.T) {
	err := Nest("projects.p1", Nest("credentials", Errorf("", "needs a key")))
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "projects.p1.credentials" || err.Error() != "projects.p1.credentials: needs a key" {
		t.Errorf("got %v", err)
	}
	if Nest("x", nil) != nil {
		t.Error("Nest of nil is not nil")
	}
	if got := Nest("redis", errors.New("plain")).Error(); got != "redis: plain" {
		t.Errorf("got %q", got)
	}
}
