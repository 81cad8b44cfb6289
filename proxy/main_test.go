package proxy

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the package's tests under two whole-suite checks: no
// goroutine outlives the tests (goleak), and the test SecretKey and JWT
// secret never appeared in any log line, response, /metrics scrape or error
// message the suite produced (suiteWitness, fed by the test helpers).
func TestMain(m *testing.M) {
	// The variables testConfig names, set once so that tests may run in
	// parallel (t.Setenv forbids it).
	for name, v := range map[string]string{
		"MUDSCF_TEST_JWT_SECRET": testJWTSecret, "MUDSCF_TEST_SECRET_ID": testSecretID, "MUDSCF_TEST_SECRET_KEY": testSecretKey,
	} {
		if err := os.Setenv(name, v); err != nil {
			panic(err)
		}
	}
	// Every request a test sends through http.DefaultClient has its
	// response read by the witness.
	http.DefaultClient.Transport = witnessTransport{next: http.DefaultTransport}
	goleak.VerifyTestMain(secretScan{m},
		// go-cache's janitor stops only when its cache is garbage
		// collected (a finalizer), not when the proxy is dropped.
		goleak.IgnoreTopFunction("github.com/patrickmn/go-cache.(*janitor).Run"),
	)
}

// secretScan fails the run after the tests if the witness saw a secret.
type secretScan struct{ m *testing.M }

func (s secretScan) Run() int {
	code := s.m.Run()
	if leaks := suiteWitness.leaks(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: secrets appeared in the suite's output:\n  %s\n", strings.Join(leaks, "\n  "))
		return 1
	}
	return code
}

// witness scans everything the suite produces for the known secrets, in
// the clear or base64-encoded.
type witness struct {
	secrets map[string][]string // name -> forms

	mu      sync.Mutex
	scanned int
	found   []string
}

func newWitness(secrets map[string]string) *witness {
	w := &witness{secrets: map[string][]string{}}
	for name, v := range secrets {
		w.secrets[name] = []string{v, base64.StdEncoding.EncodeToString([]byte(v)),
			base64.RawURLEncoding.EncodeToString([]byte(v))}
	}
	return w
}

// suiteWitness knows the one SecretKey and the one JWT secret the whole
// suite configures.
var suiteWitness = newWitness(map[string]string{"SecretKey": testSecretKey, "JWT secret": testJWTSecret})

// see scans one piece of output; where says what it was, never the
// secret itself.
func (w *witness) see(where string, b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.scanned++
	for name, forms := range w.secrets {
		for _, f := range forms {
			if bytes.Contains(b, []byte(f)) {
				w.found = append(w.found, fmt.Sprintf("the %s in %s", name, where))
				break
			}
		}
	}
}

func (w *witness) seeErr(where string, err error) {
	if err != nil {
		w.see(where, []byte(err.Error()))
	}
}

func (w *witness) leaks() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.found...)
}

func (w *witness) seen() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.scanned
}

// writer feeds log output to the witness: slog handlers write one record
// per Write.
func (w *witness) writer(where string) io.Writer { return witnessWriter{w, where} }

type witnessWriter struct {
	w     *witness
	where string
}

func (ww witnessWriter) Write(p []byte) (int, error) {
	ww.w.see(ww.where, p)
	return len(p), nil
}

// testLogger is the logger of every component a test builds: JSON at
// debug level, each line seen by the witness, and also written to extra.
func testLogger(where string, extra ...io.Writer) *slog.Logger {
	out := io.MultiWriter(append([]io.Writer{suiteWitness.writer(where)}, extra...)...)
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// witnessTransport reads each response whole, shows it (status line,
// headers, body) to the witness and hands the client a copy.
type witnessTransport struct{ next http.RoundTripper }

func (t witnessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	suiteWitness.seeErr("a client error for "+r.URL.Path, err)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var head bytes.Buffer
	_ = resp.Header.Write(&head)
	suiteWitness.see("the response headers for "+r.URL.Path, head.Bytes())
	suiteWitness.see("the response to "+r.URL.Path, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, err
}

// The witness catches a secret in each place it watches, in each form:
// the suite's check is only as good as this.
func TestWitnessCatchesSecrets(t *testing.T) {
	const secret = "a-secret-for-the-witness-self-test"
	cases := []struct {
		name string
		emit func(w *witness)
	}{
		{"log line", func(w *witness) {
			slog.New(slog.NewJSONHandler(w.writer("log"), nil)).Info("oops", "key", secret)
		}},
		{"base64 in a response", func(w *witness) {
			w.see("response", []byte(`{"x":"`+base64.StdEncoding.EncodeToString([]byte(secret))+`"}`))
		}},
		{"base64url in a header", func(w *witness) { w.see("header", []byte(base64.RawURLEncoding.EncodeToString([]byte(secret)))) }},
		{"error message", func(w *witness) { w.seeErr("error", fmt.Errorf("signing with %s failed", secret)) }},
	}
	// The suite's witness is fed by the paths the tests use: the logger,
	// http.DefaultClient and the admin scrape.
	before := suiteWitness.seen()
	testLogger("the self-test log").Info("hello")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hi") }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	scrape(t, http.NotFoundHandler(), "/metrics")
	if got := suiteWitness.seen() - before; got < 4 { // log, headers, body, scrape
		t.Errorf("the suite's witness saw %d pieces of output, want 4", got)
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWitness(map[string]string{"test secret": secret})
			w.see("clean", []byte("nothing to see"))
			if len(w.leaks()) != 0 {
				t.Fatal("a clean line was reported")
			}
			c.emit(w)
			if len(w.leaks()) != 1 {
				t.Errorf("leaks %q, want one", w.leaks())
			}
		})
	}
}
