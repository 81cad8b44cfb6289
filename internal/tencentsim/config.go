package tencentsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/cls"
	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/scf"
	"github.com/mudscf/mudscf/internal/yamlconfig"
)

// Account is one API key pair the simulator accepts.
type Account struct {
	SecretID  string `yaml:"secretId"`
	SecretKey string `yaml:"secretKey"`
	// Token, when set, makes the key behave like a temporary (STS) key:
	// X-TC-Token must then carry exactly this value.
	Token string `yaml:"token"`
}

// Function describes one simulated SCF function and the traffic it gets;
// see invocations.Function.
type Function = invocations.Function

// DefaultClsTopicID is the CLS topic a function delivers to when its
// configuration names none and the simulator runs SCF's default delivery:
// its region's one topic ("SCF_logtopic_…" in the "SCF_logset_…" logset,
// 583/39778), which holds every function of the region, whatever its
// namespace or name.
func DefaultClsTopicID(region, namespace, name string) string {
	return invocations.RegionClsTopicID(region)
}

// FunctionClsTopicID is a function's own topic, which it delivers to
// when the simulator runs with CLSConfig.TopicPerFunction.
func FunctionClsTopicID(region, namespace, name string) string {
	return invocations.FunctionClsTopicID(region, namespace, name)
}

// DefaultClsLogsetID is the CLS logset ID of a region's functions when
// their configuration names none.
func DefaultClsLogsetID(region string) string {
	return invocations.DefaultClsLogsetID(region)
}

// Faults are switches that make GetFunctionLogs misbehave the way a real
// upstream or the network in between sometimes does. They only apply to
// calls that passed authentication, so a fault never hides an auth bug.
type Faults struct {
	// Latency is waited before answering (cancelled with the request).
	Latency time.Duration `json:"latency" yaml:"latency"`
	// HTTPStatus, if non-zero (200..599), answers with that status and a
	// small text/html body, like a gateway in front of the API would.
	HTTPStatus int `json:"httpStatus" yaml:"httpStatus"`
	// MalformedJSON answers 200 with a truncated JSON body.
	MalformedJSON bool `json:"malformedJSON" yaml:"malformedJSON"`
	// ResetConnection closes the TCP connection with SO_LINGER 0 so the
	// client sees a reset instead of a response.
	ResetConnection bool `json:"resetConnection" yaml:"resetConnection"`
	// ErrorCode answers with a Tencent error envelope carrying this code.
	ErrorCode string `json:"errorCode" yaml:"errorCode"`
}

// faultsJSON mirrors Faults with Latency as a Go duration string, because
// operators type "250ms", not nanoseconds.
type faultsJSON struct {
	Latency         string `json:"latency"`
	HTTPStatus      int    `json:"httpStatus"`
	MalformedJSON   bool   `json:"malformedJSON"`
	ResetConnection bool   `json:"resetConnection"`
	ErrorCode       string `json:"errorCode"`
}

// MarshalJSON writes Latency as a duration string ("250ms").
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		Latency:         f.Latency.String(),
		HTTPStatus:      f.HTTPStatus,
		MalformedJSON:   f.MalformedJSON,
		ResetConnection: f.ResetConnection,
		ErrorCode:       f.ErrorCode,
	})
}

// UnmarshalJSON reads Latency as a duration string and rejects unknown
// keys, so a typo in a PUT /_sim/faults does not silently switch nothing.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var raw faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	var lat time.Duration
	if raw.Latency != "" {
		d, err := time.ParseDuration(raw.Latency)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		lat = d
	}
	*f = Faults{
		Latency:         lat,
		HTTPStatus:      raw.HTTPStatus,
		MalformedJSON:   raw.MalformedJSON,
		ResetConnection: raw.ResetConnection,
		ErrorCode:       raw.ErrorCode,
	}
	return nil
}

func (f Faults) validate() error {
	if f.Latency < 0 {
		return errors.New("faults: latency must not be negative")
	}
	if f.HTTPStatus != 0 && (f.HTTPStatus < 200 || f.HTTPStatus > 599) {
		return fmt.Errorf("faults: httpStatus %d outside 200..599", f.HTTPStatus)
	}
	return nil
}

// Config configures a Simulator. Zero values mean "default".
type Config struct {
	Accounts  []Account
	Functions []Function
	// Regions the simulator serves; calls for other regions get
	// InvalidParameterValue, as on Tencent.
	Regions []string
	// Seed makes the synthetic executions reproducible (default 1).
	Seed int64
	// Origin is the first execution instant (default Now() minus 7 days,
	// truncated to the hour).
	Origin time.Time
	// Location is the upstream time zone of StartTime/EndTime
	// (default Asia/Shanghai).
	Location *time.Location
	// RateLimit is the number of GetFunctionLogs calls accepted per
	// SecretId in any sliding second (default 5, Tencent's documented limit).
	RateLimit int
	// APIRateLimits overrides, per action name, the number of calls
	// accepted per SecretId in any sliding second for the other actions
	// (defaults: Tencent's documented limits, GetFunction 100,
	// ListFunctions 100, GetRequestStatus 20).
	APIRateLimits map[string]int
	// MaxClockSkew is how far X-TC-Timestamp may be from Now() (default 5m).
	MaxClockSkew time.Duration
	// Now is the clock (default time.Now); tests replace it.
	Now func() time.Time
	// Faults are the faults active at start.
	Faults Faults
	// CLS tunes the simulated Cloud Log Service (SearchLog).
	CLS CLSConfig
	// Passthrough turns on GET /_sim/passthrough/logs, a benchmark aid
	// that lets a generic HTTP cache (nginx) stand in front of the
	// simulator; see servePassthrough.
	Passthrough bool
}

// Defaults; exported values would invite callers to mutate them. A
// function's own defaults are invocations.Function.WithDefaults's.
const (
	defaultRateLimit = 5
	defaultClockSkew = 5 * time.Minute
	defaultTimeZone  = "Asia/Shanghai"

	maxRate = 1000
)

// The key pair the simulator accepts when configured with none; docs/simulator.md
// publishes it for demos.
//
//nolint:gosec // G101: a published fake key pair that only the simulator accepts.
const (
	defaultSecretID  = "AKIDmudscfSimulator0001"
	defaultSecretKey = "mudscf-simulator-secret-key"
)

// documentedRateLimits are the per-second limits Tencent's API pages state
// for the SCF actions other than GetFunctionLogs (whose limit is
// Config.RateLimit).
func documentedRateLimits() map[string]int {
	return map[string]int{
		scf.ActionGetFunction:      100,
		scf.ActionListFunctions:    100,
		scf.ActionGetRequestStatus: 20,
		cls.ActionDescribeIndex:    cls.DescribeIndexRateLimit,
	}
}

func defaultRegions() []string {
	return []string{
		"ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-chengdu",
		"ap-hongkong", "ap-singapore", "ap-tokyo", "ap-mumbai",
		"ap-bangkok", "ap-seoul", "na-siliconvalley", "na-ashburn",
		"eu-frankfurt",
	}
}

func defaultAccounts() []Account {
	return []Account{{SecretID: defaultSecretID, SecretKey: defaultSecretKey}}
}

// defaultFunctions mixes rates and shapes so demos show quiet and busy
// functions side by side; APITest is the function of Tencent's own example.
// The webhook is a web function and the worker an image, so their logs
// carry SCF's "Init Report" and "Provisioned Report" lines.
func defaultFunctions() []Function {
	return []Function{
		{Name: "APITest"},
		{Name: "orders-webhook", Type: invocations.TypeWeb, RatePerSecond: 0.1, FailureRatio: 0.05,
			TimeoutMs: 10000, MemorySizeMB: 256, Qualifiers: []string{"$LATEST", "1", "2"}},
		{Name: "thumbnail-worker", Type: invocations.TypeImage, RatePerSecond: 0.5, FailureRatio: 0.12,
			TimeoutMs: 15000, MemorySizeMB: 512},
		{Name: "nightly-report", RatePerSecond: 1.0 / 86400, FailureRatio: 0.1,
			TimeoutMs: 60000, MemorySizeMB: 1024},
	}
}

// shanghai falls back to a fixed +08:00 zone when the host has no tzdata:
// China has had no DST since 1991, so the two are equivalent for the data
// the simulator produces.
func shanghai() *time.Location {
	if loc, err := time.LoadLocation(defaultTimeZone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// DefaultConfig is the configuration of demos: one account and four
// functions in ap-guangzhou. Now and Origin stay zero so that New derives
// them from whatever clock the caller sets.
func DefaultConfig() Config {
	c := Config{
		Accounts:  defaultAccounts(),
		Functions: defaultFunctions(),
	}
	c.fill()
	return c
}

// fill replaces zero values by defaults, except the clock-derived ones
// (see resolveClock). It copies slices so the caller's Config stays
// untouched.
func (c *Config) fill() {
	c.Accounts = slices.Clone(c.Accounts)
	fns := make([]Function, len(c.Functions))
	for i, f := range c.Functions {
		fns[i] = f.WithDefaults()
	}
	c.Functions = fns
	if len(c.Regions) == 0 {
		c.Regions = defaultRegions()
	} else {
		c.Regions = slices.Clone(c.Regions)
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Location == nil {
		c.Location = shanghai()
	}
	if c.RateLimit == 0 {
		c.RateLimit = defaultRateLimit
	}
	limits := documentedRateLimits()
	for api, n := range c.APIRateLimits {
		limits[api] = n
	}
	c.APIRateLimits = limits
	if c.MaxClockSkew == 0 {
		c.MaxClockSkew = defaultClockSkew
	}
}

// rateLimits are the per-action limits of a filled Config.
func (c *Config) rateLimits() map[string]int {
	limits := maps.Clone(c.APIRateLimits)
	limits[scf.ActionGetFunctionLogs] = c.RateLimit
	return limits
}

// resolveClock fills Now and Origin. It is separate from fill so that a
// Config from DefaultConfig or LoadConfig still takes its Origin from the
// clock the caller installs afterwards.
func (c *Config) resolveClock() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Origin.IsZero() {
		c.Origin = c.Now().Add(-7 * 24 * time.Hour).Truncate(time.Hour)
	}
}

func (c *Config) validate() error {
	if len(c.Accounts) == 0 {
		return errors.New("tencentsim: at least one account is required")
	}
	ids := map[string]bool{}
	for i, a := range c.Accounts {
		if a.SecretID == "" || a.SecretKey == "" {
			return fmt.Errorf("tencentsim: accounts[%d]: secretId and secretKey are required", i)
		}
		if ids[a.SecretID] {
			return fmt.Errorf("tencentsim: accounts[%d]: duplicate secretId %q", i, a.SecretID)
		}
		ids[a.SecretID] = true
	}
	regions := map[string]bool{}
	for _, r := range c.Regions {
		if r == "" {
			return errors.New("tencentsim: empty region name")
		}
		regions[r] = true
	}
	seen := map[string]bool{}
	for i, f := range c.Functions {
		if f.Name == "" {
			return fmt.Errorf("tencentsim: functions[%d]: name is required", i)
		}
		if !regions[f.Region] {
			return fmt.Errorf("tencentsim: function %s: region %q is not in regions", f.Name, f.Region)
		}
		key := f.Region + "/" + f.Namespace + "/" + f.Name
		if seen[key] {
			return fmt.Errorf("tencentsim: duplicate function %s", key)
		}
		seen[key] = true
		// Queries cost time linear in the executions of their window, so
		// the rate is capped where a 24 h window still answers in seconds.
		if !(f.RatePerSecond > 0) || f.RatePerSecond > maxRate {
			return fmt.Errorf("tencentsim: function %s: ratePerSecond must be in (0, %d]", key, maxRate)
		}
		if !(f.FailureRatio >= 0 && f.FailureRatio <= 1) {
			return fmt.Errorf("tencentsim: function %s: failureRatio must be in [0,1]", key)
		}
		if f.TimeoutMs < 1 {
			return fmt.Errorf("tencentsim: function %s: timeoutMs must be positive", key)
		}
		if f.Type != invocations.TypeEvent && f.Type != invocations.TypeWeb && f.Type != invocations.TypeImage {
			return fmt.Errorf("tencentsim: function %s: type %q is not event, web or image", key, f.Type)
		}
		if f.MemorySizeMB < 1 {
			return fmt.Errorf("tencentsim: function %s: memorySizeMB must be positive", key)
		}
		if len(f.Qualifiers) > 255 {
			return fmt.Errorf("tencentsim: function %s: at most 255 qualifiers", key)
		}
		for _, q := range f.Qualifiers {
			if q == "" {
				return fmt.Errorf("tencentsim: function %s: empty qualifier", key)
			}
		}
	}
	if !c.Origin.IsZero() && (c.Origin.Year() < 1971 || c.Origin.Year() > 2200) {
		return fmt.Errorf("tencentsim: origin %v is out of range", c.Origin)
	}
	if c.RateLimit < 0 {
		return errors.New("tencentsim: rateLimit must not be negative")
	}
	for api, n := range c.APIRateLimits {
		if _, ok := documentedRateLimits()[api]; !ok {
			return fmt.Errorf("tencentsim: apiRateLimits: %q is not GetFunction, ListFunctions, GetRequestStatus or DescribeIndex (GetFunctionLogs's limit is rateLimit)", api)
		}
		if n < 0 {
			return fmt.Errorf("tencentsim: apiRateLimits: %s must not be negative", api)
		}
	}
	if c.MaxClockSkew < 0 {
		return errors.New("tencentsim: maxClockSkew must not be negative")
	}
	if err := c.CLS.validate(); err != nil {
		return err
	}
	return c.Faults.validate()
}

// fileConfig is the YAML shape; it differs from Config where YAML needs
// plain values (origin as RFC 3339, timezone as a name).
type fileConfig struct {
	Accounts      []Account      `yaml:"accounts"`
	Functions     []Function     `yaml:"functions"`
	Regions       []string       `yaml:"regions"`
	Seed          int64          `yaml:"seed"`
	Origin        string         `yaml:"origin"`
	Timezone      string         `yaml:"timezone"`
	RateLimit     int            `yaml:"rateLimit"`
	APIRateLimits map[string]int `yaml:"apiRateLimits"`
	MaxClockSkew  time.Duration  `yaml:"maxClockSkew"`
	Faults        Faults         `yaml:"faults"`
	CLS           CLSConfig      `yaml:"cls"`
}

// LoadConfig reads a YAML configuration. Unknown keys are errors, because
// a misspelt key would otherwise silently fall back to a default. Missing
// accounts or functions fall back to those of DefaultConfig. Now stays nil
// and Origin, when absent, zero: New derives them from the clock.
func LoadConfig(path string) (Config, error) {
	var fc fileConfig
	if err := yamlconfig.Load(path, &fc); err != nil {
		return Config{}, fmt.Errorf("tencentsim: %s: %w", path, err)
	}
	c := Config{
		Accounts:      fc.Accounts,
		Functions:     fc.Functions,
		Regions:       fc.Regions,
		Seed:          fc.Seed,
		RateLimit:     fc.RateLimit,
		APIRateLimits: fc.APIRateLimits,
		MaxClockSkew:  fc.MaxClockSkew,
		Faults:        fc.Faults,
		CLS:           fc.CLS,
	}
	if len(c.Accounts) == 0 {
		c.Accounts = defaultAccounts()
	}
	if len(c.Functions) == 0 {
		c.Functions = defaultFunctions()
	}
	if fc.Origin != "" {
		t, err := time.Parse(time.RFC3339, fc.Origin)
		if err != nil {
			return Config{}, fmt.Errorf("tencentsim: %s: origin: %w", path, err)
		}
		c.Origin = t
	}
	if fc.Timezone != "" {
		loc, err := time.LoadLocation(fc.Timezone)
		if err != nil {
			return Config{}, fmt.Errorf("tencentsim: %s: timezone: %w", path, err)
		}
		c.Location = loc
	}
	c.fill()
	if err := c.validate(); err != nil {
		return Config{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}
