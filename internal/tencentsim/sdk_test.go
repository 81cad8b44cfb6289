package tencentsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

func noRateLimit(c *Config) { c.RateLimit = 1 << 30 }

// The simulator must accept what the official SDK sends, for both request
// methods and both request styles.
func TestSDKValidCalls(t *testing.T) {
	s, _ := newSim(t, noRateLimit)
	_, host := startServer(t, s)

	for _, method := range []string{"POST", "GET"} {
		t.Run(method+"/CommonRequest", func(t *testing.T) {
			client := newSDKClient(host, defaultSecretID, defaultSecretKey, method)
			req := tchttp.NewCommonRequest("scf", scf.Version, scf.ActionGetFunctionLogs)
			if method == "POST" {
				// A CommonRequest has no name tags, so the SDK sends its
				// parameters in the JSON body only; GET carries none.
				if err := req.SetActionParameters(map[string]any{"FunctionName": "APITest", "Limit": 5}); err != nil {
					t.Fatal(err)
				}
			}
			resp := tchttp.NewCommonResponse()
			if err := client.Send(req, resp); err != nil {
				t.Fatalf("Send: %v", err)
			}
			var env struct {
				Response scf.GetFunctionLogsResponse
			}
			if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
				t.Fatal(err)
			}
			if env.Response.TotalCount == 0 || len(env.Response.Data) == 0 || env.Response.RequestId == "" {
				t.Fatalf("empty answer: %+v", env.Response)
			}
			wantRows := 10
			if method == "POST" {
				wantRows = 5
				for _, d := range env.Response.Data {
					if d.FunctionName != "APITest" {
						t.Fatalf("FunctionName filter ignored: %s", d.FunctionName)
					}
				}
			}
			if len(env.Response.Data) != wantRows {
				t.Fatalf("%d rows, want %d", len(env.Response.Data), wantRows)
			}
		})
		t.Run(method+"/typed", func(t *testing.T) {
			client := newSDKClient(host, defaultSecretID, defaultSecretKey, method)
			req := newSDKLogsRequest()
			req.FunctionName = ptr("thumbnail-worker")
			req.Limit = ptr(int64(3))
			req.Order = ptr("asc")
			req.Filter = &sdkLogFilter{RetCode: ptr("not0")}
			resp := &sdkLogsResponse{BaseResponse: &tchttp.BaseResponse{}}
			if err := client.Send(req, resp); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if resp.Response == nil || len(resp.Response.Data) != 3 || *resp.Response.TotalCount < 3 {
				t.Fatalf("answer: %+v", resp.Response)
			}
			for i, d := range resp.Response.Data {
				if d.RetCode == 0 || d.FunctionName != "thumbnail-worker" {
					t.Fatalf("row %d ignores filters: %+v", i, d)
				}
				if i > 0 && d.StartTime < resp.Response.Data[i-1].StartTime {
					t.Fatalf("not ascending: %s after %s", d.StartTime, resp.Response.Data[i-1].StartTime)
				}
			}
		})
	}
}

// tamperTransport flips the last hex digit of the signature in flight.
type tamperTransport struct{ next http.RoundTripper }

func (tt tamperTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	a := r.Header.Get("Authorization")
	last := a[len(a)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	r.Header.Set("Authorization", a[:len(a)-1]+string(repl))
	return tt.next.RoundTrip(r)
}

func TestSDKAuthErrors(t *testing.T) {
	tests := []struct {
		name      string
		secretID  string
		secretKey string
		tamper    bool
		shift     time.Duration
		method    string
		want      string
	}{
		{name: "tampered signature", tamper: true, method: "POST", want: "AuthFailure.SignatureFailure"},
		{name: "tampered signature GET", tamper: true, method: "GET", want: "AuthFailure.SignatureFailure"},
		{name: "wrong secret key", secretKey: "not-the-key", method: "POST", want: "AuthFailure.SignatureFailure"},
		{name: "unknown SecretId", secretID: "AKIDunknown", method: "POST", want: "AuthFailure.SecretIdNotFound"},
		{name: "stale timestamp", shift: 10 * time.Minute, method: "POST", want: "AuthFailure.SignatureExpire"},
		{name: "future timestamp", shift: -10 * time.Minute, method: "GET", want: "AuthFailure.SignatureExpire"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newSim(t, nil)
			clock.Add(tc.shift)
			_, host := startServer(t, s)
			id, key := defaultSecretID, defaultSecretKey
			if tc.secretID != "" {
				id = tc.secretID
			}
			if tc.secretKey != "" {
				key = tc.secretKey
			}
			client := newSDKClient(host, id, key, tc.method)
			if tc.tamper {
				client.WithHttpTransport(tamperTransport{http.DefaultTransport})
			}
			err := client.Send(tchttp.NewCommonRequest("scf", scf.Version, scf.ActionGetFunctionLogs), tchttp.NewCommonResponse())
			var sdkErr *tcerr.TencentCloudSDKError
			if !errors.As(err, &sdkErr) {
				t.Fatalf("want *TencentCloudSDKError, got %T %v", err, err)
			}
			if sdkErr.Code != tc.want || sdkErr.RequestId == "" {
				t.Fatalf("got code %q request id %q, want %q", sdkErr.Code, sdkErr.RequestId, tc.want)
			}
			if n := sum(s.Truth().TotalAuthFailures); n != 1 {
				t.Fatalf("auth failures recorded: %d", n)
			}
		})
	}
}

func TestSDKToken(t *testing.T) {
	s, _ := newSim(t, func(c *Config) {
		c.Accounts = []Account{{SecretID: "AKIDtemp", SecretKey: "temp-key", Token: "session-token"}}
	})
	_, host := startServer(t, s)
	for _, tc := range []struct {
		token, want string
	}{
		{"session-token", ""},
		{"wrong-token", "AuthFailure.TokenFailure"},
		{"", "AuthFailure.TokenFailure"},
	} {
		client := newSDKClient(host, "AKIDtemp", "temp-key", "POST")
		client.WithCredential(common.NewTokenCredential("AKIDtemp", "temp-key", tc.token))
		err := client.Send(tchttp.NewCommonRequest("scf", scf.Version, scf.ActionGetFunctionLogs), tchttp.NewCommonResponse())
		var sdkErr *tcerr.TencentCloudSDKError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("token %q: %v", tc.token, err)
		case tc.want != "" && (!errors.As(err, &sdkErr) || sdkErr.Code != tc.want):
			t.Errorf("token %q: got %v, want %s", tc.token, err, tc.want)
		}
	}
}

// With a frozen clock all ten calls fall in the same instant, so exactly
// RateLimit of them may pass.
func TestSDKRateLimitConcurrent(t *testing.T) {
	s, _ := newSim(t, nil)
	_, host := startServer(t, s)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		ok, limit int
		other     []error
	)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := newSDKClient(host, defaultSecretID, defaultSecretKey, "POST")
			err := client.Send(tchttp.NewCommonRequest("scf", scf.Version, scf.ActionGetFunctionLogs), tchttp.NewCommonResponse())
			mu.Lock()
			defer mu.Unlock()
			var sdkErr *tcerr.TencentCloudSDKError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &sdkErr) && sdkErr.Code == "RequestLimitExceeded":
				limit++
			default:
				other = append(other, err)
			}
		}()
	}
	wg.Wait()
	if ok != 5 || limit != 5 || len(other) != 0 {
		t.Fatalf("ok=%d limited=%d other=%v", ok, limit, other)
	}
	tr := s.Truth()
	if tr.TotalAccepted[defaultSecretID] != 5 || tr.TotalRejected[defaultSecretID] != 5 ||
		tr.MaxCallsInAnySlidingSecond[defaultSecretID] != 5 {
		t.Fatalf("truth: %+v", tr)
	}
	if len(tr.Calls) != 1 || tr.Calls[0].Accepted != 5 || tr.Calls[0].RateLimited != 5 {
		t.Fatalf("calls: %+v", tr.Calls)
	}
}

// captureTransport records the request the SDK sends and answers it
// itself, so the test signer can be compared with the SDK's.
type captureTransport struct {
	req  *http.Request
	body []byte
}

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.req = r
	c.body, _ = io.ReadAll(r.Body)
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"Response":{"RequestId":"x"}}`)),
		Request:    r,
	}, nil
}

func TestSignerMatchesSDK(t *testing.T) {
	for _, method := range []string{"POST", "GET"} {
		t.Run(method, func(t *testing.T) {
			capt := &captureTransport{}
			client := newSDKClient("scf.example.test", defaultSecretID, defaultSecretKey, method)
			client.WithHttpTransport(capt)
			req := newSDKLogsRequest()
			req.FunctionName = ptr("APITest")
			req.Limit = ptr(int64(7))
			req.Filter = &sdkLogFilter{RetCode: ptr("is0")}
			if err := client.Send(req, &sdkLogsResponse{BaseResponse: &tchttp.BaseResponse{}}); err != nil {
				t.Fatal(err)
			}
			got := capt.req.Header.Get("Authorization")
			ts := capt.req.Header.Get("X-TC-Timestamp")
			var tsN int64
			if err := json.Unmarshal([]byte(ts), &tsN); err != nil {
				t.Fatal(err)
			}
			r := capt.req.Clone(capt.req.Context())
			r.Host = capt.req.Host
			signTC3(r, capt.body, defaultSecretID, defaultSecretKey, tsN, "scf")
			if want := r.Header.Get("Authorization"); got != want {
				t.Fatalf("SDK signed\n%s\ntest signer\n%s", got, want)
			}
			if method == "GET" && !strings.Contains(capt.req.URL.RawQuery, "Filter.RetCode=is0") {
				t.Fatalf("query %q", capt.req.URL.RawQuery)
			}
		})
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
