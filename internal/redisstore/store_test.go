package redisstore

import (
	"context"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/testenv"
)

// testStore is a store on url whose log lines land in log.
func testStore(t *testing.T, url string, log *lines) *Store {
	t.Helper()
	// Generous timeouts: a loss must come from Redis, not from the race
	// detector on a busy machine.
	cfg := Config{URL: url, Replicas: 1, DialTimeout: time.Second, OpTimeout: time.Second}
	cfg.ApplyDefaults()
	if err := cfg.Validate(5); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := New(ctx, cfg, testLogger(t.Name(), log), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// plain is one operation as the budget and the cache's lock make them:
// one command, its result recorded.
func plain(s *Store) {
	ctx, cancel := s.OpContext(context.Background())
	defer cancel()
	began := time.Now()
	s.Result("cache_lock", began, s.Client().SetNX(ctx, s.Key("lock"), "x", time.Second).Err())
}

// pipelined is one operation as the cache's lookups and stores make them:
// a pipeline of two commands.
func pipelined(s *Store) {
	ctx, cancel := s.OpContext(context.Background())
	defer cancel()
	began := time.Now()
	pipe := s.Client().Pipeline()
	pipe.Get(ctx, s.Key("value"))
	pipe.Exists(ctx, s.Key("lock"))
	_, err := pipe.Exec(ctx)
	s.Result("cache_get", began, err)
}

// burst runs n operations at once.
func burst(n int, op func(*Store), s *Store) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { op(s) })
	}
	wg.Wait()
}

const (
	lossLine   = "redis unreachable: the budget and the cache run locally until it answers"
	returnLine = "redis reachable again: the budget and the cache are shared"
)

// A Redis that crashes and comes back is one loss and one return (issue
// 15.17). When more dials fail than a go-redis pool has connections, the
// pool stops dialing and hands out its last dial error (connection
// refused) until a background dial, once a second, gets through; pipelines
// had a pool of their own, whose background dial could get through first:
// a pipelined lookup found Redis back, and the next plain command was
// refused at once.
func TestRedisCrashIsOneLossAndOneReturn(t *testing.T) {
	r := testenv.StartRedis(t)
	var log lines
	s := testStore(t, r.URL(), &log)
	if !s.Up() {
		t.Fatal("down at start")
	}

	// A replica under load, as the shared cache loads it: a pipelined
	// lookup when the store is usable (so the probe, while Redis is down,
	// is a pipeline), then a plain command while Redis counts as up.
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				if s.Usable() {
					pipelined(s)
				}
				if s.Up() {
					plain(s)
				}
				time.Sleep(time.Millisecond) // a replica's pace of requests to a real redis-server
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()

	r.Kill()
	// The requests in flight at the loss fail to dial, more of them than
	// each pool has connections, so each pool stops dialing and starts a
	// background dial, once a second: the main pool's at 0, the pipeline
	// pool's at 300ms. Failures (the last, at 600ms) set the store's
	// probes, once a second too.
	mainPool := time.Now()
	burst(2*s.Client().(*redis.Client).Options().PoolSize, plain, s)
	time.Sleep(300 * time.Millisecond) // go-redis's pools redial once a second on the wall clock: stagger them
	pipelinePool := time.Now()
	burst(2*redis.DefaultPipelinePoolSize, pipelined, s)
	time.Sleep(300 * time.Millisecond) // as above
	burst(2*s.Client().(*redis.Client).Options().PoolSize, plain, s)
	if s.Up() {
		t.Fatal("up after Redis was killed and every operation failed")
	}
	// Redis returns just after a background dial of the main pool: the
	// pipeline pool's dials it first, then a probe (a pipeline) finds it
	// back while the main pool still hands out "connection refused". Only
	// whether the old code failed depends on this timing: one loss and one
	// return must hold whatever it is.
	time.Sleep(time.Until(mainPool.Add(2*time.Second + 50*time.Millisecond))) // just after the main pool's wall-clock redial
	r.Start()
	t.Logf("main pool saturated %s, pipeline pool %s, Redis back %s", mainPool.Format("05.000"), pipelinePool.Format("05.000"), time.Now().Format("05.000"))

	// Watch the return and then longer than go-redis remembers a dial
	// error.
	for range 1000 {
		if s.Up() {
			break
		}
		time.Sleep(10 * time.Millisecond) // a poll: the store finds a real redis-server back on its own clock
	}
	time.Sleep(2 * ProbeInterval) // longer than go-redis remembers a dial error, on the wall clock
	stop.Store(true)
	wg.Wait()
	if losses, returns := log.count(lossLine), log.count(returnLine); losses != 1 || returns != 1 || !s.Up() {
		t.Errorf("%d losses and %d returns logged (up %v), want one of each:\n%s", losses, returns, s.Up(), log.summary())
	}
}

// refused is the error go-redis gives for a port nobody listens on.
var refused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

// How failures turn into a loss, with time as an input: a refusal is a
// loss at once, except for staleRefusal after a return, when it counts
// like a timeout, failuresToDown in a row; an answer breaks the row.
func TestFailuresToDown(t *testing.T) {
	timeout := context.DeadlineExceeded
	cases := []struct {
		name     string
		returned bool          // Redis was lost and found back first
		after    time.Duration // then this much time passed
		errs     []error       // failures in a row
		wantDown bool
	}{
		{"a refusal, never lost before", false, 0, []error{refused}, true},
		{"a refusal long after a return", true, staleRefusal, []error{refused}, true},
		{"a refusal right after a return", true, 0, []error{refused}, false},
		{"two refusals right after a return", true, staleRefusal / 2, []error{refused, refused}, false},
		{"a dead Redis right after a return", true, 0, []error{refused, refused, refused}, true},
		{"two timeouts", false, 0, []error{timeout, timeout}, false},
		{"three timeouts", false, 0, []error{timeout, timeout, timeout}, true},
		{"three timeouts and an answer between", false, 0, []error{timeout, nil, timeout, timeout}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var log lines
				s := &Store{host: "redis.test:6379", logger: testLogger(t.Name(), &log), metrics: newMetrics(prometheus.NewRegistry())}
				s.up.Store(true)
				if c.returned {
					s.Failed("cache_get", refused)
					time.Sleep(time.Millisecond)
					s.Succeeded(time.Now())
					if !s.Up() {
						t.Fatal("an answer after the loss did not bring Redis back")
					}
				}
				time.Sleep(c.after)
				for _, err := range c.errs {
					s.Result("cache_get", time.Now(), err)
				}
				if s.Up() == c.wantDown {
					t.Errorf("down %v, want %v:\n%s", !s.Up(), c.wantDown, log.summary())
				}
			})
		})
	}
}
