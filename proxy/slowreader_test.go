package proxy

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
)

// smallSendBuffers shrinks the kernel's send buffer of every accepted
// connection, so that a client that does not read stalls the server's
// write within a few KiB rather than after the megabytes loopback buffers
// would otherwise absorb.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		err = c.(*net.TCPConn).SetWriteBuffer(16 << 10)
	}
	return c, err
}

// serveSmallBuffers runs env's proxy (Serve) with smallSendBuffers until the
// test ends and returns the API's host:port.
func serveSmallBuffers(t *testing.T, env *proxyEnv) string {
	t.Helper()
	api := listen(t)
	cancel, served := startServe(env, smallSendBuffers{api}, listen(t))
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return api.Addr().String()
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
	// 5 executions a second: 18,000 in the hour's window. Each subtest
	// has its own simulator, as its proxy has its own budget: one account
	// shared by two budgets could pass Tencent's limit.
	startSim := func(t *testing.T) *testenv.Simulator {
		return testenv.StartSimulator(t, nil, tencentsim.Function{Name: "APITest", RatePerSecond: 5})
	}
	path := logsPath + "?limit=10000" + fixedWindow()

	t.Run("memory", func(t *testing.T) {
		// A write timeout far longer than the test: nothing is cut off
		// while the heap is measured.
		env := startProxyOn(t, startSim(t), func(c *Config) { c.WriteTimeout = time.Hour }, Options{})
		addr := serveSmallBuffers(t, env)
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
			stalledClient(t, addr, path, tok)
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
		env := startProxyOn(t, startSim(t), func(c *Config) { c.WriteTimeout = 200 * time.Millisecond }, Options{})
		addr := serveSmallBuffers(t, env)
		tok := env.token(t, "usr_morgan_de")
		const clients = 3
		type stalled struct {
			br   *bufio.Reader
			resp *http.Response
		}
		var all []stalled
		for range clients {
			_, br, resp := stalledClient(t, addr, path, tok)
			all = append(all, stalled{br, resp})
		}
		// The handlers return when the deadline fails their writes.
		series := `mudscf_http_requests_total{code="200",route="` + LogsRoute + `"}`
		for deadline := time.Now().Add(30 * time.Second); metric(t, env, series) < clients; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after 30s %v of %d stalled responses ended: no write deadline", metric(t, env, series), clients)
			}
		}
		// Then the connections are closed: each client, reading at last,
		// gets what the kernel buffered and an end short of Content-Length.
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
