package proxy

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

// redisProbeInterval is how often a replica that lost Redis tries it
// again: a dead server costs one timeout per interval, not one per request.
const redisProbeInterval = time.Second

// redisMetrics say whether Redis is in use and what its absence costs.
type redisMetrics struct {
	up        prometheus.Gauge
	errors    *prometheus.CounterVec
	fallbacks *prometheus.CounterVec
	cache     *prometheus.CounterVec
}

// redisMetrics registers the Redis series on first use, so that a proxy
// without Redis does not export a misleading mudscf_redis_up 0.
func (m *Metrics) redisMetrics() *redisMetrics {
	m.redisOnce.Do(func() {
		r := &redisMetrics{
			up: prometheus.NewGauge(prometheus.GaugeOpts{
				Name: "mudscf_redis_up", Help: "1 while Redis answers; 0 while the budget and the cache run locally.",
			}),
			errors: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "mudscf_redis_errors_total", Help: "Redis operations that failed, by operation.",
			}, []string{"op"}),
			fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "mudscf_redis_fallbacks_total", Help: "Budget acquisitions and cache lookups served locally because Redis was unreachable, by component.",
			}, []string{"component"}),
			cache: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "mudscf_redis_cache_requests_total", Help: "Lookups in the shared cache after a local miss, by kind (page, stats) and result (hit, miss).",
			}, []string{"kind", "result"}),
		}
		m.Registry.MustRegister(r.up, r.errors, r.fallbacks, r.cache)
		for _, op := range []string{"budget_acquire", "budget_done", "budget_pause", "cache_get", "cache_set", "cache_lock"} {
			r.errors.WithLabelValues(op)
		}
		for _, c := range []string{"budget", "cache"} {
			r.fallbacks.WithLabelValues(c)
		}
		for _, kind := range []string{"page", "stats"} {
			for _, result := range []string{"hit", "miss"} {
				r.cache.WithLabelValues(kind, result)
			}
		}
		m.redis = r
	})
	return m.redis
}

var redisLogOnce sync.Once

// redisLogger sends go-redis's own messages to slog at debug level. The
// logger is process-wide in go-redis, so the first proxy's logger gets it.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.Log(ctx, slog.LevelDebug, "redis: "+fmt.Sprintf(format, v...))
}

// redisStore is the Redis connection the replicas share, and whether it
// works. Every operation is bounded by opTimeout; a failure marks Redis
// down, and callers then act locally until a probe succeeds.
type redisStore struct {
	client    *redis.Client
	host      string // for logs: never the URL, which may hold a password
	prefix    string
	opTimeout time.Duration
	dialTime  time.Duration
	replicas  int
	logger    *slog.Logger
	metrics   *redisMetrics

	up        atomic.Bool
	mu        sync.Mutex
	nextProbe time.Time
	downAt    time.Time
	failures  int // in a row
	// downs counts transitions to down. A budget that sees it change
	// knows replicas may have spent the account locally meanwhile.
	downs atomic.Uint64
}

func newRedisStore(ctx context.Context, cfg *RedisConfig, logger *slog.Logger, m *Metrics) (*redisStore, error) {
	opts, err := cfg.redisOptions()
	if err != nil {
		return nil, err
	}
	s := &redisStore{
		client: redis.NewClient(opts), host: opts.Addr, prefix: cfg.KeyPrefix,
		opTimeout: cfg.OpTimeout, dialTime: cfg.DialTimeout, replicas: cfg.Replicas,
		logger: logger, metrics: m.redisMetrics(),
	}
	context.AfterFunc(ctx, func() { s.client.Close() })
	// go-redis logs dial failures itself, per attempt, to stderr; the
	// transitions are logged here once each, its detail only at debug.
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{logger}) })
	s.up.Store(true)
	s.metrics.up.Set(1)
	pctx, cancel := s.opContext(ctx)
	defer cancel()
	if err := s.client.Ping(pctx).Err(); err != nil {
		// Unreachable at start is down at once: there is no history of
		// answers to weigh one failure against.
		s.failures = redisFailuresToDown - 1
		s.failed("ping", err)
	} else {
		logger.Info("redis: sharing the budget and the cache", slog.String("host", s.host))
	}
	return s, nil
}

// opContext bounds one operation. It does not inherit cancellation: a
// client hanging up must not look like Redis failing.
func (s *redisStore) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.opTimeout)
}

// usable says whether to try Redis now: always while it is up, and once
// per probe interval while it is down.
func (s *redisStore) usable() bool {
	if s.up.Load() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Before(s.nextProbe) {
		return false
	}
	s.nextProbe = now.Add(redisProbeInterval)
	return true
}

// redisFailuresToDown is how many operations in a row may fail (time
// out, mostly) before Redis counts as down. A refused connection counts
// at once. Each loss of Redis costs capacity (the local budget's start,
// the reserve on return), so one slow answer must not cause it.
const redisFailuresToDown = 3

// failed records a failed operation; the loss of Redis is logged once.
func (s *redisStore) failed(op string, err error) {
	s.metrics.errors.WithLabelValues(op).Inc()
	s.mu.Lock()
	now := time.Now()
	s.nextProbe = now.Add(redisProbeInterval)
	s.failures++
	down := s.up.Load() && (s.failures >= redisFailuresToDown || errors.Is(err, syscall.ECONNREFUSED))
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

// succeeded records an operation that began at began. Only one begun
// after Redis was found down proves it back: answers to older ones were
// already on their way.
func (s *redisStore) succeeded(began time.Time) {
	s.mu.Lock()
	s.failures = 0
	back := !s.up.Load() && began.After(s.downAt)
	if back {
		s.up.Store(true)
	}
	s.mu.Unlock()
	if back {
		s.metrics.up.Set(1)
		s.logger.Info("redis reachable again: the budget and the cache are shared", slog.String("host", s.host))
	}
}

// result records how an operation begun at began went, and whether its
// answer can be used. redis.Nil (no such key) is an answer, not a failure.
func (s *redisStore) result(op string, began time.Time, err error) bool {
	if err != nil && !errors.Is(err, redis.Nil) {
		s.failed(op, err)
		return false
	}
	s.succeeded(began)
	return true
}

// hashed names a key after a SHA-256 of id: SecretIds and cache keys stay
// out of Redis's key space (and out of anyone's MONITOR or KEYS).
func hashed(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}
