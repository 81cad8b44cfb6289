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

// plainReply is what plainCall read: the response is closed by then, so
// only its status, headers and body travel back to the test.
type plainReply struct {
	status int
	header http.Header
	body   []byte
}

// plainCall sends a hand-signed POST over a real connection with a plain
// net/http client, the way the proxy under test does.
func plainCall(ctx context.Context, srvURL string, clock *fakeClock, secretKey string) (plainReply, error) {
	body := []byte(`{"Limit":1}`)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, srvURL+"/", bytes.NewReader(body))
	if err != nil {
		return plainReply{}, err
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
		return plainReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return plainReply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, r plainReply, err error)
	}{
		{name: "none", check: func(t *testing.T, r plainReply, err error) {
			if err != nil || r.status != http.StatusOK || !json.Valid(r.body) || bytes.Contains(r.body, []byte(`"Error"`)) {
				t.Fatalf("err %v body %s", err, r.body)
			}
		}},
		{name: "latency", faults: Faults{Latency: 20 * time.Millisecond}, check: func(t *testing.T, r plainReply, err error) {
			if err != nil || r.status != http.StatusOK || bytes.Contains(r.body, []byte(`"Error"`)) {
				t.Fatalf("a delayed answer must still be an answer: %v %s", err, r.body)
			}
		}},
		{name: "reset", faults: Faults{ResetConnection: true}, check: func(t *testing.T, r plainReply, err error) {
			if err == nil {
				t.Fatalf("got a response through a reset: %d %s", r.status, r.body)
			}
			// SO_LINGER 0 turns the close into a RST, not a clean EOF.
			if runtime.GOOS == "linux" && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("want connection reset, got %v", err)
			}
		}},
		{name: "http status", faults: Faults{HTTPStatus: http.StatusBadGateway}, check: func(t *testing.T, r plainReply, err error) {
			if err != nil || r.status != http.StatusBadGateway || r.header.Get("Content-Type") != "text/html" ||
				!bytes.Contains(r.body, []byte("502 Bad Gateway")) {
				t.Fatalf("err %v reply %+v", err, r)
			}
		}},
		{name: "malformed JSON", faults: Faults{MalformedJSON: true}, check: func(t *testing.T, r plainReply, err error) {
			if err != nil || r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || json.Valid(r.body) {
				t.Fatalf("err %v body %s", err, r.body)
			}
		}},
		{name: "error code", faults: Faults{ErrorCode: "InternalError"}, check: func(t *testing.T, r plainReply, err error) {
			var env struct{ Response apiResult }
			if err != nil || json.Unmarshal(r.body, &env) != nil || errCode(env.Response) != "InternalError" ||
				env.Response.RequestId == "" {
				t.Fatalf("err %v body %s", err, r.body)
			}
		}},
		{name: "reset wins over status", faults: Faults{ResetConnection: true, HTTPStatus: http.StatusBadGateway, ErrorCode: "InternalError"},
			check: func(t *testing.T, r plainReply, err error) {
				if err == nil {
					t.Fatalf("got %d %s", r.status, r.body)
				}
			}},
		{name: "status wins over error code", faults: Faults{HTTPStatus: http.StatusServiceUnavailable, MalformedJSON: true, ErrorCode: "InternalError"},
			check: func(t *testing.T, r plainReply, err error) {
				if err != nil || r.status != http.StatusServiceUnavailable {
					t.Fatalf("err %v reply %+v", err, r)
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
			r, err := plainCall(context.Background(), srv.URL, clock, defaultSecretKey)
			tc.check(t, r, err)
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
	s.SetFaults(Faults{ResetConnection: true, HTTPStatus: http.StatusBadGateway, ErrorCode: "InternalError", Latency: time.Hour})
	r, err := plainCall(context.Background(), srv.URL, clock, "wrong-key")
	var env struct{ Response apiResult }
	if err != nil || r.status != http.StatusOK || json.Unmarshal(r.body, &env) != nil ||
		errCode(env.Response) != "AuthFailure.SignatureFailure" {
		t.Fatalf("err %v body %s", err, r.body)
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
	_, err := plainCall(ctx, srv.URL, clock, defaultSecretKey)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	// srv.Close (cleanup) waits for the handler: it returns promptly only
	// if the handler noticed the cancellation.
}

func TestSideFaultsEndpoint(t *testing.T) {
	s, _ := newSim(t, nil)
	srv, _ := startServer(t, s)
	put := func(body string) (int, []byte) {
		r, _ := http.NewRequest(http.MethodPut, srv.URL+"/_sim/faults", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status, body := put(`{"latency":"250ms","httpStatus":503,"errorCode":"InternalError"}`)
	want := Faults{Latency: 250 * time.Millisecond, HTTPStatus: http.StatusServiceUnavailable, ErrorCode: "InternalError"}
	if status != http.StatusOK || s.Faults() != want {
		t.Fatalf("PUT: %d %s, faults %+v", status, body, s.Faults())
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
		if status, body := put(bad); status != http.StatusBadRequest || s.Faults() != want {
			t.Fatalf("PUT %s: %d %s", bad, status, body)
		}
	}
	if status, _ := put(`{}`); status != http.StatusOK || s.Faults() != (Faults{}) {
		t.Fatalf("clearing faults: %d %+v", status, s.Faults())
	}
}
