package testenv

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync/atomic"
	"syscall"
)

// HandlerTransport carries each request to Handler in the same process,
// so that a client, the server it calls and everything between run inside
// one testing/synctest bubble: a socket's wait is not one the bubble can
// see through, an in-process call is. The handler gets the request as a
// server would (Host, RequestURI, a path-only URL), with the request's
// context, which ends when the client gives up, as net/http's does when
// the connection goes. Like a real transport, RoundTrip returns when that
// context ends, whether the handler has finished or not. A handler that
// hijacks the connection and closes it (a reset) is a "connection reset
// by peer".
type HandlerTransport struct{ Handler http.Handler }

// connectionReset is what a client reads from a connection its server
// reset.
var connectionReset = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}

func (t HandlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r.Clone(r.Context())
	if in.Host == "" {
		in.Host = r.URL.Host
	}
	in.RequestURI = r.URL.RequestURI()
	in.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	in.RemoteAddr = "192.0.2.1:40000"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	w := &hijackableRecorder{ResponseRecorder: httptest.NewRecorder()}
	dropped := make(chan bool, 1)
	go func() {
		aborted := true
		defer func() {
			// net/http's server drops the connection on this panic.
			if v := recover(); v != nil && v != http.ErrAbortHandler { //nolint:errorlint // a panic value, compared as net/http compares it
				panic(v)
			}
			dropped <- aborted || w.hijacked.Load()
		}()
		t.Handler.ServeHTTP(w, in)
		aborted = false
	}()
	select {
	case drop := <-dropped:
		if drop {
			return nil, connectionReset
		}
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

// hijackableRecorder records the answer, and lets the handler take the
// connection (to reset it): the test side of it is already closed.
type hijackableRecorder struct {
	*httptest.ResponseRecorder
	hijacked atomic.Bool
}

func (h *hijackableRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.hijacked.Store(true)
	server, client := net.Pipe()
	client.Close()
	return server, bufio.NewReadWriter(bufio.NewReader(server), bufio.NewWriter(server)), nil
}
