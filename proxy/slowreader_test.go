package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/logsource"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

// smallSendBuffers shrinks the kernel's send buffer of every accepted
// connection, so that a client that does not read stalls the server's
// write within a few KiB rather than after the megabytes loopback buffers
// would otherwise absorb. It tells closed of each connection the server
// closes.
type smallSendBuffers struct {
	net.Listener
	closed chan struct{}
}

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := c.(*net.TCPConn).SetWriteBuffer(16 << 10); err != nil {
		return nil, err
	}
	return &toldClose{Conn: c, closed: l.closed}, nil
}

// toldClose is a connection that tells closed when it is closed.
type toldClose struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *toldClose) Close() error {
	c.once.Do(func() {
		select {
		case c.closed <- struct{}{}:
		default: // nobody counts this test's closes
		}
	})
	return c.Conn.Close()
}

// serveSmallBuffers runs env's proxy (Serve) with smallSendBuffers until the
// test ends and returns the API's host:port, and a channel told of each
// connection the server closes.
func serveSmallBuffers(t *testing.T, env *proxyEnv) (string, <-chan struct{}) {
	t.Helper()
	api := listen(t)
	closed := make(chan struct{}, 64)
	cancel, served := startServe(env, smallSendBuffers{api, closed}, listen(t))
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return api.Addr().String(), closed
}

// pageSource answers every page with the same executions, in-process and
// at once: no upstream, so no upstream timeout that a slow machine could
// cross (the simulator's 10,000-record fetch did, under -race).
type pageSource struct {
	page    translate.Page
	lastRun time.Time
}

func (s pageSource) Page(context.Context, translate.Target, translate.Query) (translate.Page, error) {
	return s.page, nil
}

func (s pageSource) Stats(context.Context, translate.Target, translate.Query) (translate.Stats, error) {
	return translate.NewStats(s.page.Total, s.page.Total, 250, s.lastRun), nil
}

// Calls: one in-process answer each.
func (s pageSource) Calls(translate.Query) (page, stats int) { return 1, 1 }

// bigPage is a source of n executions of about 700 bytes each, the size
// of the simulator's records with their log text.
func bigPage(n int) pageSource {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	page := translate.Page{Total: int64(n)}
	for i := range n {
		at := translate.FormatMudbaseTime(start.Add(-time.Duration(i) * time.Second))
		page.Executions = append(page.Executions, translate.Execution{
			ExecutedAt: &at, ExecutionTime: 250, Success: true, RequestID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
			FunctionName: "APITest", MemoryUsageBytes: 32 << 20, BilledDurationMs: new(int64(300)),
			Log: strings.Repeat(fmt.Sprintf("START RequestId: %08d\n", i), 20),
		})
	}
	return pageSource{page: page, lastRun: start}
}

// startOnSource is a proxy whose project reads from src, without a
// simulator.
func startOnSource(t *testing.T, src logsource.LogSource, tweak func(*Config)) *proxyEnv {
	t.Helper()
	cfg := testConfig("127.0.0.1:1", tweak)
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	p, err := New(t.Context(), cfg, Options{Logger: testLogger("the proxy's log", logs)})
	if err != nil {
		t.Fatal(err)
	}
	p.projects[testProject].source = src
	return &proxyEnv{proxy: p, client: http.DefaultClient, logs: logs, secret: []byte(testJWTSecret)}
}

// stalledClient sends one request, reads the response's status and
// headers (so the server is writing the body), and then reads nothing
// more. Its receive buffer is a few KiB, set before connecting so that the
// window stays small.
func stalledClient(t *testing.T, addr, path, token string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) }); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: mudscf\r\nAuthorization: Bearer "+token+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(conn, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return conn, br, resp
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Clients that ask for a 10,000-record page (about 7 MB) and never read it
// cost the proxy a bounded amount of heap each, far below a page: the
// cached body is written as it is, not copied per response. And the write
// deadline drops them.
func TestStalledReadersAreBoundedAndCutOff(t *testing.T) {
	// The page comes from a source in the process: what is measured is
	// the proxy's writing of it, and no upstream time is in the test.
	page := bigPage(10000)
	path := logsPath + "?limit=10000" + fixedWindow()

	t.Run("memory", func(t *testing.T) {
		// A write timeout far longer than the test: nothing is cut off
		// while the heap is measured.
		env := startOnSource(t, page, func(c *Config) { c.WriteTimeout = time.Hour })
		addr, _ := serveSmallBuffers(t, env)
		tok := env.token(t, "usr_morgan_de")
		warm := getURL(t, "http://"+addr+path, tok)
		var doc translate.LogsResponse
		if err := json.Unmarshal(warm.body, &doc); err != nil || warm.status != 200 {
			t.Fatalf("%d %v", warm.status, err)
		}
		if n := len(doc.Data.Executions); n != 10000 {
			t.Fatalf("%d executions, want 10000", n)
		}
		page := len(warm.body)
		base := heapAfterGC()

		const clients = 30
		for range clients {
			stalledClient(t, addr, path, tok) //nolint:bodyclose // a stalled reader: the test keeps its response unread
		}
		// Every one of them is still being written to: only the warm-up
		// request has finished.
		if done := metric(t, env, `mudscf_http_requests_total{code="200",route="`+LogsRoute+`"}`); done != 1 {
			t.Fatalf("%v requests finished, want only the warm-up's: the stalled clients were not stalled", done)
		}
		// The bound: 64 KiB per client (connection buffers, request and
		// response state) plus 2 MiB, whatever the page size. A copy of the
		// page per client would be clients × page.
		grown := int64(heapAfterGC()) - int64(base)
		bound := int64(clients*64<<10 + 2<<20)
		t.Logf("%d stalled clients of a %d-byte page grew the heap by %d bytes (bound %d)", clients, page, grown, bound)
		if grown > bound {
			t.Errorf("%d stalled clients grew the heap by %d bytes, over the bound of %d (a page is %d bytes)", clients, grown, bound, page)
		}
	})

	t.Run("write deadline", func(t *testing.T) {
		env := startOnSource(t, page, func(c *Config) { c.WriteTimeout = 200 * time.Millisecond })
		addr, closed := serveSmallBuffers(t, env)
		tok := env.token(t, "usr_morgan_de")
		const clients = 3
		type stalled struct {
			br   *bufio.Reader
			resp *http.Response
		}
		var all []stalled
		for range clients {
			_, br, resp := stalledClient(t, addr, path, tok) //nolint:bodyclose // closed by the write deadline, which the test waits for
			all = append(all, stalled{br, resp})
		}
		// The handlers return when the deadline fails their writes, and
		// the server closes the connections. The deadline is a socket's:
		// the wall clock's.
		series := `mudscf_http_requests_total{code="200",route="` + LogsRoute + `"}`
		for range clients {
			select {
			case <-closed:
			case <-time.After(time.Minute): // a guard against a hang, not a measure
				t.Fatalf("a minute on, %v of %d stalled responses ended: no write deadline", metric(t, env, series), clients)
			}
		}
		if ended := metric(t, env, series); ended != clients {
			t.Errorf("%v of %d stalled responses were counted when their connections closed", ended, clients)
		}
		// Each client, reading at last, gets what the kernel buffered and an
		// end short of Content-Length.
		for i, s := range all {
			n, _ := io.Copy(io.Discard, s.br)
			want, _ := strconv.ParseInt(s.resp.Header.Get("Content-Length"), 10, 64)
			if n >= want {
				t.Errorf("client %d read %d of %d bytes: the body was not cut off", i, n, want)
			}
		}
		if !strings.Contains(env.logs.String(), `"status":200`) {
			t.Errorf("the cut-off responses were not logged")
		}
	})
}
