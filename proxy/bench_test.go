package proxy

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// BenchmarkCacheHit compares the Mudbase route on a warm cache (JWT check,
// routing, cache lookup, envelope join, request log line to io.Discard,
// metrics) with the ceiling of this stack: a bare Echo handler on the same
// route returning the same bytes and headers. Both run in this one process
// and run, so their ratio holds on a noisy machine; BENCHMARKS.md records
// it. Both write into a byte-counting ResponseWriter: copying the body into
// a recorder would measure buffer growth, not the handlers (the wire's cost
// is measured over loopback by .ci/bench/cachehit.sh).
func BenchmarkCacheHit(b *testing.B) {
	env := startProxy(b, nil)
	// Log as production does, at info, but to nowhere.
	proxy, err := New(b.Context(), env.proxy.cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	tok := env.token(b, "usr_morgan_de")
	path := logsPath + "?limit=20" + fixedWindow()
	warm := httptest.NewRecorder()
	proxy.Handler().ServeHTTP(warm, request(path, tok))
	if warm.Code != http.StatusOK {
		b.Fatalf("warm-up: %d %s", warm.Code, warm.Body)
	}
	body := warm.Body.Bytes()

	bare := echo.New()
	bare.GET(LogsRoute, func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Request-Id", "bench")
		h.Set("X-Cache", cacheHit)
		h.Set("Age", "0")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	})

	for _, side := range []struct {
		name string
		h    http.Handler
	}{{"bare-echo", bare}, {"mudscf", proxy.Handler()}} {
		b.Run(side.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				tmpl := request(path, tok)
				for pb.Next() {
					// A fresh request and header map each time, as the
					// server makes them.
					w := &countingWriter{header: http.Header{}}
					side.h.ServeHTTP(w, tmpl.Clone(context.Background()))
					if w.status != http.StatusOK || w.n != len(body) {
						b.Errorf("%s: %d, %d bytes", side.name, w.status, w.n)
						return
					}
				}
			})
		})
	}
}

// countingWriter is a ResponseWriter that keeps only the status and the
// byte count.
type countingWriter struct {
	header http.Header
	status int
	n      int
}

func (w *countingWriter) Header() http.Header { return w.header }

func (w *countingWriter) WriteHeader(status int) { w.status = status }

// SetWriteDeadline accepts the handler's write deadline, as net/http's
// writer does.
func (w *countingWriter) SetWriteDeadline(time.Time) error { return nil }

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

func request(path, token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}
