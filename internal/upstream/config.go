package upstream

import (
	"fmt"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/mudscf/mudscf/internal/secret"
	"github.com/mudscf/mudscf/internal/yamlconfig"
)

// Config says where Tencent Cloud is.
type Config struct {
	// Endpoint is host[:port] (default scf.tencentcloudapi.com).
	Endpoint string `yaml:"endpoint"`
	// CLSEndpoint is CLS's host[:port] (default cls.tencentcloudapi.com),
	// for projects whose source is cls.
	CLSEndpoint string `yaml:"clsEndpoint"`
	// Scheme is https (default) or http, for the simulator on loopback.
	Scheme string `yaml:"scheme"`
	// Timeout bounds one upstream call (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxCallsPerPage is the most upstream calls one page may cost
	// (default 12): a request whose page would cost more is refused with
	// a 400 before any call, so that no one client's request can hold the
	// budgets, or a topic's queries, for long. A getFunctionLogs page is
	// one call; a cls page two, and one per 200 executions for their
	// return values, or three with their log text.
	MaxCallsPerPage int `yaml:"maxCallsPerPage"`
	// breaker stops calling an upstream account that keeps failing.
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

// ApplyDefaults fills the fields left zero.
func (c *Config) ApplyDefaults() {
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.CLSEndpoint == "" {
		c.CLSEndpoint = DefaultCLSEndpoint
	}
	if c.Scheme == "" {
		c.Scheme = "https"
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxCallsPerPage == 0 {
		c.MaxCallsPerPage = 12
	}
	if c.Breaker.Failures == 0 {
		c.Breaker.Failures = 5
	}
	if c.Breaker.OpenFor == 0 {
		c.Breaker.OpenFor = 5 * time.Second
	}
}

// Validate reports the first bad key.
func (c Config) Validate() error {
	switch {
	case !strings.EqualFold(c.Scheme, "https") && !strings.EqualFold(c.Scheme, "http"):
		return yamlconfig.Errorf("scheme", "%q is neither https nor http", c.Scheme)
	case c.Timeout <= 0:
		return yamlconfig.Errorf("timeout", "must be a positive duration, got %s", c.Timeout)
	case c.MaxCallsPerPage < 3:
		return yamlconfig.Errorf("maxCallsPerPage", "must be at least 3 (a cls page of log text costs 5, of 20 executions without it 3), got %d", c.MaxCallsPerPage)
	case c.Breaker.OpenFor <= 0:
		return yamlconfig.Errorf("breaker.openFor", "must be a positive duration, got %s", c.Breaker.OpenFor)
	case c.Breaker.Failures < 1:
		return yamlconfig.Errorf("breaker.failures", "must be at least 1, got %d", c.Breaker.Failures)
	}
	return nil
}

// CredentialsConfig names where a Tencent key lives. With nothing set, the
// SDK's provider chain is used (environment, profile file, TKE OIDC role,
// CVM role). Values never appear in the file itself.
type CredentialsConfig struct {
	// Account is the account's alias in metrics and logs (default
	// "default"): never the SecretId. Projects on one SecretId share its
	// budget and must share its alias.
	Account       string `yaml:"account"`
	SecretIDEnv   string `yaml:"secretIdEnv"`
	SecretKeyEnv  string `yaml:"secretKeyEnv"`
	TokenEnv      string `yaml:"tokenEnv"`
	SecretIDFile  string `yaml:"secretIdFile"`
	SecretKeyFile string `yaml:"secretKeyFile"`
	TokenFile     string `yaml:"tokenFile"`
}

// defaultAccount is the alias of an account whose configuration names none.
const defaultAccount = "default"

// Validate reports a half-configured key.
func (c CredentialsConfig) Validate() error {
	switch {
	case !validAlias(c.Account):
		return yamlconfig.Errorf("account", "%q is not an alias: use 1 to 64 letters, digits, '_', '-' or '.'", c.Account)
	case (c.SecretIDEnv != "") != (c.SecretKeyEnv != "") || (c.SecretIDFile != "") != (c.SecretKeyFile != ""):
		return yamlconfig.Errorf("", "a SecretId source needs its SecretKey source and vice versa")
	case c.SecretIDEnv != "" && c.SecretIDFile != "":
		return yamlconfig.Errorf("", "give environment variables or files, not both")
	case (c.TokenEnv != "" || c.TokenFile != "") && c.SecretIDEnv == "" && c.SecretIDFile == "":
		return yamlconfig.Errorf("", "a token needs the SecretId and SecretKey it belongs to")
	}
	return nil
}

// Resolve reads the key the config names; nil means "use the SDK's
// provider chain". Errors name the variable or file, never a value.
func (c CredentialsConfig) Resolve() (common.CredentialIface, error) {
	id, err := secret.Read(c.SecretIDEnv, c.SecretIDFile)
	if err != nil || id == "" {
		return nil, credentialsError(err)
	}
	key, err := secret.Read(c.SecretKeyEnv, c.SecretKeyFile)
	if err != nil {
		return nil, credentialsError(err)
	}
	token, err := secret.Read(c.TokenEnv, c.TokenFile)
	if err != nil {
		return nil, credentialsError(err)
	}
	return common.NewTokenCredential(id, key, token), nil
}

func credentialsError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("credentials: %w", err)
}

func validAlias(s string) bool {
	if s == "" {
		return true // the default
	}
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
