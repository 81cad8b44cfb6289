package redisstore

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/mudscf/mudscf/internal/secret"
	"github.com/mudscf/mudscf/internal/yamlconfig"
)

// Config shares the budget and the response cache among replicas.
type Config struct {
	// Exactly one of URL, URLEnv and URLFile gives the server, as
	// redis://[user:password@]host:port/db or rediss:// for TLS. A URL may
	// carry a password, so URLEnv or URLFile are the better places for it.
	URL     string `yaml:"url"`
	URLEnv  string `yaml:"urlEnv"`
	URLFile string `yaml:"urlFile"`
	// Replicas is how many proxies share the accounts. While Redis is
	// unreachable each replica keeps to floor(limit/replicas) calls per
	// sliding second, so together they stay within the limit. Required: a
	// wrong value silently breaks that sum.
	Replicas int `yaml:"replicas"`
	// KeyPrefix starts every key mudscf writes (default "mudscf:").
	KeyPrefix string `yaml:"keyPrefix"`
	// DialTimeout bounds connecting (default 200ms).
	DialTimeout time.Duration `yaml:"dialTimeout"`
	// OpTimeout bounds one Redis operation (default 200ms). Past it the
	// request carries on locally: Redis may slow a request by this much,
	// never fail it.
	OpTimeout time.Duration `yaml:"opTimeout"`
}

// ApplyDefaults fills the fields left zero.
func (r *Config) ApplyDefaults() {
	if r.KeyPrefix == "" {
		r.KeyPrefix = "mudscf:"
	}
	if r.DialTimeout == 0 {
		r.DialTimeout = 200 * time.Millisecond
	}
	if r.OpTimeout == 0 {
		r.OpTimeout = 200 * time.Millisecond
	}
}

// Validate reports the first bad key. smallestLimit is the smallest number
// of calls per second any budget shared through Redis allows: each replica
// must keep a share of at least one call while Redis is unreachable.
func (r Config) Validate(smallestLimit int) error {
	n := 0
	for _, s := range []string{r.URL, r.URLEnv, r.URLFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return yamlconfig.Errorf("", "give exactly one of url, urlEnv and urlFile")
	}
	if r.URL != "" {
		if _, err := redis.ParseURL(r.URL); err != nil {
			return yamlconfig.Errorf("url", "not a redis:// or rediss:// URL: %s", whyNotURL(err))
		}
	}
	if r.Replicas < 1 || r.Replicas > smallestLimit {
		// With more replicas than calls per second, floor(limit/replicas)
		// is 0: no local share keeps the sum within the limit.
		return yamlconfig.Errorf("replicas", "must be between 1 and budget.requestsPerSecond (%d), got %d: "+
			"while Redis is unreachable each replica may make floor(%d/replicas) calls per second, and that must be at least 1",
			smallestLimit, r.Replicas, smallestLimit)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"dialTimeout", r.DialTimeout}, {"opTimeout", r.OpTimeout}} {
		if d.v <= 0 || d.v > 5*time.Second {
			return yamlconfig.Errorf(d.key, "must be within 0..5s, got %s", d.v)
		}
	}
	if strings.ContainsAny(r.KeyPrefix, " \t\n") {
		return yamlconfig.Errorf("keyPrefix", "%q contains white space", r.KeyPrefix)
	}
	return nil
}

// options reads the URL from where the config says. Errors never quote
// the URL or any part of it: it may hold a password.
func (r Config) options() (*redis.Options, error) {
	u := r.URL
	if u == "" {
		var err error
		if u, err = secret.Read(r.URLEnv, r.URLFile); err != nil {
			return nil, err
		}
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		return nil, errors.New("redis: not a redis:// or rediss:// URL: " + whyNotURL(err))
	}
	opts.DialTimeout = r.DialTimeout
	opts.ReadTimeout, opts.WriteTimeout = r.OpTimeout, r.OpTimeout
	opts.PoolTimeout = r.OpTimeout
	opts.ContextTimeoutEnabled = true
	// A retried script could take a second slot for one call; a failed
	// operation goes local instead.
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	opts.DisableIdentity = true
	// Maintenance notifications are for Redis Cloud; off, a connection
	// costs no extra command.
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	// Pipelines on the main pool, not a pool of their own: after many
	// failed dials a go-redis pool stops dialing and hands out its last
	// dial error until a background dial gets through, and two pools get
	// through at different times — a pipeline found Redis back while plain
	// commands were still refused (issue 15.17). With one pool, an answer
	// means the pool dials again.
	opts.PipelinePoolSize = -1
	return opts, nil
}

// whyNotURL says what is wrong with a URL that did not parse without
// repeating any of the parser's words: net/url quotes pieces of the URL in
// its errors (`invalid port ":<password>" after host`), and a password
// with '/', '?' or '#' in it is cut into such pieces.
func whyNotURL(err error) string {
	var ue *url.Error
	msg := err.Error()
	switch {
	case errors.As(err, &ue):
		return "it does not parse; percent-encode any '/', '?', '#', '@' or ':' in the user name or password"
	case strings.Contains(msg, "invalid URL scheme"):
		return "the scheme must be redis:// or rediss://"
	case strings.Contains(msg, "database number"):
		return "the path must be a database number, such as /0"
	}
	return "check its scheme, host, port and database number"
}
