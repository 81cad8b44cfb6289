package exporter

import (
	"fmt"
	"net/url"
	"time"

	"github.com/mudscf/mudscf/internal/yamlconfig"
	"github.com/mudscf/mudscf/translate"
)

// Config is the exporter's configuration file. Zero values mean the
// defaults documented on each field.
type Config struct {
	// Listen serves /metrics, /healthz and /readyz (default ":9464").
	Listen string `yaml:"listen"`
	// Endpoint is the Mudbase API base URL (default http://127.0.0.1:8080,
	// the proxy in the same pod).
	Endpoint string     `yaml:"endpoint"`
	Auth     AuthConfig `yaml:"auth"`
	// Interval between polling rounds (default 30s).
	Interval time.Duration `yaml:"interval"`
	// PageSize is the limit of each request for one function's page
	// (default 100).
	PageSize int `yaml:"pageSize"`
	// ProjectPageSize is the limit of each page of a whole project read
	// through the proxy's project route, one upstream call whatever its
	// size (default 5000, at most 10,000: CLS's rows per query).
	ProjectPageSize int `yaml:"projectPageSize"`
	// MaxPagesPerTurn bounds one function's (or topic's) requests per
	// round, so that a backlog does not starve the others (default 10).
	MaxPagesPerTurn int `yaml:"maxPagesPerTurn"`
	// Concurrency is how many requests the exporter has in flight at
	// most (default 5, GetFunctionLogs's calls per second: more would only
	// queue in the proxy's budget).
	Concurrency int `yaml:"concurrency"`
	// Overlap is re-read behind the cursor each round: executions appear
	// once finished, so it must exceed the longest function run
	// (default 2m).
	Overlap time.Duration `yaml:"overlap"`
	// Backfill is how far back a function without a checkpoint starts
	// (default 1h).
	Backfill time.Duration `yaml:"backfill"`
	// Checkpoint is the state file (its journal is beside it, with
	// ".journal" added); empty keeps state in memory only.
	Checkpoint string `yaml:"checkpoint"`
	// Timeout bounds each request (default 15s).
	Timeout time.Duration `yaml:"timeout"`
	// StatsEvery is deprecated and ignored: the window gauges are counted
	// from the executions the exporter reads, so it reads no stats.
	StatsEvery time.Duration `yaml:"statsEvery"`
	// LogLevel is debug, info, warn or error (default info).
	LogLevel  string           `yaml:"logLevel"`
	Functions []FunctionConfig `yaml:"functions"`
	// Projects are read whole: every function the proxy serves in them
	// is exported, listed in Functions or not. Only a project the proxy
	// reads from CLS can be (a getFunctionLogs project answers one
	// function at a time: list its functions).
	Projects []ProjectConfig `yaml:"projects"`
}

// ProjectConfig is one project to export whole.
type ProjectConfig struct {
	Project string `yaml:"project"`
	// Region is cloud.region of its functions, when known.
	Region string `yaml:"region"`
}

// AuthConfig says how the exporter authenticates to the endpoint. There is
// no unauthenticated path: the proxy checks the exporter's JWT like any
// other.
type AuthConfig struct {
	// TokenFile holds a bearer token, re-read when it changes (a projected
	// or rotated secret).
	TokenFile string `yaml:"tokenFile"`
	// TokenEnv names a variable holding a bearer token.
	TokenEnv string `yaml:"tokenEnv"`
	// JWTSecretEnv or JWTSecretFile hold the proxy's HS256 secret; the
	// exporter then mints its own short-lived tokens.
	JWTSecretEnv  string `yaml:"jwtSecretEnv"`
	JWTSecretFile string `yaml:"jwtSecretFile"`
	// Subject and Role of minted tokens (defaults "mudscf-exporter"; the
	// role is the proxy's jwt.backgroundRole, so the exporter yields to
	// interactive clients).
	Subject string `yaml:"subject"`
	Role    string `yaml:"role"`
	// ProjectsClaim and RolesClaim match the proxy's jwt settings
	// (defaults "projects" and "roles").
	ProjectsClaim string `yaml:"projectsClaim"`
	RolesClaim    string `yaml:"rolesClaim"`
}

// FunctionConfig is one function to export.
type FunctionConfig struct {
	Project  string `yaml:"project"`
	Function string `yaml:"function"`
	// Name is the Tencent function name for faas.name (default: the
	// executions' functionName, else the function ID).
	Name string `yaml:"name"`
	// Region is cloud.region, when known.
	Region string `yaml:"region"`
	// Qualifier is faas.version, when known.
	Qualifier string `yaml:"qualifier"`
	// MemorySizeMB is deprecated and ignored: the proxy exports each
	// function's memory size (mudscf_function_memory_size_bytes), and cost
	// is a recording rule over it and the billed seconds.
	MemorySizeMB int `yaml:"memorySizeMB"`
	// ResourceID is Tencent's resource name of the function
	// (qcs::scf:<region>:uin/<uin>:namespace/<namespace>/function/<name>),
	// for cloud.resource_id, when known.
	ResourceID string `yaml:"resourceId"`
}

// minDuration is the shortest interval, overlap, backfill, timeout or
// statsEvery. The upstream stamps executions in whole seconds, so nothing
// shorter is observable, and an interval below it turns a failing endpoint
// into a busy loop of requests and log lines.
const minDuration = time.Second

// LoadConfig reads a YAML file strictly (unknown keys are errors), fills
// the defaults and validates.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	if err := yamlconfig.Load(path, &cfg); err != nil {
		return Config{}, err
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ApplyDefaults fills every field left zero with its documented default.
func (c *Config) ApplyDefaults() {
	def(&c.Listen, ":9464")
	def(&c.Endpoint, "http://127.0.0.1:8080")
	def(&c.Interval, 30*time.Second)
	def(&c.PageSize, 100)
	def(&c.ProjectPageSize, 5000)
	def(&c.MaxPagesPerTurn, 10)
	def(&c.Concurrency, 5)
	def(&c.Overlap, 2*time.Minute)
	def(&c.Backfill, time.Hour)
	def(&c.Timeout, 15*time.Second)
	def(&c.LogLevel, "info")
	def(&c.Auth.Subject, "mudscf-exporter")
	def(&c.Auth.Role, "mudscf-exporter")
	def(&c.Auth.ProjectsClaim, "projects")
	def(&c.Auth.RolesClaim, "roles")
}

// Validate reports the first bad key with why; it changes nothing.
func (c Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func (c Config) validate() error {
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return yamlconfig.Errorf("endpoint", "%q is not an http(s) URL", c.Endpoint)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"interval", c.Interval}, {"overlap", c.Overlap}, {"backfill", c.Backfill}, {"timeout", c.Timeout}} {
		if d.v < minDuration {
			return yamlconfig.Errorf(d.key, "%s is below the minimum of %s", d.v, minDuration)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return yamlconfig.Errorf("logLevel", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.Overlap >= translate.MaxWindow/2 {
		return yamlconfig.Errorf("overlap", "%s leaves no room in the upstream's one-day window", c.Overlap)
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		return yamlconfig.Errorf("pageSize", "must be 1 to 1000, got %d", c.PageSize)
	}
	if c.ProjectPageSize < 1 || c.ProjectPageSize > translate.MaxOffsetPlusLimit {
		return yamlconfig.Errorf("projectPageSize", "must be 1 to %d, got %d", translate.MaxOffsetPlusLimit, c.ProjectPageSize)
	}
	if c.MaxPagesPerTurn < 1 {
		return yamlconfig.Errorf("maxPagesPerTurn", "must be at least 1, got %d", c.MaxPagesPerTurn)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		return yamlconfig.Errorf("concurrency", "must be 1 to %d, got %d", maxConcurrency, c.Concurrency)
	}
	sources := 0
	for _, s := range []string{c.Auth.TokenFile, c.Auth.TokenEnv, c.Auth.JWTSecretEnv, c.Auth.JWTSecretFile} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return yamlconfig.Errorf("auth", "give exactly one of tokenFile, tokenEnv, jwtSecretEnv, jwtSecretFile")
	}
	if len(c.Functions) == 0 && len(c.Projects) == 0 {
		return yamlconfig.Errorf("functions", "list at least one project/function to export (or a whole project under projects)")
	}
	whole := map[string]bool{}
	for i, p := range c.Projects {
		key := fmt.Sprintf("projects[%d]", i)
		if err := translate.ValidateID("project", p.Project); err != nil {
			return yamlconfig.Errorf(key+".project", "%s", err.Message)
		}
		if whole[p.Project] {
			return yamlconfig.Errorf(key, "%s is listed twice", p.Project)
		}
		whole[p.Project] = true
	}
	seen := map[string]bool{}
	for i, f := range c.Functions {
		for _, id := range []struct{ param, v string }{{"project", f.Project}, {"function", f.Function}} {
			if err := translate.ValidateID(id.param, id.v); err != nil {
				return yamlconfig.Errorf(fmt.Sprintf("functions[%d].%s", i, id.param), "%s", err.Message)
			}
		}
		if seen[f.key()] {
			return yamlconfig.Errorf(fmt.Sprintf("functions[%d]", i), "%s/%s is listed twice", f.Project, f.Function)
		}
		seen[f.key()] = true
	}
	return nil
}

// maxConcurrency bounds Concurrency: beyond it requests only queue in the
// proxy's budgets.
const maxConcurrency = 64

// Deprecations are the keys the file sets that are accepted but ignored,
// each with what replaces it, for a warning at start.
func (c Config) Deprecations() []string {
	var out []string
	if c.StatsEvery != 0 {
		out = append(out, "statsEvery is deprecated and ignored: the mudscf_function_window_* gauges are counted from the executions the exporter reads, which costs no stats request")
	}
	for i, f := range c.Functions {
		if f.MemorySizeMB != 0 {
			out = append(out, fmt.Sprintf("functions[%d].memorySizeMB is deprecated and ignored: the proxy exports mudscf_function_memory_size_bytes, and cost is a recording rule over it and mudscf_function_billed_duration_seconds_total", i))
		}
	}
	return out
}

func (f FunctionConfig) key() string { return f.Project + "/" + f.Function }

func def[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}
