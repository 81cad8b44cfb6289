package proxy

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/testenv"
)

// clientLog is what clients saw, by phase of a failover.
type clientLog struct {
	mu   sync.Mutex
	seen map[string]map[string]int // phase → status and X-Cache → count
}

func (l *clientLog) add(phase string, status int, xCache string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]map[string]int{}
	}
	if l.seen[phase] == nil {
		l.seen[phase] = map[string]int{}
	}
	what := strconv.Itoa(status)
	if status == http.StatusOK {
		what += " " + xCache
	}
	l.seen[phase][what]++
}

// The master Redis is killed under load; the Sentinels promote its replica
// and both proxies follow. Throughout, the upstream never sees more than 5
// calls in a sliding second nor a RequestLimitExceeded, clients get
// answers or 429s and never a 5xx, and once the proxies are back the
// shared cache works again: a page one fetched is a hit on the other
// (issue 21.6). At the default upstream timeout and maxWait.
func TestRedisSentinelFailover(t *testing.T) {
	master := testenv.StartRedis(t)
	replica := testenv.StartReplica(t, master)
	var sentinels []*testenv.Sentinel
	for range 3 {
		sentinels = append(sentinels, testenv.StartSentinel(t, "mymaster", master, 2))
	}
	var addrs []string
	for _, s := range sentinels {
		s.WaitKnows(t, len(sentinels)-1, 1)
		addrs = append(addrs, s.Addr())
	}
	sim := testenv.StartSimulator(t, nil)
	var pair [2]*proxyEnv
	for i := range pair {
		pair[i] = startProxyOn(t, sim, func(cfg *Config) {
			cfg.Upstream.Timeout, cfg.Budget.MaxWait = 0, 0 // the defaults
			cfg.Redis = &redisstore.Config{
				Sentinel: &redisstore.SentinelConfig{MasterName: "mymaster", Addresses: addrs},
				Replicas: 2, DialTimeout: time.Second, OpTimeout: time.Second, // generous for the race detector
			}
		}, Options{})
		if !pair[i].proxy.shared.store.Up() {
			t.Fatalf("replica %d found no master through the Sentinels:\n%s", i, pair[i].logs.String())
		}
	}
	tok := pair[0].token(t, "usr_morgan_de")
	window := fixedWindow()

	// Clients: distinct pages, which spend the budget, and a few hot
	// pages, which the cache serves; each at a client's pace.
	var phaseMu sync.Mutex
	phase := "before"
	setPhase := func(p string) { phaseMu.Lock(); phase = p; phaseMu.Unlock() }
	var seen clientLog
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var next int
	var nextMu sync.Mutex
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond): // a client's pace; Redis and the Sentinels keep the wall clock's time
				}
				path := logsPath + "?stats=false&limit=2&offset=" + strconv.Itoa(i%3) + window
				if w%2 == 0 {
					nextMu.Lock()
					next++
					path = logsPath + "?limit=1&offset=" + strconv.Itoa(100+next) + window
					nextMu.Unlock()
				}
				phaseMu.Lock()
				p := phase
				phaseMu.Unlock()
				got := pair[(w+i)%2].get(t, path, tok)
				seen.add(p, got.status, got.header.Get("X-Cache"))
			}
		})
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	time.Sleep(2 * time.Second) // load before the failover, on the wall clock the Sentinels keep
	killed := time.Now()
	setPhase("during")
	master.Kill()
	switched := sentinels[0].Log().WaitFor(t, regexp.MustCompile(`\+switch-master mymaster \S+ \d+ (\S+) (\d+)`))
	switchedAt := time.Now()
	if got := "127.0.0.1:" + switched[2]; switched[1] != "127.0.0.1" || got != replica.Addr() {
		t.Fatalf("the Sentinels promoted %s:%s, want the replica %s", switched[1], switched[2], replica.Addr())
	}
	var back [2]time.Duration
	for i, p := range pair {
		// A poll: the proxy finds the new master on its own (a probe a
		// second while Redis counts as down).
		for deadline := time.Now().Add(time.Minute); p.proxy.shared.store.Downs() == 0 || !p.proxy.shared.store.Up(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) { // a guard against a hang, not a measure
				t.Fatalf("replica %d: a minute after the master died, downs %d, up %v:\n%s", i, p.proxy.shared.store.Downs(), p.proxy.shared.store.Up(), p.logs.String())
			}
		}
		back[i] = time.Since(killed)
	}
	setPhase("after")
	// Long enough after the return for the reserve the returning budget
	// holds (probe interval + dialTimeout + opTimeout + maxWait + lease +
	// 1 s, 17 s here) to run out under load.
	time.Sleep(18 * time.Second) // the budget's leases run on Redis's clock
	close(stop)
	wg.Wait()

	// The shared cache is back: a page fetched on one proxy after the
	// switch is a hit on the other.
	assertSharedCache(t, pair, logsPath+"?stats=false&limit=7"+window, tok)
	c := redis.NewClient(&redis.Options{Addr: replica.Addr()})
	defer c.Close()
	if role := c.Do(context.Background(), "ROLE").Val(); fmt.Sprint(role) == "" || !strings.HasPrefix(fmt.Sprint(role), "[master") {
		t.Errorf("the replica's role after the switch: %v, want master", role)
	}

	truth := sim.Truth()
	assertWithinLimit(t, truth)
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for p, statuses := range seen.seen {
		for what, n := range statuses {
			if !strings.HasPrefix(what, "200") && what != "429" {
				t.Errorf("%s the switch, clients got %d × %s", p, n, what)
			}
		}
	}
	if len(seen.seen["after"]) == 0 || seen.seen["after"]["200 MISS"] == 0 {
		t.Errorf("no page fetched after the switch: %v", seen.seen["after"])
	}

	// The figures, for docs/operations.md and the issue.
	calls := map[int64]int{}
	for _, sc := range truth.Calls {
		if sc.SecretID == testenv.SecretID {
			calls[sc.Unix-killed.Unix()] += sc.Accepted
		}
	}
	var perSecond []string
	for _, s := range slices.Sorted(maps.Keys(calls)) {
		perSecond = append(perSecond, fmt.Sprintf("%+d:%d", s, calls[s]))
	}
	t.Logf("master killed; +switch-master after %v; proxies back after %v and %v", switchedAt.Sub(killed).Round(time.Millisecond),
		back[0].Round(time.Millisecond), back[1].Round(time.Millisecond))
	t.Logf("most calls in a sliding second %d; accepted calls per second from the kill: %s",
		truth.MaxCallsInAnySlidingSecond[testenv.SecretID], strings.Join(perSecond, " "))
	for _, p := range []string{"before", "during", "after"} {
		t.Logf("clients %s the switch: %v", p, seen.seen[p])
	}
	for i, p := range pair {
		// One loss and one return: the proxy follows the Sentinels, it
		// does not flap between the old master and the new.
		logs := p.logs.String()
		if losses, returns := strings.Count(logs, "redis unreachable"), strings.Count(logs, "redis reachable again"); losses != 1 || returns != 1 {
			t.Errorf("proxy %d logged %d losses and %d returns of Redis, want one of each", i, losses, returns)
		}
	}
}
