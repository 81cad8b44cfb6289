package witness

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

const secret = "a-secret-for-the-witness-self-test"

// The witness catches a secret in each place it watches, in each form: a
// suite's check is only as good as this.
func TestWitnessCatchesSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.URL.Query().Get("h"))
		if _, err := io.WriteString(w, r.URL.Query().Get("b")); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	get := func(w *Witness, query string) {
		resp, err := (&http.Client{Transport: w.Transport(http.DefaultTransport)}).Get(srv.URL + "/?" + query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cases := []struct {
		name string
		emit func(w *Witness)
	}{
		{"log line", func(w *Witness) { slog.New(slog.NewJSONHandler(w.Writer("log"), nil)).Info("oops", "key", secret) }},
		{"base64 in a response body", func(w *Witness) { get(w, "b="+base64.StdEncoding.EncodeToString([]byte(secret))) }},
		{"a response header", func(w *Witness) { get(w, "h="+secret) }},
		{"base64url", func(w *Witness) { w.See("header", []byte(base64.RawURLEncoding.EncodeToString([]byte(secret)))) }},
		{"error message", func(w *Witness) { w.SeeErr("error", fmt.Errorf("signing with %s failed", secret)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := New(map[string]string{"test secret": secret})
			get(w, "b=clean&h=clean")
			w.See("clean", []byte("nothing to see"))
			if len(w.Leaks()) != 0 || w.Seen() != 3 {
				t.Fatalf("clean output: leaks %q, seen %d", w.Leaks(), w.Seen())
			}
			c.emit(w)
			if len(w.Leaks()) != 1 {
				t.Errorf("leaks %q, want one", w.Leaks())
			}
		})
	}
}

type fakeM int

func (m fakeM) Run() int { return int(m) }

func TestMainFailsOnALeak(t *testing.T) {
	w := New(map[string]string{"test secret": secret})
	w.report = io.Discard
	if code := w.Main(fakeM(0)).Run(); code != 0 {
		t.Errorf("clean run: exit %d", code)
	}
	w.See("somewhere", []byte(secret))
	if code := w.Main(fakeM(0)).Run(); code != 1 {
		t.Errorf("after a leak: exit %d, want 1", code)
	}
}

// A URL password is caught in each piece a parser may quote and in the
// encodings a URL carries it in; a run shorter than the one watched is
// not a leak.
func TestWitnessCatchesURLPasswordPieces(t *testing.T) {
	const password = "Zq7x/K9w?Mv3#Tp@Lb:Hd"
	cases := []struct {
		name   string
		output string
		leaks  bool
	}{
		{"net/url's quote of the part before '/'", `parse "redis://...": invalid port ":Zq7x" after host`, true},
		{"a piece between '?' and '#'", "redis: invalid database number: Mv3#", true},
		{"the last piece", `"err":"WRONGPASS for Hd"`, false},
		{"the whole password, percent-encoded", "redis://:Zq7x%2FK9w%3FMv3%23Tp%40Lb%3AHd@127.0.0.1:6379/0", true},
		{"a run of four characters across a '/'", "x/K9", true},
		{"three characters", "Zq7", false},
		{"the message that names the URL parts", "percent-encode any '/', '?', '#', '@' or ':' in the user name or password", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := New(nil).WatchPieces("Redis password", password, 4)
			w.See("output", []byte(c.output))
			if got := len(w.Leaks()) > 0; got != c.leaks {
				t.Errorf("leaks %q, want a leak: %v", w.Leaks(), c.leaks)
			}
		})
	}
}
