package proxy

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// BenchmarkCacheHit compares the Mudbase route on a warm cache (JWT check,
// routing, cache lookup, envelope join, request log line to io.Discard,
// metrics) with the ceiling of this stack: a bare Echo handler on the same
// route returning the same bytes. Both run in this one process and run, so
// their ratio holds on a noisy machine; BENCHMARKS.md records it.
func BenchmarkCacheHit(b *testing.B) {
	env := startProxy(&testing.T{}, nil)
	// Log as production does, but to nowhere.
	proxy, err := New(b.Context(), env.proxy.cfg, Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	tok := env.token(&testing.T{}, "usr_morgan_de")
	path := logsPath + "?limit=20" + fixedWindow()
	warm := httptest.NewRecorder()
	proxy.Handler().ServeHTTP(warm, request(path, tok))
	if warm.Code != http.StatusOK {
		b.Fatalf("warm-up: %d %s", warm.Code, warm.Body)
	}
	body := warm.Body.Bytes()

	bare := echo.New()
	bare.GET(LogsRoute, func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body) })

	for _, side := range []struct {
		name string
		h    http.Handler
	}{{"bare-echo", bare}, {"mudscf", proxy.Handler()}} {
		b.Run(side.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					side.h.ServeHTTP(rec, request(path, tok))
					if rec.Code != http.StatusOK || rec.Body.Len() != len(body) {
						b.Errorf("%s: %d, %d bytes", side.name, rec.Code, rec.Body.Len())
						return
					}
				}
			})
		})
	}
}

func request(path, token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}
