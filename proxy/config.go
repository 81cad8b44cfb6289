package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mudscf/mudscf/translate"
)

// Config is the proxy's configuration file. Zero values mean the defaults
// documented on each field; Load fills them in and validates.
type Config struct {
	// Listen is the public Mudbase API address (default ":8080").
	Listen string `yaml:"listen"`
	// AdminListen serves /metrics, /healthz and /readyz (default ":9090").
	// It is separate so that the public port exposes only the API.
	AdminListen string `yaml:"adminListen"`
	// Timezone is the upstream's zone for StartTime/EndTime
	// (default Asia/Shanghai, Tencent Cloud's).
	Timezone string `yaml:"timezone"`
	// ShutdownGrace is how long in-flight requests may take to finish
	// after SIGTERM (default 10s).
	ShutdownGrace time.Duration `yaml:"shutdownGrace"`
	// LogLevel is debug, info, warn or error (default info).
	LogLevel string `yaml:"logLevel"`

	Upstream UpstreamConfig           `yaml:"upstream"`
	JWT      JWTConfig                `yaml:"jwt"`
	Cache    CacheConfig              `yaml:"cache"`
	Budget   BudgetConfig             `yaml:"budget"`
	Projects map[string]ProjectConfig `yaml:"projects"`
	// Redis, when set, shares the budget and the cache among replicas.
	Redis *RedisConfig `yaml:"redis"`
}

// UpstreamConfig says where Tencent Cloud is.
type UpstreamConfig struct {
	// Endpoint is host[:port] (default scf.tencentcloudapi.com).
	Endpoint string `yaml:"endpoint"`
	// Scheme is https (default) or http, for the simulator on loopback.
	Scheme string `yaml:"scheme"`
	// Timeout bounds one upstream call (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Breaker stops calling an upstream account that keeps failing.
	Breaker BreakerConfig `yaml:"breaker"`
}

// BreakerConfig tunes the circuit breaker of each upstream account and
// region.
type BreakerConfig struct {
	// Failures is how many upstream failures in a row open the breaker
	// (default 5). Only an unhealthy upstream counts: no answer, a bad
	// answer, InternalError or ResourceUnavailable.
	Failures int `yaml:"failures"`
	// OpenFor is how long an open breaker refuses calls before it lets one
	// probe through (default 5s).
	OpenFor time.Duration `yaml:"openFor"`
}

// JWTConfig says which bearer tokens are valid and what they grant.
type JWTConfig struct {
	// Algorithms is the explicit allow-list, e.g. [HS256] or [RS256, ES256].
	// Tokens signed otherwise (alg none included) are rejected.
	Algorithms []string `yaml:"algorithms"`
	// SecretEnv or SecretFile hold the HS256 secret.
	SecretEnv  string `yaml:"secretEnv"`
	SecretFile string `yaml:"secretFile"`
	// JWKSURL serves the RS256/ES256 public keys; they are cached and
	// refreshed when a token names an unknown kid.
	JWKSURL string `yaml:"jwksURL"`
	// Issuer and Audience, when set, must match iss and aud.
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	// Leeway absorbs clock skew on exp, nbf and iat (default 30s, at most
	// 5m; 0 means the default).
	Leeway time.Duration `yaml:"leeway"`
	// ProjectsClaim names a claim listing project IDs the token may read
	// (default "projects"; "-" turns it off).
	ProjectsClaim string `yaml:"projectsClaim"`
	// RolesClaim names the claim with the token's roles (default "roles").
	RolesClaim string `yaml:"rolesClaim"`
	// BackgroundRole marks tokens whose traffic yields to interactive
	// clients in the budget: the exporter sidecar's (default
	// "mudscf-exporter").
	BackgroundRole string `yaml:"backgroundRole"`
}

// CacheConfig tunes the response cache.
type CacheConfig struct {
	// PageTTL is how long a page of executions is fresh (default 10s).
	PageTTL time.Duration `yaml:"pageTTL"`
	// StatsTTL is how long stats are fresh (default 30s).
	StatsTTL time.Duration `yaml:"statsTTL"`
	// StaleMaxAge is how old an answer may be and still be served, marked
	// stale, while the upstream fails (default 10m).
	StaleMaxAge time.Duration `yaml:"staleMaxAge"`
	// DisableStale answers upstream failures with errors even when an
	// older answer is cached.
	DisableStale bool `yaml:"disableStale"`
	// MaxBytes bounds the memory of cached bodies (default 64 MiB).
	MaxBytes int64 `yaml:"maxBytes"`
	// WindowAlign rounds the default window's end down, so that the same
	// request made within this span shares a cache key (default PageTTL).
	WindowAlign time.Duration `yaml:"windowAlign"`
}

// BudgetConfig keeps GetFunctionLogs within Tencent's limit per account.
type BudgetConfig struct {
	// RequestsPerSecond is the most calls per SecretId in any sliding
	// second (default 5, Tencent's documented limit).
	RequestsPerSecond int `yaml:"requestsPerSecond"`
	// Margin is added to the one-second window (default 0). The budget
	// already counts each call from its answer, which is after Tencent
	// counted it, so the margin is only for clocks that disagree.
	Margin time.Duration `yaml:"margin"`
	// MaxWait is the longest a request queues for a slot before a 429
	// (default 2s).
	MaxWait time.Duration `yaml:"maxWait"`
	// Backoff pauses an account after the upstream answered
	// RequestLimitExceeded anyway (default 1s).
	Backoff time.Duration `yaml:"backoff"`
}

// ProjectConfig maps one Mudbase project to a Tencent account, region and
// namespace.
type ProjectConfig struct {
	Region      string            `yaml:"region"`
	Namespace   string            `yaml:"namespace"` // default "default"
	Credentials CredentialsConfig `yaml:"credentials"`
	Readers     ReadersConfig     `yaml:"readers"`
	// Functions maps Mudbase function IDs to Tencent functions.
	Functions map[string]FunctionConfig `yaml:"functions"`
	// FunctionIDAsName serves unlisted function IDs as the Tencent function
	// of the same name. Off by default: it exposes every function in the
	// namespace to the project's readers.
	FunctionIDAsName bool `yaml:"functionIdAsName"`
}

// CredentialsConfig names where the Tencent key lives. With nothing set,
// the SDK's provider chain is used (environment, profile file, TKE OIDC
// role, CVM role). Values never appear in the file itself.
type CredentialsConfig struct {
	SecretIDEnv   string `yaml:"secretIdEnv"`
	SecretKeyEnv  string `yaml:"secretKeyEnv"`
	TokenEnv      string `yaml:"tokenEnv"`
	SecretIDFile  string `yaml:"secretIdFile"`
	SecretKeyFile string `yaml:"secretKeyFile"`
	TokenFile     string `yaml:"tokenFile"`
}

// ReadersConfig lists who may read a project: JWT subjects and roles.
type ReadersConfig struct {
	Subjects []string `yaml:"subjects"`
	Roles    []string `yaml:"roles"`
}

// FunctionConfig is the Tencent side of one Mudbase function.
type FunctionConfig struct {
	Name      string `yaml:"name"`
	Qualifier string `yaml:"qualifier"`
}

// LoadConfig reads and validates a YAML file. Unknown keys are errors.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig decodes and validates YAML configuration.
func ParseConfig(b []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// supportedAlgorithms are those golang-jwt verifies with the keys mudscf
// can hold: an HMAC secret or JWKS public keys.
var supportedAlgorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Validate fills defaults and reports the first bad key with why.
func (c *Config) Validate() error {
	setDefault(&c.Listen, ":8080")
	setDefault(&c.AdminListen, ":9090")
	setDefault(&c.Timezone, "Asia/Shanghai")
	setDefault(&c.ShutdownGrace, 10*time.Second)
	setDefault(&c.LogLevel, "info")
	setDefault(&c.Upstream.Endpoint, DefaultEndpoint)
	setDefault(&c.Upstream.Scheme, "https")
	setDefault(&c.Upstream.Timeout, DefaultTimeout)
	setDefault(&c.Upstream.Breaker.Failures, 5)
	setDefault(&c.Upstream.Breaker.OpenFor, 5*time.Second)
	setDefault(&c.JWT.Leeway, 30*time.Second)
	setDefault(&c.JWT.ProjectsClaim, "projects")
	setDefault(&c.JWT.RolesClaim, "roles")
	setDefault(&c.JWT.BackgroundRole, "mudscf-exporter")
	setDefault(&c.Cache.PageTTL, 10*time.Second)
	setDefault(&c.Cache.StatsTTL, 30*time.Second)
	setDefault(&c.Cache.StaleMaxAge, 10*time.Minute)
	setDefault(&c.Cache.MaxBytes, 64<<20)
	setDefault(&c.Cache.WindowAlign, c.Cache.PageTTL)
	setDefault(&c.Budget.RequestsPerSecond, 5)
	setDefault(&c.Budget.MaxWait, 2*time.Second)
	setDefault(&c.Budget.Backoff, time.Second)

	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("config: timezone: %w", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: logLevel: %q is not debug, info, warn or error", c.LogLevel)
	}
	if s := strings.ToLower(c.Upstream.Scheme); s != "https" && s != "http" {
		return fmt.Errorf("config: upstream.scheme: %q is neither https nor http", c.Upstream.Scheme)
	}
	if err := c.JWT.validate(); err != nil {
		return err
	}
	// In file order, so that the key named is the one the user wrote
	// (windowAlign defaults to pageTTL and comes after it).
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"shutdownGrace", c.ShutdownGrace}, {"upstream.timeout", c.Upstream.Timeout}, {"upstream.breaker.openFor", c.Upstream.Breaker.OpenFor},
		{"cache.pageTTL", c.Cache.PageTTL}, {"cache.statsTTL", c.Cache.StatsTTL}, {"cache.staleMaxAge", c.Cache.StaleMaxAge},
		{"cache.windowAlign", c.Cache.WindowAlign}, {"budget.maxWait", c.Budget.MaxWait}, {"budget.backoff", c.Budget.Backoff},
	} {
		if d.v <= 0 {
			return fmt.Errorf("config: %s: must be a positive duration, got %s", d.key, d.v)
		}
	}
	if c.Upstream.Breaker.Failures < 1 {
		return fmt.Errorf("config: upstream.breaker.failures: must be at least 1, got %d", c.Upstream.Breaker.Failures)
	}
	if c.Budget.Margin < 0 {
		return fmt.Errorf("config: budget.margin: must not be negative, got %s", c.Budget.Margin)
	}
	if c.Cache.MaxBytes < 1<<20 {
		return fmt.Errorf("config: cache.maxBytes: %d is under the 1 MiB minimum", c.Cache.MaxBytes)
	}
	if c.Budget.RequestsPerSecond < 1 {
		return fmt.Errorf("config: budget.requestsPerSecond: must be at least 1, got %d", c.Budget.RequestsPerSecond)
	}
	if len(c.Projects) == 0 {
		return errors.New("config: projects: at least one project is required")
	}
	for id, p := range c.Projects {
		if err := p.validate(id); err != nil {
			return err
		}
		c.Projects[id] = p
	}
	if c.Redis != nil {
		return c.Redis.validate(c.Budget.RequestsPerSecond)
	}
	return nil
}

func (j *JWTConfig) validate() error {
	if len(j.Algorithms) == 0 {
		return errors.New("config: jwt.algorithms: list the accepted algorithms explicitly, e.g. [HS256]")
	}
	var hmac, public bool
	for _, a := range j.Algorithms {
		if !slices.Contains(supportedAlgorithms, a) {
			return fmt.Errorf("config: jwt.algorithms: %q is not one of %s", a, strings.Join(supportedAlgorithms, ", "))
		}
		if strings.HasPrefix(a, "HS") {
			hmac = true
		} else {
			public = true
		}
	}
	if hmac && j.SecretEnv == "" && j.SecretFile == "" {
		return errors.New("config: jwt.secretEnv or jwt.secretFile: an HS algorithm is allowed but no secret is configured")
	}
	if public && j.JWKSURL == "" {
		return errors.New("config: jwt.jwksURL: a public-key algorithm is allowed but no JWKS URL is configured")
	}
	if j.Leeway < 0 || j.Leeway > 5*time.Minute {
		return fmt.Errorf("config: jwt.leeway: %s is outside 0..5m", j.Leeway)
	}
	return nil
}

func (p *ProjectConfig) validate(id string) error {
	key := "config: projects." + id
	if err := translate.ValidateID("projectId", id); err != nil {
		return fmt.Errorf("%s: the project ID %s", key, err.Message)
	}
	if p.Region == "" {
		return fmt.Errorf("%s.region: required (e.g. ap-guangzhou)", key)
	}
	setDefault(&p.Namespace, "default")
	if len(p.Functions) == 0 && !p.FunctionIDAsName {
		return fmt.Errorf("%s.functions: list at least one function or set functionIdAsName", key)
	}
	for fid, f := range p.Functions {
		if err := translate.ValidateID("functionId", fid); err != nil {
			return fmt.Errorf("%s.functions.%s: the function ID %s", key, fid, err.Message)
		}
		if f.Name == "" {
			return fmt.Errorf("%s.functions.%s.name: required (the Tencent function name)", key, fid)
		}
	}
	c := p.Credentials
	if (c.SecretIDEnv != "") != (c.SecretKeyEnv != "") || (c.SecretIDFile != "") != (c.SecretKeyFile != "") {
		return fmt.Errorf("%s.credentials: a SecretId source needs its SecretKey source and vice versa", key)
	}
	if c.SecretIDEnv != "" && c.SecretIDFile != "" {
		return fmt.Errorf("%s.credentials: give environment variables or files, not both", key)
	}
	if (c.TokenEnv != "" || c.TokenFile != "") && c.SecretIDEnv == "" && c.SecretIDFile == "" {
		return fmt.Errorf("%s.credentials: a token needs the SecretId and SecretKey it belongs to", key)
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
