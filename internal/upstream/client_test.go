package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/scf"
)

const (
	testSecretID  = testenv.SecretID
	testSecretKey = testenv.SecretKey
)

// simEnv is the simulator with what these tests build on it.
type simEnv struct{ *testenv.Simulator }

func startSim(t testing.TB, now func() time.Time, fns ...tencentsim.Function) *simEnv {
	return &simEnv{testenv.StartSimulator(t, now, fns...)}
}

func (e *simEnv) client(t *testing.T, secretID, secretKey string, transport http.RoundTripper) *client {
	t.Helper()
	c, err := newClient(ClientConfig{
		Region: "ap-guangzhou", Endpoint: e.Host, Scheme: "http", Timeout: 2 * time.Second,
		Credential: common.NewCredential(secretID, secretKey), Transport: transport,
	}, scfService)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *simEnv) lastHour() any {
	now := time.Now()
	q := translate.Query{Limit: 10, Order: translate.OrderDesc, Since: now.Add(-time.Hour), Until: now}
	return scf.LogsRequest(q, translate.Target{FunctionName: "APITest", Namespace: "default"}, e.Location)
}

// logsAnswer is what these tests read of a GetFunctionLogs answer.
type logsAnswer struct {
	TotalCount int64
	Data       []json.RawMessage
	RequestId  string
}

// getFunctionLogs makes one GetFunctionLogs call with c, outside any chain.
func getFunctionLogs(c *client, req any) (logsAnswer, error) {
	var resp logsAnswer
	answer, err := c.call(context.Background(), GetFunctionLogs.Action, req)
	if err == nil {
		err = json.Unmarshal(answer, &resp)
	}
	return resp, err
}

// tamper flips the last hex digit of the signature on its way out.
type tamper struct{ next http.RoundTripper }

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	auth := r.Header.Get("Authorization")
	last := auth[len(auth)-1]
	flipped := byte('0')
	if last == '0' {
		flipped = '1'
	}
	r.Header.Set("Authorization", auth[:len(auth)-1]+string(flipped))
	return t.next.RoundTrip(r)
}

func TestSDKClientAgainstSimulator(t *testing.T) {
	cases := []struct {
		name      string
		clock     time.Duration // how far the simulator's clock is ahead
		secretID  string
		transport http.RoundTripper
		wantCode  string // "" for success
	}{
		{"valid call", 0, testSecretID, nil, ""},
		{"tampered signature", 0, testSecretID, tamper{http.DefaultTransport}, "AuthFailure.SignatureFailure"},
		{"unknown SecretId", 0, "AKIDnobodyKnowsThisOne0000000001", nil, "AuthFailure.SecretIdNotFound"},
		{"stale timestamp", 10 * time.Minute, testSecretID, nil, "AuthFailure.SignatureExpire"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := startSim(t, func() time.Time { return time.Now().Add(c.clock) })
			client := env.client(t, c.secretID, testSecretKey, c.transport)
			resp, err := getFunctionLogs(client, env.lastHour())
			suiteWitness.SeeErr("a Client error", err)
			if c.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				if resp.RequestId == "" || resp.TotalCount < int64(len(resp.Data)) {
					t.Errorf("response %+v", resp)
				}
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != c.wantCode || apiErr.RequestID == "" {
				t.Fatalf("got %v, want %s with a RequestId", err, c.wantCode)
			}
			if o := Classify(err); o != AuthFailure {
				t.Errorf("classified as %s, want auth_failure", o)
			}
		})
	}
}

// Ten concurrent calls in the same second: the simulator admits exactly
// five, and the SDK retries none of the rejected ones.
func TestSimulatorRateLimitThroughSDK(t *testing.T) {
	frozen := time.Now()
	env := startSim(t, func() time.Time { return frozen })
	client := env.client(t, testSecretID, testSecretKey, nil)
	req := env.lastHour()
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := getFunctionLogs(client, req)
			suiteWitness.SeeErr("a Client error", err)
			code := "ok"
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				code = apiErr.Code
			} else if err != nil {
				code = err.Error()
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes["ok"] != 5 || codes["RequestLimitExceeded"] != 5 || len(codes) != 2 {
		t.Fatalf("got %v, want 5 ok and 5 RequestLimitExceeded", codes)
	}
	truth := env.Truth()
	if got := truth.TotalAccepted[testSecretID] + truth.TotalRejected[testSecretID]; got != 10 {
		t.Errorf("the simulator saw %d calls; the SDK must not retry", got)
	}
}

func TestTransportFailures(t *testing.T) {
	cases := []struct {
		name    string
		faults  tencentsim.Faults
		timeout time.Duration
		want    Outcome
		wantAPI string
	}{
		{"gateway 502", tencentsim.Faults{HTTPStatus: 502}, 0, BadResponse, ""},
		{"malformed JSON", tencentsim.Faults{MalformedJSON: true}, 0, BadResponse, ""},
		{"connection reset", tencentsim.Faults{ResetConnection: true}, 0, Unreachable, ""},
		{"slow upstream", tencentsim.Faults{Latency: time.Second}, 100 * time.Millisecond, Timeout, ""},
		{"forced error code", tencentsim.Faults{ErrorCode: "InternalError.System"}, 0, InternalError, "InternalError.System"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := startSim(t, nil)
			env.SetFaults(c.faults)
			client := env.client(t, testSecretID, testSecretKey, nil)
			if c.timeout > 0 {
				client.timeout = c.timeout
			}
			_, err := getFunctionLogs(client, env.lastHour())
			suiteWitness.SeeErr("a Client error", err)
			var tErr *TransportError
			var apiErr *APIError
			switch {
			case c.wantAPI != "":
				if !errors.As(err, &apiErr) || apiErr.Code != c.wantAPI {
					t.Fatalf("got %v, want API error %s", err, c.wantAPI)
				}
			case !errors.As(err, &tErr) || tErr.Outcome != c.want:
				t.Fatalf("got %#v, want a %s transport error", err, c.want)
			}
			if o := Classify(err); o != c.want {
				t.Errorf("classified as %s, want %s", o, c.want)
			}
		})
	}

	// A gateway that sends the headers and part of the body, then stalls
	// or hangs up: the SDK reports both as ClientError.IOError.
	for _, c := range []struct {
		name    string
		hangUp  bool
		want    Outcome
		timeout time.Duration
	}{
		{"body stalls past the timeout", false, Timeout, 200 * time.Millisecond},
		{"connection cut mid-body", true, Unreachable, 5 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, `{"Response":{"TotalCount":`)
				w.(http.Flusher).Flush()
				if c.hangUp {
					conn, _, err := http.NewResponseController(w).Hijack()
					if err == nil {
						conn.Close()
					}
					return
				}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			defer srv.Close()
			defer close(release)
			client, err := newClient(ClientConfig{Region: "ap-guangzhou", Endpoint: strings.TrimPrefix(srv.URL, "http://"),
				Scheme: "http", Timeout: c.timeout, Credential: common.NewCredential(testSecretID, testSecretKey)}, scfService)
			if err != nil {
				t.Fatal(err)
			}
			_, err = getFunctionLogs(client, map[string]string{"FunctionName": "APITest"})
			suiteWitness.SeeErr("a Client error", err)
			var tErr *TransportError
			if !errors.As(err, &tErr) || tErr.Outcome != c.want {
				t.Fatalf("got %#v (%v), want a %s transport error", err, err, c.want)
			}
		})
	}

	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		c, err := newClient(ClientConfig{Region: "ap-guangzhou", Endpoint: addr, Scheme: "http", Credential: common.NewCredential(testSecretID, testSecretKey)}, scfService)
		if err != nil {
			t.Fatal(err)
		}
		_, err = getFunctionLogs(c, map[string]string{"FunctionName": "APITest"})
		suiteWitness.SeeErr("a Client error", err)
		var tErr *TransportError
		if !errors.As(err, &tErr) || tErr.Outcome != Unreachable {
			t.Fatalf("got %v, want unreachable", err)
		}
	})
}
