package testenv

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// closeIdleWithin is how long AssertClosesIdle waits for the close.
// Callers set the idle timeout under test to ~100 ms; the bound stays
// below every server's ReadTimeout (10 s or more), because net/http falls
// back to ReadTimeout when IdleTimeout is unset and a longer wait would
// pass without one.
const closeIdleWithin = 5 * time.Second

// AssertClosesIdle makes one keep-alive request for path on the server at
// addr (host:port), reads the answer, then sends nothing more: the server
// must close the connection on its own within closeIdleWithin.
func AssertClosesIdle(t testing.TB, addr, path string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := conn.SetReadDeadline(time.Now().Add(closeIdleWithin)); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("the idle connection to %s: %v, want closed by the server (EOF)", addr, err)
	}
}
