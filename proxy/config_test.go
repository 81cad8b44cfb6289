package proxy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/internal/upstream/budget"
)

const fullConfigYAML = `
listen: "127.0.0.1:18080"
adminListen: "127.0.0.1:19090"
timezone: Europe/Berlin
drainDelay: 3s
shutdownGrace: 25s
writeTimeout: 45s
logLevel: debug
upstream:
  endpoint: scf.intl.tencentcloudapi.com
  scheme: http
  timeout: 3500ms
  breaker: {failures: 3, openFor: 2s}
jwt:
  algorithms: [HS256, RS256, ES256]
  secretFile: /etc/mudscf/jwt-secret
  jwksURL: https://auth.example.com/.well-known/jwks.json
  issuer: https://auth.example.com
  audience: mudscf
  leeway: 1m
  projectsClaim: mb_projects
  rolesClaim: grants
  backgroundRole: exporter
cache:
  pageTTL: 5s
  statsTTL: 1m
  staleMaxAge: 30m
  maxBytes: 2097152
  windowAlign: 15s
  staleWhileRevalidate: 20s
budget:
  requestsPerSecond: 3
  margin: 50ms
  maxWait: 500ms
  backoff: 3s
  weights: {proj_AsIu33tafZGe: 3}
projects:
  proj_AsIu33tafZGe:
    region: ap-guangzhou
    namespace: prod
    credentials:
      secretIdEnv: TC_ID
      secretKeyEnv: TC_KEY
      tokenEnv: TC_TOKEN
    readers:
      subjects: [usr_morgan_de, usr_sam]
      roles: [admin]
    functions:
      MVPQVsgjuHBlvWFB: {name: APITest}
      65a4f0c2e4b0a1b2c3d4e5f6: {name: orders-webhook, qualifier: "$LATEST"}
    functionIdAsName: false
  proj-files:
    region: ap-singapore
    credentials:
      secretIdFile: /run/secrets/id
      secretKeyFile: /run/secrets/key
      tokenFile: /run/secrets/token
    functionIdAsName: true
`

func TestConfigParseFull(t *testing.T) {
	cfg, err := ParseConfig([]byte(fullConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listen: "127.0.0.1:18080", AdminListen: "127.0.0.1:19090", Timezone: "Europe/Berlin",
		DrainDelay: new(3 * time.Second), ShutdownGrace: 25 * time.Second, WriteTimeout: 45 * time.Second, LogLevel: "debug",
		Upstream: upstream.Config{Endpoint: "scf.intl.tencentcloudapi.com", CLSEndpoint: upstream.DefaultCLSEndpoint, Scheme: "http", Timeout: 3500 * time.Millisecond, MaxCallsPerPage: 12,
			Breaker: upstream.BreakerConfig{Failures: 3, OpenFor: 2 * time.Second}},
		JWT: jwtauth.Config{
			Algorithms: []string{"HS256", "RS256", "ES256"}, SecretFile: "/etc/mudscf/jwt-secret",
			JWKSURL: "https://auth.example.com/.well-known/jwks.json", Issuer: "https://auth.example.com", Audience: "mudscf",
			Leeway: time.Minute, ProjectsClaim: "mb_projects", RolesClaim: "grants", BackgroundRole: "exporter",
		},
		Cache: CacheConfig{PageTTL: 5 * time.Second, StatsTTL: time.Minute, StaleMaxAge: 30 * time.Minute,
			StaleWhileRevalidate: 20 * time.Second, MaxBytes: 2 << 20, WindowAlign: 15 * time.Second},
		Budget: budget.Config{RequestsPerSecond: 3, Margin: 50 * time.Millisecond, MaxWait: 500 * time.Millisecond, Backoff: 3 * time.Second,
			Weights: budget.Weights{"proj_AsIu33tafZGe": 3}},
		ProjectExecutions: ProjectExecutionsConfig{TopicShare: 3},
		Projects: map[string]ProjectConfig{
			"proj_AsIu33tafZGe": {
				Region: "ap-guangzhou", Namespace: "prod", Source: SourceGetFunctionLogs,
				Credentials: upstream.CredentialsConfig{SecretIDEnv: "TC_ID", SecretKeyEnv: "TC_KEY", TokenEnv: "TC_TOKEN"},
				Readers:     jwtauth.Readers{Subjects: []string{"usr_morgan_de", "usr_sam"}, Roles: []string{"admin"}},
				Functions: map[string]FunctionConfig{
					"MVPQVsgjuHBlvWFB":         {Name: "APITest"},
					"65a4f0c2e4b0a1b2c3d4e5f6": {Name: "orders-webhook", Qualifier: "$LATEST"},
				},
			},
			"proj-files": {
				Region: "ap-singapore", Namespace: "default", Source: SourceGetFunctionLogs,
				Credentials:      upstream.CredentialsConfig{SecretIDFile: "/run/secrets/id", SecretKeyFile: "/run/secrets/key", TokenFile: "/run/secrets/token"},
				FunctionIDAsName: true,
			},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", cfg, want)
	}
}

const minimalConfigYAML = `
jwt:
  algorithms: [HS256]
  secretEnv: MUDSCF_JWT_SECRET
projects:
  p1:
    region: ap-guangzhou
    functionIdAsName: true
`

func TestConfigDefaults(t *testing.T) {
	want := Config{
		Listen: ":8080", AdminListen: ":9090", Timezone: "Asia/Shanghai", DrainDelay: new(DefaultDrainDelay),
		ShutdownGrace: 10 * time.Second, WriteTimeout: 30 * time.Second, LogLevel: "info",
		Upstream: upstream.Config{Endpoint: "scf.tencentcloudapi.com", CLSEndpoint: upstream.DefaultCLSEndpoint, Scheme: "https", Timeout: 10 * time.Second, MaxCallsPerPage: 12,
			Breaker: upstream.BreakerConfig{Failures: 5, OpenFor: 5 * time.Second}},
		JWT: jwtauth.Config{Algorithms: []string{"HS256"}, SecretEnv: "MUDSCF_JWT_SECRET", Leeway: 30 * time.Second,
			ProjectsClaim: "projects", RolesClaim: "roles", BackgroundRole: "mudscf-exporter"},
		Cache: CacheConfig{PageTTL: 10 * time.Second, StatsTTL: 30 * time.Second, StaleMaxAge: 10 * time.Minute,
			StaleWhileRevalidate: time.Minute, MaxBytes: 64 << 20},
		Budget:            budget.Config{RequestsPerSecond: 5, Margin: 0, MaxWait: 2 * time.Second, Backoff: time.Second},
		ProjectExecutions: ProjectExecutionsConfig{TopicShare: 3},
		Projects:          map[string]ProjectConfig{"p1": {Region: "ap-guangzhou", Namespace: "default", FunctionIDAsName: true, Source: SourceGetFunctionLogs}},
	}
	cfg, err := ParseConfig([]byte(minimalConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", cfg, want)
	}

	// Explicit zeros are the same as leaving the keys out, but for
	// drainDelay, where 0 means no drain.
	zeros := minimalConfigYAML + `
shutdownGrace: 0s
writeTimeout: 0s
upstream: {timeout: 0s}
cache: {pageTTL: 0s, statsTTL: 0s, maxBytes: 0, windowAlign: 0s}
budget: {requestsPerSecond: 0, maxWait: 0s, backoff: 0s}
`
	cfg, err = ParseConfig([]byte(zeros))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("explicit zeros parsed\n%+v\nwant\n%+v", cfg, want)
	}

	cfg, err = ParseConfig([]byte(minimalConfigYAML + "drainDelay: 0s\n"))
	if err != nil || cfg.DrainDelay == nil || *cfg.DrainDelay != 0 {
		t.Errorf("drainDelay: 0s parsed as %v, %v; want no drain", cfg.DrainDelay, err)
	}

	// windowAlign is deprecated: no default.
	cfg, err = ParseConfig([]byte(minimalConfigYAML + "cache: {pageTTL: 4s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cache.WindowAlign != 0 {
		t.Errorf("windowAlign %v, want none", cfg.Cache.WindowAlign)
	}

	// Validate is idempotent.
	again := cfg
	if err := again.Validate(); err != nil || !reflect.DeepEqual(again, cfg) {
		t.Errorf("Validate again: %v, %+v", err, again)
	}
}

// Stale answers can be turned off (an explicit 0 could not say so: zero
// means "the default" everywhere in this file).
func TestConfigDisableStale(t *testing.T) {
	cfg, err := ParseConfig([]byte(minimalConfigYAML + "cache: {disableStale: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Cache.DisableStale {
		t.Error("disableStale: true was not read")
	}
}

const (
	cfgJWT  = "jwt: {algorithms: [HS256], secretEnv: S}\n"
	cfgProj = "projects: {p1: {region: ap-guangzhou, functionIdAsName: true}}\n"
)

func TestConfigInvalid(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"unknown top-level key", "listn: ':80'\n" + cfgJWT + cfgProj, []string{"listn (line 1): unknown key; did you mean listen? allowed: listen, adminListen,"}},
		{"unknown jwt key", "jwt: {algorithms: [HS256], secretEnv: S, secret: hunter2}\n" + cfgProj, []string{"jwt.secret (line 1): unknown key; did you mean secretEnv or secretFile?"}},
		{"unknown function key", cfgJWT + "projects: {p1: {region: r, functions: {f1: {name: a, qualifer: x}}}}\n", []string{"projects.p1.functions.f1.qualifer (line 2): unknown key; did you mean qualifier?"}},
		{"unknown credentials key", cfgJWT + "projects: {p1: {region: r, functionIdAsName: true, credentials: {secretId: AKID}}}\n", []string{"projects.p1.credentials.secretId (line 2): unknown key; did you mean secretIdEnv or secretIdFile?"}},
		{"wrong type: listen a list", "listen: [1]\n" + cfgJWT + cfgProj, []string{"listen (line 1): expected a single value; got a list"}},
		{"wrong type: duration as a number", "shutdownGrace: 10\n" + cfgJWT + cfgProj, []string{"shutdownGrace (line 1): 10 is not a duration: give its unit, e.g. 10s"}},
		{"negative drainDelay", "drainDelay: -1s\n" + cfgJWT + cfgProj, []string{"drainDelay", "must not be negative"}},
		{"negative writeTimeout", "writeTimeout: -1s\n" + cfgJWT + cfgProj, []string{"writeTimeout", "must be a positive duration"}},
		{"wrong type: bad duration", "upstream: {timeout: 10 s}\n" + cfgJWT + cfgProj, []string{`upstream.timeout (line 1): "10 s" is not a duration`}},
		{"wrong type: maxBytes a size string", "cache: {maxBytes: 64MiB}\n" + cfgJWT + cfgProj, []string{`cache.maxBytes (line 1): "64MiB" is not a whole number`}},
		{"wrong type: projects a list", cfgJWT + "projects: [p1]\n", []string{"projects (line 2): expected a mapping"}},

		{"no jwt section", cfgProj, []string{"jwt.algorithms", "list the accepted algorithms explicitly"}},
		{"empty jwt.algorithms", "jwt: {algorithms: [], secretEnv: S}\n" + cfgProj, []string{"jwt.algorithms", "explicitly"}},
		{"alg none", "jwt: {algorithms: [HS256, none], secretEnv: S}\n" + cfgProj, []string{"jwt.algorithms", `"none" is not one of`}},
		{"lowercase algorithm", "jwt: {algorithms: [rs256], jwksURL: 'https://x'}\n" + cfgProj, []string{"jwt.algorithms", `"rs256" is not one of`}},
		{"HS without secret", "jwt: {algorithms: [HS384]}\n" + cfgProj, []string{"jwt.secretEnv or jwt.secretFile", "no secret is configured"}},
		{"RS without jwksURL", "jwt: {algorithms: [HS256, RS256], secretEnv: S}\n" + cfgProj, []string{"jwt.jwksURL", "no JWKS URL is configured"}},
		{"ES without jwksURL", "jwt: {algorithms: [ES256]}\n" + cfgProj, []string{"jwt.jwksURL"}},
		{"leeway over 5m", "jwt: {algorithms: [HS256], secretEnv: S, leeway: 5m1s}\n" + cfgProj, []string{"jwt.leeway", "5m1s is outside 0..5m"}},
		{"negative leeway", "jwt: {algorithms: [HS256], secretEnv: S, leeway: -1s}\n" + cfgProj, []string{"jwt.leeway", "-1s is outside"}},

		{"bad timezone", "timezone: Mars/Olympus_Mons\n" + cfgJWT + cfgProj, []string{"timezone", "unknown time zone Mars/Olympus_Mons"}},
		{"bad logLevel", "logLevel: verbose\n" + cfgJWT + cfgProj, []string{"logLevel", `"verbose" is not debug, info, warn or error`}},
		{"uppercase logLevel", "logLevel: INFO\n" + cfgJWT + cfgProj, []string{"logLevel", `"INFO"`}},
		{"bad upstream.scheme", "upstream: {scheme: ftp}\n" + cfgJWT + cfgProj, []string{"upstream.scheme", `"ftp" is neither https nor http`}},

		{"negative upstream.timeout", "upstream: {timeout: -1s}\n" + cfgJWT + cfgProj, []string{"upstream.timeout", "must be a positive duration, got -1s"}},
		{"negative upstream.breaker.openFor", "upstream: {breaker: {openFor: -1s}}\n" + cfgJWT + cfgProj, []string{"upstream.breaker.openFor", "must be a positive duration"}},
		{"negative upstream.breaker.failures", "upstream: {breaker: {failures: -2}}\n" + cfgJWT + cfgProj, []string{"upstream.breaker.failures", "at least 1"}},
		{"negative cache.statsTTL", "cache: {statsTTL: -30s}\n" + cfgJWT + cfgProj, []string{"cache.statsTTL", "positive duration, got -30s"}},
		{"negative cache.windowAlign", "cache: {windowAlign: -1ms}\n" + cfgJWT + cfgProj, []string{"cache.windowAlign", "must not be negative", "deprecated"}},
		{"negative budget.maxWait", "budget: {maxWait: -2s}\n" + cfgJWT + cfgProj, []string{"budget.maxWait", "positive duration"}},
		{"negative budget.backoff", "budget: {backoff: -1s}\n" + cfgJWT + cfgProj, []string{"budget.backoff", "positive duration"}},
		{"negative shutdownGrace", "shutdownGrace: -10s\n" + cfgJWT + cfgProj, []string{"shutdownGrace", "positive duration, got -10s"}},
		{"negative cache.staleMaxAge", "cache: {staleMaxAge: -1m}\n" + cfgJWT + cfgProj, []string{"cache.staleMaxAge", "must be a positive duration"}},
		{"negative budget.margin", "budget: {margin: -1ms}\n" + cfgJWT + cfgProj, []string{"budget.margin", "must not be negative"}},
		{"maxCallsPerPage under 3", "upstream: {maxCallsPerPage: 2}\n" + cfgJWT + cfgProj, []string{"upstream.maxCallsPerPage", "must be at least 3"}},
		{"revalidation past staleMaxAge", "cache: {pageTTL: 1s, staleMaxAge: 3s, staleWhileRevalidate: 1m}\n" + cfgJWT + cfgProj,
			[]string{"cache.staleWhileRevalidate", "cache.pageTTL (1s) plus staleWhileRevalidate (1m0s) exceeds staleMaxAge (3s)", "at most 2s"}},
		{"maxBytes under 1 MiB", "cache: {maxBytes: 1048575}\n" + cfgJWT + cfgProj, []string{"cache.maxBytes", "1048575 is under the 1 MiB minimum"}},
		{"negative maxBytes", "cache: {maxBytes: -1}\n" + cfgJWT + cfgProj, []string{"cache.maxBytes", "under the 1 MiB minimum"}},
		{"negative requestsPerSecond", "budget: {requestsPerSecond: -1}\n" + cfgJWT + cfgProj, []string{"budget.requestsPerSecond", "must be at least 1, got -1"}},
		{"weight 0", "budget: {weights: {p1: 0}}\n" + cfgJWT + cfgProj, []string{"budget.weights.p1", "must be from 1 to 1000, got 0"}},
		{"weight over 1000", "budget: {weights: {p1: 1001}}\n" + cfgJWT + cfgProj, []string{"budget.weights.p1", "must be from 1 to 1000, got 1001"}},
		{"weight of an unknown project", "budget: {weights: {p2: 2}}\n" + cfgJWT + cfgProj, []string{"budget.weights.p2", "not a project of this file"}},

		{"no projects", cfgJWT, []string{"projects", "at least one project is required"}},
		{"empty projects", cfgJWT + "projects: {}\n", []string{"projects", "at least one project is required"}},
		{"project without region", cfgJWT + "projects: {p1: {functionIdAsName: true}}\n", []string{"projects.p1.region", "required"}},
		{"project ID with a dot", cfgJWT + "projects: {proj.bad: {region: r, functionIdAsName: true}}\n", []string{"projects.proj.bad", "may contain only letters, digits"}},
		{"project ID with a slash", cfgJWT + "projects: {'a/b': {region: r, functionIdAsName: true}}\n", []string{"projects.a/b", "may contain only"}},
		{"project ID too long", cfgJWT + "projects: {" + strings.Repeat("p", 65) + ": {region: r, functionIdAsName: true}}\n", []string{"the project ID must be 1 to 64 characters long"}},
		{"function ID with bad characters", cfgJWT + "projects: {p1: {region: r, functions: {'f 1': {name: a}}}}\n", []string{"projects.p1.functions.f 1", "the function ID may contain only"}},
		{"function without name", cfgJWT + "projects: {p1: {region: r, functions: {f1: {qualifier: '1'}}}}\n", []string{"projects.p1.functions.f1.name", "required"}},
		{"no functions and functionIdAsName false", cfgJWT + "projects: {p1: {region: r}}\n", []string{"projects.p1.functions", "list at least one function or set functionIdAsName"}},
		{"unknown source", cfgJWT + "projects: {p1: {region: r, functionIdAsName: true, source: getRequestStatus}}\n", []string{"projects.p1.source", `"getRequestStatus" is neither getFunctionLogs nor cls`}},
		{"topic without cls", cfgJWT + "projects: {p1: {region: r, functions: {f1: {name: n, clsTopicId: t}}}}\n", []string{"projects.p1.functions.f1.clsTopicId", "only a project whose source is cls"}},
		{"project topic without cls", cfgJWT + "projects: {p1: {region: r, clsTopicId: t, functions: {f1: {name: n}}}}\n", []string{"projects.p1.clsTopicId", "only a project whose source is cls"}},
		{"topic share past the topic", cfgJWT + "projectExecutions: {topicShare: 16}\nprojects: {p1: {region: r, functionIdAsName: true}}\n", []string{"projectExecutions.topicShare", "must be 1 to 15"}},
		{"secretIdEnv without secretKeyEnv", cfgJWT + "projects: {p1: {region: r, functionIdAsName: true, credentials: {secretIdEnv: A}}}\n", []string{"projects.p1.credentials", "a SecretId source needs its SecretKey source"}},
		{"secretKeyFile without secretIdFile", cfgJWT + "projects: {p1: {region: r, functionIdAsName: true, credentials: {secretKeyFile: /k}}}\n", []string{"projects.p1.credentials", "SecretKey source"}},
		{"env and file credentials", cfgJWT + "projects: {p1: {region: r, functionIdAsName: true, credentials: {secretIdEnv: A, secretKeyEnv: B, secretIdFile: /a, secretKeyFile: /b}}}\n", []string{"projects.p1.credentials", "give environment variables or files, not both"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(c.yaml))
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			suiteWitness.SeeErr("a config error", err)
			msg := err.Error()
			if !strings.HasPrefix(msg, "config: ") {
				t.Errorf("error %q does not start with \"config: \"", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if !reflect.DeepEqual(cfg, Config{}) {
				t.Errorf("an invalid config returned %+v", cfg)
			}
		})
	}
}

// A negative pageTTL is named as such, not as cache.windowAlign (which
// defaults to it and which the file never mentions).
func TestConfigNegativePageTTLNamesPageTTL(t *testing.T) {
	for range 20 {
		_, err := ParseConfig([]byte("cache: {pageTTL: -1s}\n" + cfgJWT + cfgProj))
		if err == nil || !strings.Contains(err.Error(), "cache.pageTTL") {
			t.Fatalf("got %v, want an error naming cache.pageTTL", err)
		}
	}
}

func TestConfigLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "proxy.yaml")
	if err := os.WriteFile(path, []byte(fullConfigYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseConfig([]byte(fullConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, parsed) {
		t.Errorf("LoadConfig %+v differs from ParseConfig %+v", cfg, parsed)
	}

	_, err = LoadConfig(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "reading config") || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}

	// An empty file decodes to nothing, then fails validation, not decoding.
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(empty); err == nil || !strings.Contains(err.Error(), "jwt.algorithms") {
		t.Errorf("empty file: %v", err)
	}

	// An invalid file is reported as such.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("logLevel: loud\n"+cfgJWT+cfgProj), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "logLevel") {
		t.Errorf("invalid file: %v", err)
	}
}
