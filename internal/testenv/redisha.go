package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartReplica runs a redis-server replicating master and returns once its
// first sync is done, as its log says.
func StartReplica(t testing.TB, master *Redis, args ...string) *Redis {
	t.Helper()
	r := StartRedisWith(t, append([]string{"--replicaof", "127.0.0.1", master.port}, args...)...)
	r.log.WaitFor(t, syncedLine)
	return r
}

var syncedLine = regexp.MustCompile(`MASTER <-> REPLICA sync: Finished with success`)

// Sentinel is a real redis-sentinel on a free loopback port, killed when
// the test ends.
type Sentinel struct {
	t    testing.TB
	port string
	cmd  *exec.Cmd
	log  *SyncBuffer
}

// SentinelDownAfter is how long the Sentinels StartSentinel runs wait for
// a silent master before they call it down (Sentinel's own default is
// 30 s): the failover a test waits for takes about this plus an election.
const SentinelDownAfter = time.Second

// StartSentinel runs a redis-sentinel watching master under name, with
// quorum, and config, more lines of its configuration file (such as
// "requirepass ..."). It returns once the Sentinel monitors the master.
func StartSentinel(t testing.TB, name string, master *Redis, quorum int, config ...string) *Sentinel {
	t.Helper()
	Tool(t, "redis-sentinel", "Debian: apt-get install redis-sentinel")
	dir := t.TempDir()
	s := &Sentinel{t: t, port: freePort(t), log: &SyncBuffer{}}
	conf := strings.Join(append([]string{
		"port " + s.port,
		"bind 127.0.0.1",
		fmt.Sprintf("dir %q", dir),
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %s %d", name, master.port, quorum),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", name, SentinelDownAfter.Milliseconds()),
		// A failed election is retried after this, rather than 3 minutes.
		fmt.Sprintf("sentinel failover-timeout %s 10000", name),
	}, config...), "\n") + "\n"
	path := filepath.Join(dir, "sentinel.conf") // Sentinel rewrites its file: it must be its own
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command("redis-sentinel", path)
	s.cmd.Stdout = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	s.log.WaitFor(t, regexp.MustCompile(`\+monitor master `+regexp.QuoteMeta(name)+` `))
	return s
}

// Addr is the Sentinel's host:port.
func (s *Sentinel) Addr() string { return "127.0.0.1:" + s.port }

// Log is what the Sentinel logged so far: its events, such as
// +switch-master, with the time of each.
func (s *Sentinel) Log() *SyncBuffer { return s.log }

// Kill ends the Sentinel with SIGKILL.
func (s *Sentinel) Kill() {
	if s.cmd == nil {
		return
	}
	// As Redis.Kill: neither error is news to a test that kills it.
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// WaitKnows returns once the Sentinel knows peers other Sentinels and
// replicas replicas of its master, as its log says: only then can a
// quorum of them elect a leader and promote a replica.
func (s *Sentinel) WaitKnows(t testing.TB, peers, replicas int) {
	t.Helper()
	if peers > 0 {
		s.log.WaitFor(t, regexp.MustCompile(fmt.Sprintf(`(?s)(\+sentinel sentinel .*){%d}`, peers)))
	}
	if replicas > 0 {
		s.log.WaitFor(t, regexp.MustCompile(fmt.Sprintf(`(?s)(\+slave slave .*){%d}`, replicas)))
	}
}

// StartRedisCluster runs a Redis Cluster of n masters (no replicas), the
// hash slots split evenly, and returns once every node says the cluster is
// ok.
func StartRedisCluster(t testing.TB, n int) []*Redis {
	t.Helper()
	nodes := make([]*Redis, n)
	for i := range nodes {
		nodes[i] = StartRedisWith(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000")
	}
	ctx := context.Background()
	const slots = 16384
	for i, node := range nodes {
		c := redis.NewClient(&redis.Options{Addr: node.Addr(), MaxRetries: -1})
		err := c.ClusterAddSlotsRange(ctx, i*slots/n, (i+1)*slots/n-1).Err()
		for _, other := range nodes[:i] {
			if err == nil {
				err = c.ClusterMeet(ctx, "127.0.0.1", other.port).Err()
			}
		}
		c.Close()
		if err != nil {
			t.Fatalf("cluster node %s: %v", node.Addr(), err)
		}
	}
	for _, node := range nodes {
		node.log.WaitFor(t, clusterOK)
	}
	return nodes
}

var clusterOK = regexp.MustCompile(`Cluster state changed: ok`)
