package witness

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
)

// Witness scans output for known secrets. It is safe for concurrent use.
type Witness struct {
	secrets map[string][]string // name -> the forms searched for
	report  io.Writer           // where Main says what leaked

	mu      sync.Mutex
	scanned int
	found   []string
}

// New watches for each secret value, reported by its name (never by its
// value).
func New(secrets map[string]string) *Witness {
	w := &Witness{secrets: map[string][]string{}, report: os.Stderr}
	for name, v := range secrets {
		w.secrets[name] = encodings(v)
	}
	return w
}

// encodings are the forms in which a value leaks whole.
func encodings(v string) []string {
	return []string{v, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
}

// WatchPieces watches for the URL password value as New watches a secret,
// and also for every run of n characters of it, in the clear and as a URL
// carries it: parsers quote a URL in pieces, and a password with '/', '?'
// or '#' in it is cut into them (net/url's `invalid port ":<piece>" after
// host`). The value should hold no word of n letters that output could
// hold for other reasons.
func (w *Witness) WatchPieces(name, value string, n int) *Witness {
	forms := encodings(value)
	userinfo := strings.TrimPrefix(url.UserPassword("", value).String(), ":")
	for _, v := range slices.Compact(slices.Sorted(slices.Values([]string{value, userinfo, url.QueryEscape(value)}))) {
		forms = append(forms, v)
		for i := 0; i+n <= len(v); i++ {
			forms = append(forms, v[i:i+n])
		}
	}
	slices.Sort(forms)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.secrets[name] = slices.Compact(forms)
	return w
}

// See scans one piece of output; where says what it was.
func (w *Witness) See(where string, b []byte) {
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

// SeeErr scans an error message.
func (w *Witness) SeeErr(where string, err error) {
	if err != nil {
		w.See(where, []byte(err.Error()))
	}
}

// Leaks lists where secrets were seen.
func (w *Witness) Leaks() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.found...)
}

// Seen counts the pieces of output scanned.
func (w *Witness) Seen() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.scanned
}

// Writer scans each Write: slog handlers write one record per call.
func (w *Witness) Writer(where string) io.Writer { return writer{w, where} }

type writer struct {
	w     *Witness
	where string
}

func (ww writer) Write(p []byte) (int, error) {
	ww.w.See(ww.where, p)
	return len(p), nil
}

// Transport reads each response whole, scans its headers and body (and
// any transport error) and hands the client a copy.
func (w *Witness) Transport(next http.RoundTripper) http.RoundTripper {
	return transport{w, next}
}

type transport struct {
	w    *Witness
	next http.RoundTripper
}

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	t.w.SeeErr("a client error for "+r.URL.Path, err)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var head bytes.Buffer
	_ = resp.Header.Write(&head)
	t.w.See("the response headers for "+r.URL.Path, head.Bytes())
	t.w.See("the response to "+r.URL.Path, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, err
}

// TestingM is what testing.M offers TestMain.
type TestingM interface{ Run() int }

// Main wraps m so that its Run fails (returns 1) when a secret was seen
// during the tests, naming where.
func (w *Witness) Main(m TestingM) TestingM { return main{w, m} }

type main struct {
	w *Witness
	m TestingM
}

func (s main) Run() int {
	code := s.m.Run()
	if leaks := s.w.Leaks(); len(leaks) > 0 {
		fmt.Fprintf(s.w.report, "FAIL: secrets appeared in the suite's output:\n  %s\n", strings.Join(leaks, "\n  "))
		return 1
	}
	return code
}
