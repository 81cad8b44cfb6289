package testenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Redis is a real redis-server on a free loopback port, without
// persistence, killed when the test ends.
type Redis struct {
	t    testing.TB
	port string
	args []string // more of redis-server's options
	cmd  *exec.Cmd
	log  *SyncBuffer
}

// StartRedis runs a redis-server for the test (see Tool for when there is
// none).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return StartRedisWith(t)
}

// StartRedisWith is StartRedis with more of redis-server's options, such
// as "--replicaof", host, port.
func StartRedisWith(t testing.TB, args ...string) *Redis {
	t.Helper()
	Tool(t, "redis-server", "Debian: apt-get install redis-server")
	r := &Redis{t: t, port: freePort(t), args: args}
	t.Cleanup(r.Kill) // first: a Start that fails the test has a process to end
	r.Start()
	return r
}

// freePort is a loopback port nobody listens on just now.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// URL is the server's redis:// URL.
func (r *Redis) URL() string { return "redis://127.0.0.1:" + r.port + "/0" }

// Addr is the server's host:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + r.port }

// Port is the server's port.
func (r *Redis) Port() string { return r.port }

// Log is what the server (its latest start) logged so far.
func (r *Redis) Log() *SyncBuffer { return r.log }

// Start runs redis-server (again, after Kill) and returns once it accepts
// connections, as its log says: no poll whose bound a slow machine could
// pass.
func (r *Redis) Start() {
	r.t.Helper()
	//nolint:gosec // G204: the arguments are this helper's own and its caller's, the port a free one it chose.
	r.cmd = exec.Command("redis-server", append([]string{"--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.t.TempDir()}, r.args...)...)
	r.log = &SyncBuffer{}
	r.cmd.Stdout = r.log
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.log.WaitFor(r.t, readyLine)
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
	defer c.Close()
	// NOAUTH is an answer too: a server started with --requirepass.
	if err := c.Ping(context.Background()).Err(); err != nil && !strings.HasPrefix(err.Error(), "NOAUTH") {
		r.t.Fatalf("redis-server said it was ready, but: %v", err)
	}
}

// readyLine is redis-server's log line once it accepts connections.
var readyLine = regexp.MustCompile(`(?i)ready to accept connections`)

// Kill is a crash, not a shutdown: SIGKILL, and the data is gone.
func (r *Redis) Kill() {
	if r.cmd == nil {
		return
	}
	// Kill fails only when the process is gone already, and Wait then
	// reports the signal or exit status: neither is news to a crash test.
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Signal sends sig to the server: SIGSTOP makes a Redis that hangs rather
// than refuses, SIGCONT lets it answer again.
func (r *Redis) Signal(sig os.Signal) error { return r.cmd.Process.Signal(sig) }
