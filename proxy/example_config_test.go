package proxy

import "testing"

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
