package testenv

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// AssertClosesIdle makes one keep-alive request for path on the server at
// addr (host:port), reads the answer, then sends nothing more: the server
// must close the connection on its own (an idle timeout). The 30-second
// read deadline only guards against a hang; the server's timeout under
// test is meant to be far shorter.
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
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("the idle connection to %s: %v, want closed by the server (EOF)", addr, err)
	}
}
