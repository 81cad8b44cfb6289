package proxy

import (
	"os"
	"strings"
	"testing"
)

// The example the README points to stays valid.
func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := LoadConfig("../examples/proxy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Projects["proj_AsIu33tafZGe"]; p.Functions["MVPQVsgjuHBlvWFB"].Name != "APITest" || cfg.Budget.RequestsPerSecond != 5 {
		t.Errorf("parsed %+v", cfg)
	}
}

// The example's commented-out redis block is valid once uncommented.
func TestExampleRedisBlockIsValid(t *testing.T) {
	b, err := os.ReadFile("../examples/proxy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case line == "# redis:":
			in = true
			line = "redis:"
		case in && strings.HasPrefix(line, "#   #"):
			continue // the alternatives to urlEnv
		case in && strings.HasPrefix(line, "#"):
			line = strings.TrimPrefix(line, "#")
		default:
			in = false
		}
		out = append(out, line)
	}
	cfg, err := ParseConfig([]byte(strings.Join(out, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Redis == nil || cfg.Redis.URLEnv != "MUDSCF_REDIS_URL" || cfg.Redis.Replicas != 3 {
		t.Errorf("parsed %+v", cfg.Redis)
	}
}
