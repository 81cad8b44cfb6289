package proxy

// Compressed once, served many: the gzip form of a response part is made
// when its entry is filled, and every answer to a client that accepts
// gzip joins forms without compressing. Runs on a fake clock
// (testing/synctest) and a fake LogSource that serves pages and stats.

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// bulkySource answers a page of limit repetitive records, as log pages
// are, and stats; it can be made to fail.
type bulkySource struct {
	mu    sync.Mutex
	calls int
	err   error
	// hold, when set, holds background calls until it is closed.
	hold chan struct{}
}

// Calls: one in-process answer each.
func (b *bulkySource) Calls(translate.Query) (page, stats int) { return 1, 1 }

func (b *bulkySource) wait(ctx context.Context) {
	if b.hold != nil && budget.PriorityOf(ctx) == budget.Background {
		<-b.hold
	}
}

func (b *bulkySource) Page(ctx context.Context, _ translate.Target, q translate.Query) (translate.Page, error) {
	b.wait(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return translate.Page{}, b.err
	}
	b.calls++
	at := q.Until.UTC().Format(time.RFC3339Nano)
	page := translate.Page{Executions: make([]translate.Execution, q.Limit)}
	for i := range page.Executions {
		page.Executions[i] = translate.Execution{ExecutedAt: &at, ExecutionTime: int64(i), Success: i%7 != 0,
			RequestID: fmt.Sprintf("req-%d-%d", b.calls, i), FunctionName: "orders", TriggerType: "http"}
	}
	return page, nil
}

func (b *bulkySource) Stats(ctx context.Context, _ translate.Target, q translate.Query) (translate.Stats, error) {
	b.wait(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return translate.Stats{}, b.err
	}
	b.calls++
	last := q.Until.UTC().Format(time.RFC3339Nano)
	return translate.Stats{TotalExecutions: 100, Successful: 86, Failed: 14, SuccessRate: 0.86, LastRun: &last}, nil
}

func (b *bulkySource) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

// startBulky is startFake on src.
func startBulky(t *testing.T, src *bulkySource) *fakeEnv {
	env := startFake(t, &fakeSource{}, nil)
	env.proxy.projects[testProject].source = src
	return env
}

// getEncoded serves one request with the given Accept-Encoding values
// (none: no header) and method.
func (e *fakeEnv) getEncoded(t *testing.T, method, query string, acceptEncoding ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, logsPath+"?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	for _, v := range acceptEncoding {
		req.Header.Add("Accept-Encoding", v)
	}
	rec := httptest.NewRecorder()
	e.proxy.Handler().ServeHTTP(rec, req)
	return rec
}

// gunzip decodes body with Go's gzip.Reader, which checks the CRC and the
// size, and insists that the stream is a single member: a multi-member
// stream would decode here yet be cut short by clients that stop at the
// first member.
func gunzip(t *testing.T, body []byte) []byte {
	t.Helper()
	src := bytes.NewReader(body) // a ByteReader: gzip reads no further than its member
	r, err := gzip.NewReader(src)
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	r.Multistream(false)
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("gzip stream: %v", err)
	}
	if src.Len() != 0 {
		t.Fatalf("%d bytes after the first gzip member", src.Len())
	}
	return out
}

func compressions(e *fakeEnv) float64 {
	return testutil.ToFloat64(e.proxy.metrics.compressions.WithLabelValues("page")) +
		testutil.ToFloat64(e.proxy.metrics.compressions.WithLabelValues("stats"))
}

// Every answer of the route, miss, hit, revalidate and stale, to GET and
// HEAD alike, is gzip exactly when the client accepts it and the body is
// big enough; decoded, it is the identity body byte for byte; its
// Content-Length is the bytes sent; it varies by Accept-Encoding. Only
// fills compress: two per fill (page, stats), none per answer.
func TestGzipAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &bulkySource{hold: make(chan struct{})}
		env := startBulky(t, src)
		cfg := env.proxy.cfg.Cache
		const query = "limit=50"
		check := func(t *testing.T, wantState string, fills float64) {
			t.Helper()
			identity := env.getEncoded(t, http.MethodGet, query)
			if identity.Code != http.StatusOK || identity.Header().Get("X-Cache") != wantState {
				t.Fatalf("identity: %d %s, want 200 %s: %s", identity.Code, identity.Header().Get("X-Cache"), wantState, identity.Body)
			}
			if identity.Body.Len() < minGzipSize {
				t.Fatalf("a %d-byte body: too small to be compressed", identity.Body.Len())
			}
			for _, tc := range []struct {
				accept []string
				gzip   bool
			}{
				{nil, false},
				{[]string{"identity"}, false},
				{[]string{"gzip;q=0"}, false},
				{[]string{"br;q=0.9, *;q=0"}, false},
				{[]string{"gzip"}, true},
				{[]string{"gzip, deflate, br, zstd"}, true},
				{[]string{"br, gzip;q=0.1"}, true},
				{[]string{"*"}, true},
			} {
				for _, method := range []string{http.MethodGet, http.MethodHead} {
					r := env.getEncoded(t, method, query, tc.accept...)
					h := r.Header()
					if r.Code != http.StatusOK || h.Get("X-Cache") != wantState {
						t.Fatalf("%s %q: %d %s", method, tc.accept, r.Code, h.Get("X-Cache"))
					}
					if got := h.Get("Vary"); got != "Accept-Encoding" {
						t.Errorf("%s %q: Vary %q", method, tc.accept, got)
					}
					if got, want := h.Get("Content-Encoding") == "gzip", tc.gzip; got != want {
						t.Fatalf("%s %q: Content-Encoding %q", method, tc.accept, h.Get("Content-Encoding"))
					}
					if method == http.MethodHead {
						get := env.getEncoded(t, http.MethodGet, query, tc.accept...)
						if r.Body.Len() != 0 || h.Get("Content-Length") != get.Header().Get("Content-Length") ||
							h.Get("Content-Encoding") != get.Header().Get("Content-Encoding") {
							t.Errorf("HEAD %q: %d bytes, Content-Length %s %s; GET's %s %s", tc.accept, r.Body.Len(),
								h.Get("Content-Length"), h.Get("Content-Encoding"), get.Header().Get("Content-Length"), get.Header().Get("Content-Encoding"))
						}
						continue
					}
					if got := h.Get("Content-Length"); got != fmt.Sprint(r.Body.Len()) {
						t.Errorf("%q: Content-Length %s for %d bytes", tc.accept, got, r.Body.Len())
					}
					body := r.Body.Bytes()
					if tc.gzip {
						if len(body) > identity.Body.Len()/3 {
							t.Errorf("%q: %d bytes compressed from %d", tc.accept, len(body), identity.Body.Len())
						}
						body = gunzip(t, body)
					}
					if !bytes.Equal(body, identity.Body.Bytes()) {
						t.Fatalf("%q: decoded\n%s\nidentity\n%s", tc.accept, body, identity.Body)
					}
				}
			}
			if got := compressions(env); got != fills {
				t.Errorf("%s: %v compressions, want %v (one per part per fill)", wantState, got, fills)
			}
		}

		miss := env.getEncoded(t, http.MethodGet, query, "gzip")
		if miss.Code != http.StatusOK || miss.Header().Get("X-Cache") != cacheMiss || miss.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("the first request: %d %s %q", miss.Code, miss.Header().Get("X-Cache"), miss.Header().Get("Content-Encoding"))
		}
		if got, want := gunzip(t, miss.Body.Bytes()), env.getEncoded(t, http.MethodGet, query).Body.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("the miss decoded\n%s\nthe identity hit\n%s", got, want)
		}
		check(t, cacheHit, 2)
		time.Sleep(max(cfg.PageTTL, cfg.StatsTTL) + time.Second)
		check(t, cacheStale, 2) // revalidate: the refreshes are held
		close(src.hold)
		synctest.Wait()
		check(t, cacheHit, 4) // the refreshed entries
		src.fail(errors.New("the upstream is down"))
		time.Sleep(max(cfg.PageTTL, cfg.StatsTTL) + cfg.StaleWhileRevalidate + time.Second)
		check(t, cacheStale, 4) // the last good answer while the upstream fails
	})
}

// A body under minGzipSize stays identity, with Vary all the same.
func TestSmallBodiesStayIdentity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := startBulky(t, &bulkySource{})
		r := env.getEncoded(t, http.MethodGet, "limit=0&stats=false", "gzip")
		if r.Code != http.StatusOK || r.Header().Get("Content-Encoding") != "" || r.Header().Get("Vary") != "Accept-Encoding" {
			t.Fatalf("%d %q %q %s", r.Code, r.Header().Get("Content-Encoding"), r.Header().Get("Vary"), r.Body)
		}
	})
}
