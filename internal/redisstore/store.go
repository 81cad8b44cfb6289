package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// ProbeInterval is how often a replica that lost Redis tries it again: a
// dead server costs one timeout per interval, not one per request.
const ProbeInterval = time.Second

// failuresToDown is how many operations in a row may fail (time out,
// mostly) before Redis counts as down. A refused connection counts at
// once, except within staleRefusal of a return. Each loss of Redis costs
// capacity (the local budget's start, the reserve on return), so one slow
// answer must not cause it.
const failuresToDown = 3

// staleRefusal is how long after Redis answered again a refused connection
// may be old news: a go-redis pool that saw many dials fail stops dialing
// and hands out its last dial error until a background dial, once a
// second, gets through. Within it a refusal counts like any other failure,
// so a Redis that dies again at once is still found down after
// failuresToDown operations, which under load is milliseconds.
const staleRefusal = time.Second

// metrics say whether Redis is in use and what its absence costs. They are
// registered with the store, so that a proxy without Redis does not export
// a misleading mudscf_redis_up 0.
type metrics struct {
	up        prometheus.Gauge
	errors    *prometheus.CounterVec
	fallbacks *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mudscf_redis_up", Help: "1 while Redis answers; 0 while the budget and the cache run locally.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_redis_errors_total", Help: "Redis operations that failed, by operation.",
		}, []string{"op"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mudscf_redis_fallbacks_total", Help: "Budget acquisitions and cache lookups served locally because Redis was unreachable, by component.",
		}, []string{"component"}),
	}
	reg.MustRegister(m.up, m.errors, m.fallbacks)
	for _, op := range []string{"budget_acquire", "budget_done", "budget_pause", "cache_get", "cache_set", "cache_lock"} {
		m.errors.WithLabelValues(op)
	}
	for _, c := range []string{"budget", "cache"} {
		m.fallbacks.WithLabelValues(c)
	}
	return m
}

var logOnce sync.Once

// logger sends go-redis's own messages to slog at debug level. The logger
// is process-wide in go-redis, so the first store's logger gets it.
type logger struct{ l *slog.Logger }

func (r logger) Printf(ctx context.Context, format string, v ...any) {
	r.l.Log(ctx, slog.LevelDebug, "redis: "+fmt.Sprintf(format, v...))
}

// Store is the Redis connection the replicas share, and whether it works.
type Store struct {
	client    redis.UniversalClient
	host      string // for logs: never the URL, which may hold a password
	prefix    string
	opTimeout time.Duration
	dialTime  time.Duration
	replicas  int
	logger    *slog.Logger
	metrics   *metrics

	up        atomic.Bool
	mu        sync.Mutex
	nextProbe time.Time
	downAt    time.Time
	backAt    time.Time // the last return; zero before any loss
	failures  int       // in a row
	// downs counts transitions to down. A budget that sees it change
	// knows replicas may have spent the account locally meanwhile.
	downs atomic.Uint64
}

// New connects to the Redis the config names; the client closes when ctx
// ends. An unreachable server is no error: the store starts down.
func New(ctx context.Context, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Store, error) {
	client, host, err := cfg.client()
	if err != nil {
		return nil, err
	}
	s := &Store{
		client: client, host: host, prefix: cfg.KeyPrefix,
		opTimeout: cfg.OpTimeout, dialTime: cfg.DialTimeout, replicas: cfg.Replicas,
		logger: log, metrics: newMetrics(reg),
	}
	context.AfterFunc(ctx, func() { s.client.Close() })
	// go-redis logs dial failures itself, per attempt, to stderr; the
	// transitions are logged here once each, its detail only at debug.
	logOnce.Do(func() { redis.SetLogger(logger{log}) })
	s.up.Store(true)
	s.metrics.up.Set(1)
	pctx, cancel := s.OpContext(ctx)
	defer cancel()
	if err := s.client.Ping(pctx).Err(); err != nil {
		// Unreachable at start is down at once: there is no history of
		// answers to weigh one failure against.
		s.failures = failuresToDown - 1
		s.Failed("ping", err)
	} else {
		log.Info("redis: sharing the budget and the cache", slog.String("host", s.host))
	}
	return s, nil
}

// Client is the go-redis client, for operations the store's users make: a
// plain, a Sentinel failover or a Cluster client, by the configuration.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Key is name under the configured key prefix.
func (s *Store) Key(name string) string { return s.prefix + name }

// Replicas is how many proxies share the store.
func (s *Store) Replicas() int { return s.replicas }

// OpTimeout bounds one operation; DialTimeout bounds connecting.
func (s *Store) OpTimeout() time.Duration   { return s.opTimeout }
func (s *Store) DialTimeout() time.Duration { return s.dialTime }

// Up says whether Redis counts as reachable now.
func (s *Store) Up() bool { return s.up.Load() }

// Downs counts the losses of Redis so far.
func (s *Store) Downs() uint64 { return s.downs.Load() }

// Fallback counts one budget acquisition or cache lookup (component) done
// locally because Redis was unreachable.
func (s *Store) Fallback(component string) {
	s.metrics.fallbacks.WithLabelValues(component).Inc()
}

// OpContext bounds one operation. It does not inherit cancellation: a
// client hanging up must not look like Redis failing.
func (s *Store) OpContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.opTimeout)
}

// Usable says whether to try Redis now: always while it is up, and once
// per probe interval while it is down.
func (s *Store) Usable() bool {
	if s.up.Load() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Before(s.nextProbe) {
		return false
	}
	s.nextProbe = now.Add(ProbeInterval)
	return true
}

// Failed records a failed operation; the loss of Redis is logged once.
func (s *Store) Failed(op string, err error) {
	s.metrics.errors.WithLabelValues(op).Inc()
	s.mu.Lock()
	now := time.Now()
	s.nextProbe = now.Add(ProbeInterval)
	s.failures++
	refused := errors.Is(err, syscall.ECONNREFUSED) && now.Sub(s.backAt) >= staleRefusal
	down := s.up.Load() && (s.failures >= failuresToDown || refused)
	if down {
		s.up.Store(false)
		s.downAt = now
		s.downs.Add(1)
	}
	s.mu.Unlock()
	if down {
		s.metrics.up.Set(0)
		s.logger.Warn("redis unreachable: the budget and the cache run locally until it answers",
			slog.String("host", s.host), slog.String("op", op), slog.String("err", err.Error()))
	}
}

// Succeeded records an operation that began at began. Only one begun after
// Redis was found down proves it back: answers to older ones were already
// on their way.
func (s *Store) Succeeded(began time.Time) {
	s.mu.Lock()
	s.failures = 0
	back := !s.up.Load() && began.After(s.downAt)
	if back {
		s.up.Store(true)
		s.backAt = time.Now()
	}
	s.mu.Unlock()
	if back {
		s.metrics.up.Set(1)
		s.logger.Info("redis reachable again: the budget and the cache are shared", slog.String("host", s.host))
	}
}

// Result records how an operation begun at began went, and whether its
// answer can be used. redis.Nil (no such key) is an answer, not a failure.
func (s *Store) Result(op string, began time.Time, err error) bool {
	if err != nil && !errors.Is(err, redis.Nil) {
		s.Failed(op, err)
		return false
	}
	s.Succeeded(began)
	return true
}

// Hash names a key after a SHA-256 of id: SecretIds and cache keys stay
// out of Redis's key space (and out of anyone's MONITOR or KEYS).
func Hash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}
