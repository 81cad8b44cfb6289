package proxy

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisConfig shares the budget and the response cache among replicas.
type RedisConfig struct {
	// Exactly one of URL, URLEnv and URLFile gives the server, as
	// redis://[user:password@]host:port/db or rediss:// for TLS. A URL may
	// carry a password, so URLEnv or URLFile are the better places for it.
	URL     string `yaml:"url"`
	URLEnv  string `yaml:"urlEnv"`
	URLFile string `yaml:"urlFile"`
	// Replicas is how many proxies share the accounts. While Redis is
	// unreachable each replica keeps to floor(requestsPerSecond/replicas)
	// calls per sliding second, so together they stay within the limit.
	// Required: a wrong value silently breaks that sum.
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

func (r *RedisConfig) validate(requestsPerSecond int) error {
	setDefault(&r.KeyPrefix, "mudscf:")
	setDefault(&r.DialTimeout, 200*time.Millisecond)
	setDefault(&r.OpTimeout, 200*time.Millisecond)
	n := 0
	for _, s := range []string{r.URL, r.URLEnv, r.URLFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("config: redis: give exactly one of url, urlEnv and urlFile")
	}
	if r.URL != "" {
		if _, err := redis.ParseURL(r.URL); err != nil {
			return fmt.Errorf("config: redis.url: not a redis:// or rediss:// URL (%s)", redactURLError(err, r.URL))
		}
	}
	if r.Replicas < 1 || r.Replicas > requestsPerSecond {
		// With more replicas than calls per second, floor(limit/replicas)
		// is 0: no local share keeps the sum within the limit.
		return fmt.Errorf("config: redis.replicas: must be between 1 and budget.requestsPerSecond (%d), got %d: "+
			"while Redis is unreachable each replica may make floor(%d/replicas) calls per second, and that must be at least 1",
			requestsPerSecond, r.Replicas, requestsPerSecond)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"redis.dialTimeout", r.DialTimeout}, {"redis.opTimeout", r.OpTimeout}} {
		if d.v <= 0 || d.v > 5*time.Second {
			return fmt.Errorf("config: %s: must be within 0..5s, got %s", d.key, d.v)
		}
	}
	if strings.ContainsAny(r.KeyPrefix, " \t\n") {
		return fmt.Errorf("config: redis.keyPrefix: %q contains white space", r.KeyPrefix)
	}
	return nil
}

// redisOptions reads the URL from where the config says. Errors never
// quote the URL: it may hold a password.
func (r *RedisConfig) redisOptions() (*redis.Options, error) {
	url := r.URL
	switch {
	case r.URLEnv != "":
		url = os.Getenv(r.URLEnv)
		if url == "" {
			return nil, fmt.Errorf("redis.urlEnv: the environment variable %s is empty", r.URLEnv)
		}
	case r.URLFile != "":
		b, err := os.ReadFile(r.URLFile)
		if err != nil {
			return nil, fmt.Errorf("redis.urlFile: %w", err)
		}
		url = strings.TrimSpace(string(b))
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: not a redis:// or rediss:// URL (%s)", redactURLError(err, url))
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
	return opts, nil
}

// redactURLError keeps a parse error's reason without the URL it quotes.
func redactURLError(err error, url string) string {
	msg := err.Error()
	if url != "" {
		msg = strings.ReplaceAll(msg, url, "<url>")
	}
	return msg
}
