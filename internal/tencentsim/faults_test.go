package tencentsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

// plainCall sends a hand-signed POST over a real connection with a plain
// net/http client, the way the proxy under test does.
func plainCall(t *testing.T, ctx context.Context, srvURL string, clock *fakeClock, secretKey string) (*http.Response, []byte, error) {
	t.Helper()
	body := []byte(`{"Limit":1}`)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, srvURL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := clock.Now().Unix()
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", scf.ActionGetFunctionLogs)
	r.Header.Set("X-TC-Version", scf.Version)
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	r.Host = strings.TrimPrefix(srvURL, "http://")
	signTC3(r, body, defaultSecretID, secretKey, ts, "scf")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{name: "none", check: func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 200 || !json.Valid(body) || bytes.Contains(body, []byte(`"Error"`)) {
				t.Fatalf("err %v body %s", err, body)
			}
		}},
		{name: "latency", faults: Faults{Latency: 20 * time.Millisecond}, check: func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 200 || bytes.Contains(body, []byte(`"Error"`)) {
				t.Fatalf("a delayed answer must still be an answer: %v %s", err, body)
			}
		}},
		{name: "reset", faults: Faults{ResetConnection: true}, check: func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err == nil {
				t.Fatalf("got a response through a reset: %d %s", resp.StatusCode, body)
			}
			// SO_LINGER 0 turns the close into a RST, not a clean EOF.
			if runtime.GOOS == "linux" && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("want connection reset, got %v", err)
			}
		}},
		{name: "http status", faults: Faults{HTTPStatus: 502}, check: func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "text/html" ||
				!bytes.Contains(body, []byte("502 Bad Gateway")) {
				t.Fatalf("err %v status %v body %s", err, resp, body)
			}
		}},
		{name: "malformed JSON", faults: Faults{MalformedJSON: true}, check: func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || json.Valid(body) {
				t.Fatalf("err %v body %s", err, body)
			}
		}},
		{name: "error code", faults: Faults{ErrorCode: "InternalError"}, check: func(t *testing.T, resp *http.Response, body []byte, err error) {
			var env struct{ Response apiResult }
			if err != nil || json.Unmarshal(body, &env) != nil || errCode(env.Response) != "InternalError" ||
				env.Response.RequestId == "" {
				t.Fatalf("err %v body %s", err, body)
			}
		}},
		{name: "reset wins over status", faults: Faults{ResetConnection: true, HTTPStatus: 502, ErrorCode: "InternalError"},
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err == nil {
					t.Fatalf("got %d %s", resp.StatusCode, body)
				}
			}},
		{name: "status wins over error code", faults: Faults{HTTPStatus: 503, MalformedJSON: true, ErrorCode: "InternalError"},
			check: func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err != nil || resp.StatusCode != 503 {
					t.Fatalf("err %v resp %v", err, resp)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newSim(t, nil)
			srv, _ := startServer(t, s)
			s.SetFaults(tc.faults)
			if s.Faults() != tc.faults {
				t.Fatalf("Faults() = %+v", s.Faults())
			}
			resp, body, err := plainCall(t, context.Background(), srv.URL, clock, defaultSecretKey)
			tc.check(t, resp, body, err)
			tr := s.Truth()
			faulted := tc.faults != (Faults{}) && tc.faults != (Faults{Latency: tc.faults.Latency})
			if faulted && tr.TotalFaulted[defaultSecretID] != 1 || !faulted && tr.TotalAccepted[defaultSecretID] != 1 {
				t.Fatalf("truth: %+v", tr)
			}
		})
	}
}

// A fault must never hide an authentication failure.
func TestFaultsDoNotMaskAuth(t *testing.T) {
	s, clock := newSim(t, nil)
	srv, _ := startServer(t, s)
	s.SetFaults(Faults{ResetConnection: true, HTTPStatus: 502, ErrorCode: "InternalError", Latency: time.Hour})
	resp, body, err := plainCall(t, context.Background(), srv.URL, clock, "wrong-key")
	var env struct{ Response apiResult }
	if err != nil || resp.StatusCode != 200 || json.Unmarshal(body, &env) != nil ||
		errCode(env.Response) != "AuthFailure.SignatureFailure" {
		t.Fatalf("err %v body %s", err, body)
	}
}

// Latency honours the caller's cancellation instead of holding the
// handler for the whole delay.
func TestLatencyCancelled(t *testing.T) {
	s, clock := newSim(t, nil)
	srv, _ := startServer(t, s)
	s.SetFaults(Faults{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := plainCall(t, ctx, srv.URL, clock, defaultSecretKey)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	// srv.Close (cleanup) waits for the handler: it returns promptly only
	// if the handler noticed the cancellation.
}

func TestSideFaultsEndpoint(t *testing.T) {
	s, _ := newSim(t, nil)
	srv, _ := startServer(t, s)
	put := func(body string) (*http.Response, []byte) {
		r, _ := http.NewRequest(http.MethodPut, srv.URL+"/_sim/faults", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := put(`{"latency":"250ms","httpStatus":503,"errorCode":"InternalError"}`)
	want := Faults{Latency: 250 * time.Millisecond, HTTPStatus: 503, ErrorCode: "InternalError"}
	if resp.StatusCode != 200 || s.Faults() != want {
		t.Fatalf("PUT: %d %s, faults %+v", resp.StatusCode, body, s.Faults())
	}
	got, err := http.Get(srv.URL + "/_sim/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	var f Faults
	if err := json.NewDecoder(got.Body).Decode(&f); err != nil || f != want {
		t.Fatalf("GET: %+v %v", f, err)
	}
	for _, bad := range []string{`{"latency":"soon"}`, `{"httpStatus":42}`, `{"latencyMs":5}`, `{"latency":250}`, `nope`} {
		if resp, body := put(bad); resp.StatusCode != 400 || s.Faults() != want {
			t.Fatalf("PUT %s: %d %s", bad, resp.StatusCode, body)
		}
	}
	if resp, _ := put(`{}`); resp.StatusCode != 200 || s.Faults() != (Faults{}) {
		t.Fatalf("clearing faults: %d %+v", resp.StatusCode, s.Faults())
	}
}
