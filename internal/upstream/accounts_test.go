package upstream

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mudscf/mudscf/internal/upstream/budget"
)

// Accounts are named by alias, never by SecretId: one alias per account,
// one account per alias, and configurations without aliases still work.
func TestAccountAliases(t *testing.T) {
	t.Setenv("POOL_ID_A", "AKIDpoolTestAccountA000000000001")
	t.Setenv("POOL_ID_B", "AKIDpoolTestAccountB000000000001")
	t.Setenv("POOL_KEY", "pool-test-secret-key")
	creds := func(idEnv, alias string) CredentialsConfig {
		return CredentialsConfig{Account: alias, SecretIDEnv: idEnv, SecretKeyEnv: "POOL_KEY"}
	}
	type project struct {
		id    string
		creds CredentialsConfig
	}
	cases := []struct {
		name     string
		projects []project
		want     []string // the alias of each project's account
		err      string
	}{
		{"one account, no alias", []project{{"p1", creds("POOL_ID_A", "")}, {"p2", creds("POOL_ID_A", "")}}, []string{"default", "default"}, ""},
		{"two accounts, no aliases", []project{{"p1", creds("POOL_ID_A", "")}, {"p2", creds("POOL_ID_B", "")}}, []string{"default", "p2"}, ""},
		{"aliases", []project{{"p1", creds("POOL_ID_A", "prod")}, {"p2", creds("POOL_ID_B", "staging")}, {"p3", creds("POOL_ID_A", "")}}, []string{"prod", "staging", "prod"}, ""},
		{"one account, two aliases", []project{{"p1", creds("POOL_ID_A", "prod")}, {"p2", creds("POOL_ID_A", "other")}}, nil, `"other" names an account already named "prod"`},
		{"two accounts, one alias", []project{{"p1", creds("POOL_ID_A", "prod")}, {"p2", creds("POOL_ID_B", "prod")}}, nil, `"prod" already names another account`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := NewAccounts(Options{Upstream: Config{Endpoint: "127.0.0.1:1", Scheme: "http"}, Budget: budget.Config{RequestsPerSecond: 5},
				Registerer: prometheus.NewRegistry()})
			var err error
			var callers []*Caller
			for _, pr := range c.projects {
				var caller *Caller
				if caller, err = a.Caller(pr.id, "ap-guangzhou", pr.creds); err != nil {
					break
				}
				callers = append(callers, caller)
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want an error containing %q", err, c.err)
				}
				if strings.Contains(err.Error(), "AKID") {
					t.Errorf("the error names a SecretId: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, pr := range c.projects {
				if got := callers[i].Account(); got != c.want[i] {
					t.Errorf("project %s: alias %q, want %q", pr.id, got, c.want[i])
				}
			}
		})
	}
}
