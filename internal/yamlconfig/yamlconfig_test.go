package yamlconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

type testConfig struct {
	Listen   string        `yaml:"listen"`
	Grace    time.Duration `yaml:"grace"`
	Verbose  bool          `yaml:"verbose"`
	Upstream struct {
		Timeout time.Duration `yaml:"timeout"`
		Retries int           `yaml:"retries"`
	} `yaml:"upstream"`
	Functions []struct {
		Name   string `yaml:"name"`
		Memory int    `yaml:"memory"`
	} `yaml:"functions"`
	Projects map[string]struct {
		Region      string `yaml:"region"`
		Credentials struct {
			SecretIDEnv  string `yaml:"secretIdEnv"`
			SecretIDFile string `yaml:"secretIdFile"`
		} `yaml:"credentials"`
	} `yaml:"projects"`
	Redis *struct {
		URL string `yaml:"url"`
	} `yaml:"redis"`
}

// Every problem of a file is named by the key path and line the user
// wrote, says what is wrong and what is allowed, and never names a Go type
// (yaml's own "field pageTtl not found in type proxy.CacheConfig").
func TestDecodeNamesKeyPaths(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // the lines of the error, after "config: "
	}{
		{"unknown key, a typo", "listn: x\n",
			[]string{"listn (line 1): unknown key; did you mean listen? allowed: listen, grace, verbose, upstream, functions, projects, redis"}},
		{"unknown key, the case", "upstream:\n  timeOut: 1s\n",
			[]string{"upstream.timeOut (line 2): unknown key; did you mean timeout? allowed: timeout, retries"}},
		{"unknown key, the start of two", "projects:\n  p1:\n    credentials: {secretId: AKID}\n",
			[]string{"projects.p1.credentials.secretId (line 3): unknown key; did you mean secretIdEnv or secretIdFile? allowed: secretIdEnv, secretIdFile"}},
		{"unknown key, nothing near", "redis: {password: hunter2}\n",
			[]string{"redis.password (line 1): unknown key; allowed: url"}},
		{"a number for a duration", "grace: 10\n", []string{"grace (line 1): 10 is not a duration: give its unit, e.g. 10s"}},
		{"a bad duration", "upstream:\n  timeout: 10 s\n",
			[]string{`upstream.timeout (line 2): "10 s" is not a duration: a number and a unit, e.g. 30s, 1m30s or 500ms`}},
		{"flow style", "upstream: {timeout: 1s, retries: many}\n", []string{`upstream.retries (line 1): "many" is not a whole number`}},
		{"in a list", "functions:\n  - name: a\n    memory: lots\n", []string{`functions[0].memory (line 3): "lots" is not a whole number`}},
		{"not a boolean", "verbose: sometimes\n", []string{`verbose (line 1): "sometimes" is not true or false`}},
		{"a list for a string", "listen: [1]\n", []string{"listen (line 1): expected a single value; got a list"}},
		{"a list for a block", "upstream: [1]\n", []string{"upstream (line 1): expected a mapping with the keys timeout, retries; got a list"}},
		{"a value for a list", "functions: f1\n", []string{"functions (line 1): expected a list ([a, b], or one '- item' per line); got a single value"}},
		{"a list for a map", "projects: [p1]\n", []string{"projects (line 1): expected a mapping (name: value, one per line or in {}); got a list"}},
		{"a key twice", "listen: a\ngrace: 1s\nlisten: b\n", []string{"listen (line 3): given twice (first on line 1): keep one"}},
		{"not YAML", "listen: a\n\tgrace: 1s\n", []string{"line 2: not valid YAML: found a tab character that violates indentation"}},
		{"every problem, in file order", "listn: x\ngrace: 10\nupstream: {retries: many}\n", []string{
			"listn (line 1): unknown key; did you mean listen?",
			"grace (line 2): 10 is not a duration",
			`upstream.retries (line 3): "many" is not a whole number`,
		}},
		{"a merged block", "base: &b {timeout: 1s}\nupstream:\n  <<: *b\n  retries: x\n", []string{
			"base (line 1): unknown key;",
			`upstream.retries (line 4): "x" is not a whole number`,
		}},
		{"a long value, cut short", "grace: " + strings.Repeat("9", 60) + "x\n",
			[]string{`grace (line 1): "` + strings.Repeat("9", 40) + `…" is not a duration`}},
	}
	goTypes := regexp.MustCompile(`!!|time\.Duration|int64|\bint\b|string\]|map\[|struct|yamlconfig\.|field \w+ not found|unmarshal`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cfg testConfig
			err := Decode([]byte(c.yaml), &cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			lines := strings.Split(strings.TrimPrefix(msg, "config: "), "\n")
			if !strings.HasPrefix(msg, "config: ") || len(lines) != len(c.want) {
				t.Fatalf("got %q, want %d lines after \"config: \"", msg, len(c.want))
			}
			for i, w := range c.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d: got %q, want it to start with %q", i+1, lines[i], w)
				}
			}
			if m := goTypes.FindString(msg); m != "" {
				t.Errorf("%q names a Go type or yaml's internals (%q)", msg, m)
			}
			if len(KeyErrors(err)) != len(c.want) {
				t.Errorf("KeyErrors found %d, want %d", len(KeyErrors(err)), len(c.want))
			}
		})
	}
}

// A value in the wrong place is never quoted where it could be a secret
// (a SecretKey pasted where a block belongs); only values that should
// have been numbers, durations or booleans are.
func TestDecodeQuotesNoMisplacedValue(t *testing.T) {
	for _, y := range []string{"upstream: hunter2\n", "functions: hunter2\n", "projects: hunter2\n", "projects: {p1: {credentials: hunter2}}\n"} {
		var cfg testConfig
		err := Decode([]byte(y), &cfg)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: got %v, want a refusal that does not quote the value", y, err)
		}
	}
}

// What yaml accepts is accepted: null values, aliases, merges, empty files.
func TestDecodeAccepts(t *testing.T) {
	for _, y := range []string{"", "listen:\n", "listen: ~\nupstream:\n", "functions: []\n", "grace: 1m30s\nverbose: true\n",
		"projects:\n  p1: {region: r}\n  p2: {region: r}\n", "redis: {url: redis://x}\n",
		"upstream: &u {timeout: 1s}\nprojects: {p1: {region: r}}\n"} {
		var cfg testConfig
		if err := Decode([]byte(y), &cfg); err != nil {
			t.Errorf("%q: %v", y, err)
		}
	}
}

// Validators name key paths but never see the file: Locate adds the line
// where the file writes the key, and none where it does not.
func TestLocate(t *testing.T) {
	src := []byte("listen: x\nprojects:\n  proj.a:\n    region: r\n    credentials: {secretIdEnv: A}\nfunctions:\n  - name: f\n")
	cases := []struct {
		err  error
		want string
	}{
		{Nest("projects.proj.a", Errorf("region", "bad")), "projects.proj.a.region (line 4): bad"},
		{Nest("projects.proj.a", Nest("credentials", Errorf("", "needs a key"))), "projects.proj.a.credentials (line 5): needs a key"},
		{Errorf("functions[0].name", "bad"), "functions[0].name (line 7): bad"},
		{Errorf("functions[0]", "bad"), "functions[0] (line 7): bad"},
		{Errorf("grace", "must be positive"), "grace: must be positive"},
		{Errorf("projects.proj.a.namespace", "bad"), "projects.proj.a.namespace: bad"},
		{&KeyError{Key: "listen", Line: 9, Reason: "kept"}, "listen (line 9): kept"},
	}
	for _, c := range cases {
		if got := Locate(src, fmt.Errorf("config: %w", c.err)); got.Error() != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	plain := errors.New("not a key error")
	if Locate(src, plain) != plain || Locate(src, nil) != nil { //nolint:errorlint // the very same error, unwrapped
		t.Error("Locate changed an error without a KeyError")
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
