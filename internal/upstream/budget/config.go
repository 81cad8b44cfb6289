package budget

import (
	"maps"
	"slices"
	"time"

	"github.com/mudscf/mudscf/internal/yamlconfig"
)

// Config keeps each upstream API within Tencent's limit per account.
type Config struct {
	// RequestsPerSecond is the most calls per SecretId in any sliding
	// second (default 5, Tencent's documented limit for GetFunctionLogs).
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
	// Weights are the projects' shares of every budget they wait for
	// together (an account's rate, a topic's queries), by project ID;
	// unnamed projects have weight 1. Waiting projects are served in
	// turn, in proportion to their weights; a project alone gets the
	// whole budget.
	Weights Weights `yaml:"weights"`
}

// ApplyDefaults fills the fields left zero.
func (c *Config) ApplyDefaults() {
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = 5
	}
	if c.MaxWait == 0 {
		c.MaxWait = 2 * time.Second
	}
	if c.Backoff == 0 {
		c.Backoff = time.Second
	}
}

// Validate reports the first bad key.
func (c Config) Validate() error {
	switch {
	case c.RequestsPerSecond < 1:
		return yamlconfig.Errorf("requestsPerSecond", "must be at least 1, got %d", c.RequestsPerSecond)
	case c.Margin < 0:
		return yamlconfig.Errorf("margin", "must not be negative, got %s", c.Margin)
	case c.MaxWait <= 0:
		return yamlconfig.Errorf("maxWait", "must be a positive duration, got %s", c.MaxWait)
	case c.Backoff <= 0:
		return yamlconfig.Errorf("backoff", "must be a positive duration, got %s", c.Backoff)
	}
	for _, project := range slices.Sorted(maps.Keys(c.Weights)) {
		if w := c.Weights[project]; w < 1 || w > MaxWeight {
			return yamlconfig.Errorf("weights."+project, "must be from 1 to %d, got %d", MaxWeight, w)
		}
	}
	return nil
}
