package redisstore

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/testenv"
)

// testPasswords are Redis passwords with each character that cuts a URL
// into pieces, and no word of four letters (the witness watches every run
// of four characters of each).
var testPasswords = []string{
	"Zq7x/K9wMv", // net/url: invalid port ":Zq7x" after host
	"80/Mv3qTw",  // parses as a port, then the path is the rest (two digits: no run of four could be a number or a port)
	"Rt5x?Jw2kQ", // the rest is a query
	"Hy6v#Pn4sL", // the rest is a fragment: the parser's error quotes the URL up to it
	"Fb3w@Wc8vX", // parses: the last '@' ends the user info
	"Gd2k:Km7rN", // parses: the first ':' ends the user name
	"7/Lp4x?Tx6y#Qe9z@Vz2w:Sk",
}

// leak is the first run of four characters of password found in out.
func leak(password, out string) string {
	for i := 0; i+4 <= len(password); i++ {
		if strings.Contains(out, password[i:i+4]) {
			return password[i : i+4]
		}
	}
	return ""
}

// requirePassword makes r require password, from now on.
func requirePassword(t *testing.T, r *testenv.Redis, current, password string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), Password: current, MaxRetries: -1})
	defer c.Close()
	if err := c.ConfigSet(context.Background(), "requirepass", password).Err(); err != nil {
		t.Fatal(err)
	}
}

// A Redis password, whatever its characters, appears in no error, log line
// or metric, from any of the three places a URL may come from (issue 15.2):
// a URL that does not parse is refused with the reason alone, and one
// that does connects with it.
func TestURLPasswordNeverShows(t *testing.T) {
	r := testenv.StartRedis(t)
	urlFile := filepath.Join(t.TempDir(), "url")
	const urlEnv = "MUDSCF_TEST_REDIS_URL"
	sources := []struct {
		name   string
		config func(u string) Config
	}{
		{"url", func(u string) Config { return Config{URL: u} }},
		{"urlEnv", func(u string) Config { t.Setenv(urlEnv, u); return Config{URLEnv: urlEnv} }},
		{"urlFile", func(u string) Config {
			if err := os.WriteFile(urlFile, []byte(u+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return Config{URLFile: urlFile}
		}},
	}
	current := ""
	for i, password := range testPasswords {
		requirePassword(t, r, current, password)
		current = password
		wrong := testPasswords[(i+1)%len(testPasswords)]
		encoded := func(p string) string {
			return (&url.URL{Scheme: "redis", User: url.UserPassword("", p), Host: r.Addr(), Path: "/0"}).String()
		}
		urls := []struct {
			name   string
			url    string
			parses bool
			up     bool
		}{
			{"as typed", "redis://:" + password + "@" + r.Addr() + "/0", !strings.ContainsAny(password, "/?#"), true},
			{"percent-encoded", encoded(password), true, true},
			{"percent-encoded, wrong", encoded(wrong), true, false},
		}
		for _, u := range urls {
			for _, src := range sources {
				t.Run(fmt.Sprintf("%d %s %s", i, u.name, src.name), func(t *testing.T) {
					var out []string
					cfg := src.config(u.url)
					cfg.Replicas = 1
					cfg.ApplyDefaults()
					verr := cfg.Validate(5)
					if verr != nil {
						out = append(out, verr.Error())
					}
					if (verr == nil) != (u.parses || src.name != "url") {
						t.Errorf("Validate: %v, want an error: %v", verr, !u.parses)
					}
					var log lines
					reg := prometheus.NewRegistry()
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					s, err := New(ctx, cfg, testLogger(t.Name(), &log), reg)
					switch {
					case err != nil:
						out = append(out, err.Error())
						suiteWitness.SeeErr(t.Name(), err)
						if u.parses || !strings.Contains(err.Error(), "not a redis:// or rediss:// URL") {
							t.Errorf("New: %v", err)
						}
					case !u.parses:
						t.Error("New accepted a URL that does not parse")
					case s.Up() != u.up:
						t.Errorf("up %v, want %v:\n%s", s.Up(), u.up, log.summary())
					}
					suiteWitness.SeeErr(t.Name(), verr)
					metrics := metricsText(t, reg)
					if err == nil && !strings.Contains(metrics, "mudscf_redis_up") {
						t.Errorf("the metrics scanned are not the store's:\n%s", metrics)
					}
					out = append(out, log.String(), metrics)
					for _, o := range out {
						if piece := leak(password, o); piece != "" {
							t.Errorf("%q, a piece of the password, in %s", piece, o)
						}
						if piece := leak(wrong, o); piece != "" && !u.up {
							t.Errorf("%q, a piece of the password sent, in %s", piece, o)
						}
					}
				})
			}
		}
	}
}

// metricsText is what reg exposes, as the text format, read by the witness.
func metricsText(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Fatal(err)
		}
	}
	suiteWitness.See(t.Name()+" metrics", []byte(text.String()))
	return text.String()
}
