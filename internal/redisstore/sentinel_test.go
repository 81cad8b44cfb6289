package redisstore

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mudscf/mudscf/internal/testenv"
)

// The Sentinels' password, whatever its characters, from the environment
// or a file, right or wrong, appears in no error, log line or metric; nor
// does the master's, which the URL carries in Sentinel mode. Right, the
// store finds the master through the Sentinel; wrong, it starts down.
func TestSentinelPasswordNeverShows(t *testing.T) {
	masterPassword := testPasswords[len(testPasswords)-1]
	master := testenv.StartRedisWith(t, "--requirepass", masterPassword)
	masterURL := (&url.URL{Scheme: "redis", User: url.UserPassword("", masterPassword), Host: "mymaster", Path: "/0"}).String()
	const urlEnv, passwordEnv = "MUDSCF_TEST_REDIS_URL", "MUDSCF_TEST_SENTINEL_PASSWORD"
	t.Setenv(urlEnv, masterURL)
	passwordFile := filepath.Join(t.TempDir(), "sentinel-password")
	for i, password := range testPasswords[:len(testPasswords)-1] {
		sentinel := testenv.StartSentinel(t, "mymaster", master, 1,
			"requirepass "+strconv.Quote(password), "sentinel auth-pass mymaster "+strconv.Quote(masterPassword))
		wrong := testPasswords[(i+1)%(len(testPasswords)-1)]
		for _, c := range []struct {
			source, password string
			up               bool
		}{{"env", password, true}, {"file", password, true}, {"env", wrong, false}, {"file", wrong, false}} {
			t.Run(fmt.Sprintf("%d %s up %v", i, c.source, c.up), func(t *testing.T) {
				s := &SentinelConfig{MasterName: "mymaster", Addresses: []string{sentinel.Addr()}}
				if c.source == "env" {
					t.Setenv(passwordEnv, c.password)
					s.PasswordEnv = passwordEnv
				} else {
					if err := os.WriteFile(passwordFile, []byte(c.password+"\n"), 0o600); err != nil {
						t.Fatal(err)
					}
					s.PasswordFile = passwordFile
				}
				cfg := Config{URLEnv: urlEnv, Sentinel: s, Replicas: 1, DialTimeout: time.Second, OpTimeout: time.Second}
				cfg.ApplyDefaults()
				if err := cfg.Validate(5); err != nil {
					t.Fatal(err)
				}
				var log lines
				reg := prometheus.NewRegistry()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				store, err := New(ctx, cfg, testLogger(t.Name(), &log), reg)
				if err != nil {
					t.Fatal(err)
				}
				if store.Up() != c.up {
					t.Errorf("up %v, want %v:\n%s", store.Up(), c.up, log.summary())
				}
				if c.up {
					if err := store.Client().Set(ctx, store.Key("probe"), "x", 0).Err(); err != nil {
						t.Errorf("a write through the Sentinel's master: %v", err)
					}
				}
				for _, out := range []string{log.String(), metricsText(t, reg)} {
					for _, p := range []string{password, wrong, masterPassword} {
						if piece := leak(p, out); piece != "" {
							t.Errorf("%q, a piece of a password, in %s", piece, out)
						}
					}
				}
				if !strings.Contains(log.String(), "master mymaster via sentinel") && c.up {
					t.Errorf("the log does not say which master:\n%s", log.summary())
				}
			})
		}
	}
}
