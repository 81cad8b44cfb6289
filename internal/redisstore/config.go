package redisstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
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
	// With Sentinel or Cluster the URL is optional and gives only the
	// scheme, user, password and database: its host is not dialled (with
	// rediss:// it is the name the servers' certificates must carry).
	URL     string `yaml:"url"`
	URLEnv  string `yaml:"urlEnv"`
	URLFile string `yaml:"urlFile"`
	// Sentinel, when set, finds the master through Redis Sentinel and
	// follows it when Sentinel fails over.
	Sentinel *SentinelConfig `yaml:"sentinel"`
	// Cluster, when set, shares a Redis Cluster. Every script's keys
	// share one hash tag, so each runs on one node.
	Cluster *ClusterConfig `yaml:"cluster"`
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

// SentinelConfig names the master the Sentinels watch.
type SentinelConfig struct {
	// MasterName is the name the Sentinels monitor the master under.
	MasterName string `yaml:"masterName"`
	// Addresses are host:port of Sentinels; go-redis learns the others
	// from the first that answers.
	Addresses []string `yaml:"addresses"`
	// Username, PasswordEnv and PasswordFile are the Sentinels' own
	// credentials (their requirepass, or an ACL user), if they need any.
	Username     string `yaml:"username"`
	PasswordEnv  string `yaml:"passwordEnv"`
	PasswordFile string `yaml:"passwordFile"`
}

// ClusterConfig names nodes of a Redis Cluster; go-redis learns the
// others, and which holds which slots, from them.
type ClusterConfig struct {
	// Addresses are host:port of one or more nodes.
	Addresses []string `yaml:"addresses"`
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
	ha := r.Sentinel != nil || r.Cluster != nil
	switch {
	case r.Sentinel != nil && r.Cluster != nil:
		return yamlconfig.Errorf("cluster", "a Redis Cluster has no Sentinels: give sentinel or cluster, not both")
	case ha && n > 1:
		return yamlconfig.Errorf("", "give at most one of url, urlEnv and urlFile")
	case !ha && n != 1:
		return yamlconfig.Errorf("", "give exactly one of url, urlEnv and urlFile")
	}
	if r.URL != "" {
		if _, err := r.parse(r.URL); err != nil {
			return yamlconfig.Errorf("url", "%s", err)
		}
	}
	if r.Sentinel != nil {
		if err := r.Sentinel.validate(); err != nil {
			return yamlconfig.Nest("sentinel", err)
		}
	}
	if r.Cluster != nil {
		if err := validAddresses(r.Cluster.Addresses, "node"); err != nil {
			return yamlconfig.Nest("cluster", err)
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
	if r.Cluster != nil && strings.ContainsAny(r.KeyPrefix, "{}") {
		// A script's keys share the hash tag after the prefix; a brace in
		// the prefix would make the tag start (or, as "{}", vanish) there.
		return yamlconfig.Errorf("keyPrefix", "%q contains a brace: in a Redis Cluster it would change the hash tag that keeps each script's keys in one slot", r.KeyPrefix)
	}
	return nil
}

func (s SentinelConfig) validate() error {
	if s.MasterName == "" || strings.ContainsAny(s.MasterName, " \t\n") {
		return yamlconfig.Errorf("masterName", "must be the name the Sentinels monitor the master under, without white space, got %q", s.MasterName)
	}
	if err := validAddresses(s.Addresses, "Sentinel"); err != nil {
		return err
	}
	switch {
	case s.PasswordEnv != "" && s.PasswordFile != "":
		return yamlconfig.Errorf("", "give at most one of passwordEnv and passwordFile")
	case s.Username != "" && s.PasswordEnv == "" && s.PasswordFile == "":
		return yamlconfig.Errorf("username", "an ACL user needs its password: give passwordEnv or passwordFile")
	}
	return nil
}

// validAddresses checks a list of host:port, of at least one what.
func validAddresses(addrs []string, what string) error {
	if len(addrs) == 0 {
		return yamlconfig.Errorf("addresses", "give the host:port of at least one %s", what)
	}
	for i, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
			return yamlconfig.Errorf(fmt.Sprintf("addresses[%d]", i), "%q is not host:port", a)
		}
	}
	return nil
}

// parse reads a URL. Its errors never quote the URL or any part of it: it
// may hold a password.
func (r Config) parse(u string) (*redis.Options, error) {
	opts, err := redis.ParseURL(u)
	if err != nil {
		return nil, errors.New("not a redis:// or rediss:// URL: " + whyNotURL(err))
	}
	if r.Cluster != nil && opts.DB != 0 {
		return nil, errors.New("a Redis Cluster has database 0 only: leave the URL's path empty or /0")
	}
	return opts, nil
}

// client makes the go-redis client the config describes, and names what it
// connects to for logs (never the URL, which may hold a password).
func (r Config) client() (redis.UniversalClient, string, error) {
	u := r.URL
	if u == "" {
		var err error
		if u, err = secret.Read(r.URLEnv, r.URLFile); err != nil {
			return nil, "", err
		}
	}
	opts := &redis.Options{}
	if u != "" {
		var err error
		if opts, err = r.parse(u); err != nil {
			return nil, "", fmt.Errorf("redis: %w", err)
		}
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
	if r.Sentinel == nil && r.Cluster == nil {
		return redis.NewClient(opts), opts.Addr, nil
	}
	// The same credentials and bounds for the master (or the cluster's
	// nodes) whatever the mode.
	uo := &redis.UniversalOptions{
		Username: opts.Username, Password: opts.Password, DB: opts.DB, TLSConfig: opts.TLSConfig,
		Protocol: opts.Protocol, ClientName: opts.ClientName,
		DialTimeout: opts.DialTimeout, ReadTimeout: opts.ReadTimeout, WriteTimeout: opts.WriteTimeout,
		PoolTimeout: opts.PoolTimeout, ContextTimeoutEnabled: true, MaxRetries: opts.MaxRetries,
		DialerRetries: opts.DialerRetries, DisableIdentity: true, PipelinePoolSize: opts.PipelinePoolSize,
		MaintNotificationsConfig: opts.MaintNotificationsConfig,
	}
	if r.Cluster != nil {
		uo.Addrs = r.Cluster.Addresses
		return redis.NewClusterClient(uo.Cluster()), "cluster " + strings.Join(uo.Addrs, ","), nil
	}
	password, err := secret.Read(r.Sentinel.PasswordEnv, r.Sentinel.PasswordFile)
	if err != nil {
		return nil, "", fmt.Errorf("redis sentinel password: %w", err)
	}
	uo.MasterName, uo.Addrs = r.Sentinel.MasterName, r.Sentinel.Addresses
	uo.SentinelUsername, uo.SentinelPassword = r.Sentinel.Username, password
	return redis.NewFailoverClient(uo.Failover()), "master " + r.Sentinel.MasterName + " via sentinel", nil
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
