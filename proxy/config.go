package proxy

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/internal/yamlconfig"
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
	// DrainDelay is how long the proxy keeps serving after SIGTERM with
	// /readyz already failing, so that load balancers stop sending to it
	// before it stops accepting (default 5s; 0: close at once). Unset and
	// 0 differ, hence the pointer.
	DrainDelay *time.Duration `yaml:"drainDelay"`
	// ShutdownGrace is how long in-flight requests may take to finish
	// once the drain delay is over (default 10s).
	ShutdownGrace time.Duration `yaml:"shutdownGrace"`
	// WriteTimeout bounds the writing of one response, from its first
	// byte: a client that stops reading is dropped then, and with it what
	// its connection holds (default 30s).
	WriteTimeout time.Duration `yaml:"writeTimeout"`
	// LogLevel is debug, info, warn or error (default info).
	LogLevel string `yaml:"logLevel"`

	Upstream upstream.Config          `yaml:"upstream"`
	JWT      jwtauth.Config           `yaml:"jwt"`
	Cache    CacheConfig              `yaml:"cache"`
	Budget   budget.Config            `yaml:"budget"`
	Projects map[string]ProjectConfig `yaml:"projects"`
	// Redis, when set, shares the budget and the cache among replicas.
	Redis *redisstore.Config `yaml:"redis"`
	// ProjectExecutions tunes the project route, the exporter's scan of
	// a cls project (ExecutionsRoute).
	ProjectExecutions ProjectExecutionsConfig `yaml:"projectExecutions"`
}

// ProjectExecutionsConfig tunes the project route.
type ProjectExecutionsConfig struct {
	// TopicShare is how many of a log topic's 15 concurrent queries the
	// route holds at most, per replica (default 3): the console, the
	// topic's dashboards and alarms, and the per-function pages query the
	// topic too.
	TopicShare int `yaml:"topicShare"`
}

// topicQueries is SearchLog's limit of concurrent queries on one topic.
const topicQueries = 15

// CacheConfig tunes the response cache.
type CacheConfig struct {
	// PageTTL is how long a page of executions is fresh (default 10s).
	PageTTL time.Duration `yaml:"pageTTL"`
	// StatsTTL is how long stats are fresh (default 30s).
	StatsTTL time.Duration `yaml:"statsTTL"`
	// StaleMaxAge is how old an answer may be and still be served, marked
	// stale, while the upstream fails (default 10m).
	StaleMaxAge time.Duration `yaml:"staleMaxAge"`
	// StaleWhileRevalidate is how long past its TTL an entry is still
	// answered at once, marked stale, while one background refresh per
	// key is queued behind the budget (RFC 5861; default 1m).
	StaleWhileRevalidate time.Duration `yaml:"staleWhileRevalidate"`
	// DisableStale answers upstream failures with errors even when an
	// older answer is cached, and turns staleWhileRevalidate off.
	DisableStale bool `yaml:"disableStale"`
	// MaxBytes bounds the memory of cached bodies (default 64 MiB).
	MaxBytes int64 `yaml:"maxBytes"`
	// WindowAlign is deprecated and ignored (a warning is logged): default
	// windows used to end on its steps so that requests shared keys; they
	// are now keyed as "the default window" and share keys for the TTL.
	// Accepted so that existing files still load.
	WindowAlign time.Duration `yaml:"windowAlign"`
}

// ProjectConfig maps one Mudbase project to a Tencent account, region and
// namespace.
type ProjectConfig struct {
	Region      string                     `yaml:"region"`
	Namespace   string                     `yaml:"namespace"` // default "default"
	Credentials upstream.CredentialsConfig `yaml:"credentials"`
	Readers     jwtauth.Readers            `yaml:"readers"`
	// Functions maps Mudbase function IDs to Tencent functions.
	Functions map[string]FunctionConfig `yaml:"functions"`
	// FunctionIDAsName serves unlisted function IDs as the Tencent function
	// of the same name. Off by default: it exposes every function in the
	// namespace to the project's readers.
	FunctionIDAsName bool `yaml:"functionIdAsName"`
	// Source is where the project's logs are read: getFunctionLogs
	// (default) or cls.
	Source string `yaml:"source"`
	// ClsTopicID is the CLS log topic of the functions of a cls project
	// that name none of their own (SCF's default delivery puts a region's
	// functions in one topic); empty looks each one up with GetFunction.
	ClsTopicID string `yaml:"clsTopicId"`
}

// The sources a project can read from.
const (
	SourceGetFunctionLogs = "getFunctionLogs"
	SourceCLS             = "cls"
)

// FunctionConfig is the Tencent side of one Mudbase function.
type FunctionConfig struct {
	Name      string `yaml:"name"`
	Qualifier string `yaml:"qualifier"`
	// MemorySizeMB is the function's memory, which Tencent bills by; 0
	// (the default) looks it up with SCF's GetFunction.
	MemorySizeMB int64 `yaml:"memorySizeMB"`
	// ClsTopicID is the CLS log topic of a project whose source is cls;
	// empty looks it up with SCF's GetFunction.
	ClsTopicID string `yaml:"clsTopicId"`
}

// DefaultDrainDelay is the drain delay when the file sets none: long
// enough for endpoint updates to reach kube-proxy and ingress controllers.
const DefaultDrainDelay = 5 * time.Second

// LoadConfig reads the file at path: strictly (unknown keys are errors),
// with defaults applied, and validated.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	if err := yamlconfig.Load(path, &cfg); err != nil {
		return Config{}, err
	}
	return complete(cfg)
}

// ParseConfig is LoadConfig for YAML already read.
func ParseConfig(b []byte) (Config, error) {
	var cfg Config
	if err := yamlconfig.Decode(b, &cfg); err != nil {
		return Config{}, err
	}
	return complete(cfg)
}

func complete(cfg Config) (Config, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ApplyDefaults fills every field left zero with its documented default.
// It is separate from Validate so that flags can override the file in
// between, and so that Validate changes nothing.
func (c *Config) ApplyDefaults() {
	setDefault(&c.Listen, ":8080")
	setDefault(&c.AdminListen, ":9090")
	setDefault(&c.Timezone, "Asia/Shanghai")
	if c.DrainDelay == nil {
		c.DrainDelay = new(DefaultDrainDelay)
	}
	setDefault(&c.ShutdownGrace, 10*time.Second)
	setDefault(&c.WriteTimeout, 30*time.Second)
	setDefault(&c.LogLevel, "info")
	c.Upstream.ApplyDefaults()
	c.JWT.ApplyDefaults()
	setDefault(&c.Cache.PageTTL, 10*time.Second)
	setDefault(&c.Cache.StatsTTL, 30*time.Second)
	setDefault(&c.Cache.StaleMaxAge, 10*time.Minute)
	// Unset, stale-while-revalidate fits inside staleMaxAge: a minute, or
	// what is left of staleMaxAge past a TTL, whichever is less.
	swr := time.Minute
	for _, ttl := range []time.Duration{c.Cache.PageTTL, c.Cache.StatsTTL} {
		if ttl < c.Cache.StaleMaxAge {
			swr = min(swr, c.Cache.StaleMaxAge-ttl)
		}
	}
	setDefault(&c.Cache.StaleWhileRevalidate, swr)
	setDefault(&c.Cache.MaxBytes, 64<<20)
	c.Budget.ApplyDefaults()
	setDefault(&c.ProjectExecutions.TopicShare, 3)
	for id, p := range c.Projects {
		setDefault(&p.Namespace, "default")
		setDefault(&p.Source, SourceGetFunctionLogs)
		c.Projects[id] = p
	}
	if c.Redis != nil {
		c.Redis.ApplyDefaults()
	}
}

// Validate reports the first bad key with why, as "config: key.path: why".
func (c Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func (c Config) validate() error {
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return yamlconfig.Errorf("timezone", "%v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return yamlconfig.Errorf("logLevel", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if err := c.Upstream.Validate(); err != nil {
		return yamlconfig.Nest("upstream", err)
	}
	if err := c.JWT.Validate(); err != nil {
		return yamlconfig.Nest("jwt", err)
	}
	// In file order.
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"shutdownGrace", c.ShutdownGrace}, {"writeTimeout", c.WriteTimeout}, {"cache.pageTTL", c.Cache.PageTTL}, {"cache.statsTTL", c.Cache.StatsTTL},
		{"cache.staleMaxAge", c.Cache.StaleMaxAge}, {"cache.staleWhileRevalidate", c.Cache.StaleWhileRevalidate},
	} {
		if d.v <= 0 {
			return yamlconfig.Errorf(d.key, "must be a positive duration, got %s", d.v)
		}
	}
	// Every stale answer is bounded by staleMaxAge, the revalidating ones
	// too: a TTL and its stale-while-revalidate past it must fit inside
	// (staleWhileRevalidate's default does). A part whose TTL reaches
	// staleMaxAge is simply never answered stale.
	for _, ttl := range []struct {
		key string
		v   time.Duration
	}{{"cache.pageTTL", c.Cache.PageTTL}, {"cache.statsTTL", c.Cache.StatsTTL}} {
		if !c.Cache.DisableStale && ttl.v < c.Cache.StaleMaxAge && ttl.v+c.Cache.StaleWhileRevalidate > c.Cache.StaleMaxAge {
			return yamlconfig.Errorf("cache.staleWhileRevalidate", "%s (%s) plus staleWhileRevalidate (%s) exceeds staleMaxAge (%s), the age no stale answer may pass: lower staleWhileRevalidate to at most %s, or raise staleMaxAge",
				ttl.key, ttl.v, c.Cache.StaleWhileRevalidate, c.Cache.StaleMaxAge, max(c.Cache.StaleMaxAge-ttl.v, 0))
		}
	}
	if c.Cache.WindowAlign < 0 {
		return yamlconfig.Errorf("cache.windowAlign", "must not be negative, got %s (it is deprecated and ignored: remove it)", c.Cache.WindowAlign)
	}
	if c.DrainDelay != nil && *c.DrainDelay < 0 {
		return yamlconfig.Errorf("drainDelay", "must not be negative, got %s", *c.DrainDelay)
	}
	if c.Cache.MaxBytes < 1<<20 {
		return yamlconfig.Errorf("cache.maxBytes", "%d is under the 1 MiB minimum", c.Cache.MaxBytes)
	}
	if err := c.Budget.Validate(); err != nil {
		return yamlconfig.Nest("budget", err)
	}
	if share := c.ProjectExecutions.TopicShare; share < 1 || share > topicQueries {
		return yamlconfig.Errorf("projectExecutions.topicShare", "must be 1 to %d (a topic's concurrent queries), got %d", topicQueries, share)
	}
	if len(c.Projects) == 0 {
		return yamlconfig.Errorf("projects", "at least one project is required")
	}
	for id, p := range c.Projects {
		if err := p.validate(id); err != nil {
			return yamlconfig.Nest("projects."+id, err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.Budget.Weights)) {
		if _, ok := c.Projects[id]; !ok {
			return yamlconfig.Errorf("budget.weights."+id, "not a project of this file (a weight is a project's share of the budgets)")
		}
	}
	if c.Redis != nil {
		if err := c.Redis.Validate(c.Budget.RequestsPerSecond); err != nil {
			return yamlconfig.Nest("redis", err)
		}
	}
	return nil
}

func (p ProjectConfig) validate(id string) error {
	if err := translate.ValidateID("projectId", id); err != nil {
		return yamlconfig.Errorf("", "the project ID %s", err.Message)
	}
	if p.Region == "" {
		return yamlconfig.Errorf("region", "required (e.g. ap-guangzhou)")
	}
	if p.Source != SourceGetFunctionLogs && p.Source != SourceCLS {
		return yamlconfig.Errorf("source", "%q is neither %s nor %s", p.Source, SourceGetFunctionLogs, SourceCLS)
	}
	if p.ClsTopicID != "" && p.Source != SourceCLS {
		return yamlconfig.Errorf("clsTopicId", "only a project whose source is %s reads a CLS topic", SourceCLS)
	}
	if len(p.Functions) == 0 && !p.FunctionIDAsName {
		return yamlconfig.Errorf("functions", "list at least one function or set functionIdAsName")
	}
	for fid, f := range p.Functions {
		if err := translate.ValidateID("functionId", fid); err != nil {
			return yamlconfig.Errorf("functions."+fid, "the function ID %s", err.Message)
		}
		if f.Name == "" {
			return yamlconfig.Errorf("functions."+fid+".name", "required (the Tencent function name)")
		}
		if f.MemorySizeMB < 0 {
			return yamlconfig.Errorf("functions."+fid+".memorySizeMB", "must be positive, got %d", f.MemorySizeMB)
		}
		if f.ClsTopicID != "" && p.Source != SourceCLS {
			return yamlconfig.Errorf("functions."+fid+".clsTopicId", "only a project whose source is %s reads a CLS topic", SourceCLS)
		}
	}
	return yamlconfig.Nest("credentials", p.Credentials.Validate())
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
