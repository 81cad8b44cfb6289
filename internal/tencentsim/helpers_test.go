package tencentsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// fakeClock is a settable clock; it starts at the real time because the
// SDK stamps X-TC-Timestamp with the real time and the simulator checks
// the skew against its own clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newSim builds a simulator on DefaultConfig with a fake clock.
func newSim(t testing.TB, mutate func(*Config)) (*Simulator, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	cfg := DefaultConfig()
	cfg.Now = clock.Now
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, clock
}

func startServer(t testing.TB, s *Simulator) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "http://")
}

// servePipes serves h over in-memory connections (net.Pipe) and returns
// a transport that dials it, so a test inside a synctest bubble can drive
// the simulator through a real HTTP stack: a goroutine blocked on a
// loopback socket is never durably blocked, and the bubble would never
// settle. Everything stops when the test ends.
func servePipes(t testing.TB, h http.Handler) *http.Transport {
	t.Helper()
	l := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		select {
		case l.conns <- server:
			return client, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.done:
			return nil, net.ErrClosed
		}
	}}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = srv.Close()
	})
	return tr
}

// pipeListener hands the server the far ends of servePipes's pipes.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// newSDKClient builds an official SDK client pointed at the simulator;
// opts adjust its profile (signature method, language).
func newSDKClient(host, secretID, secretKey, method string, opts ...func(*profile.ClientProfile)) *common.Client {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = host
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqMethod = method
	cpf.DisableRegionBreaker = true
	cpf.RateLimitExceededMaxRetries = 0
	for _, o := range opts {
		o(cpf)
	}
	return common.NewCommonClient(common.NewCredential(secretID, secretKey), "ap-guangzhou", cpf)
}

// sdkLogsRequest mirrors the generated scf/v20180416 request type: the SDK
// flattens fields by their name tags for GET (Filter.RetCode=...), which a
// CommonRequest cannot do.
type sdkLogsRequest struct {
	*tchttp.BaseRequest
	FunctionName      *string       `json:"FunctionName,omitempty" name:"FunctionName"`
	Offset            *int64        `json:"Offset,omitempty" name:"Offset"`
	Limit             *int64        `json:"Limit,omitempty" name:"Limit"`
	Order             *string       `json:"Order,omitempty" name:"Order"`
	OrderBy           *string       `json:"OrderBy,omitempty" name:"OrderBy"`
	Filter            *sdkLogFilter `json:"Filter,omitempty" name:"Filter"`
	Namespace         *string       `json:"Namespace,omitempty" name:"Namespace"`
	Qualifier         *string       `json:"Qualifier,omitempty" name:"Qualifier"`
	FunctionRequestId *string       `json:"FunctionRequestId,omitempty" name:"FunctionRequestId"`
	StartTime         *string       `json:"StartTime,omitempty" name:"StartTime"`
	EndTime           *string       `json:"EndTime,omitempty" name:"EndTime"`
}

type sdkLogFilter struct {
	RetCode *string `json:"RetCode,omitempty" name:"RetCode"`
}

func newSDKLogsRequest() *sdkLogsRequest {
	r := &sdkLogsRequest{BaseRequest: &tchttp.BaseRequest{}}
	r.Init().WithApiInfo("scf", scf.Version, scf.ActionGetFunctionLogs)
	return r
}

type sdkLogsResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		TotalCount *int64
		Data       []scf.FunctionLog
		RequestId  *string
	} `json:"Response"`
}

func ptr[T any](v T) *T { return &v }

// signTC3 is the test's own TC3-HMAC-SHA256 signer, for requests the SDK
// cannot produce (garbled bodies, missing headers). TestSignerMatchesSDK
// proves it signs exactly like the SDK.
func signTC3(r *http.Request, body []byte, secretID, secretKey string, ts int64, service string) {
	signTC3Headers(r, body, secretID, secretKey, ts, service, []string{"content-type", "host"})
}

// signTC3Headers signs over any list of headers, lower-casing values as
// Tencent's documentation prescribes.
func signTC3Headers(r *http.Request, body []byte, secretID, secretKey string, ts int64, service string, headers []string) {
	query := ""
	if r.Method == http.MethodGet {
		query = r.URL.RawQuery
	}
	canonHeaders := ""
	for _, h := range headers {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canonHeaders += h + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n"
	}
	signed := strings.Join(headers, ";")
	sum := sha256.Sum256(body)
	canonical := r.Method + "\n/\n" + query + "\n" + canonHeaders + "\n" + signed + "\n" + hex.EncodeToString(sum[:])
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	scope := date + "/" + service + "/tc3_request"
	cr := sha256.Sum256([]byte(canonical))
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + hex.EncodeToString(cr[:])
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	k := mac([]byte("TC3"+secretKey), date)
	k = mac(k, service)
	k = mac(k, "tc3_request")
	sig := hex.EncodeToString(mac(k, toSign))
	r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+secretID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

// reqOpts tweaks a hand-signed request.
type reqOpts struct {
	secretID, secretKey string
	ts                  int64             // default: clock now
	service             string            // default scf
	headers             map[string]string // overrides; "" deletes
	contentType         string
	noSign              bool
	signedHeaders       []string                 // default content-type;host
	mutateAuth          func(auth string) string // edits the signed header
}

// apiRequest builds a signed API request; body is a JSON body for POST or
// a raw query for GET.
func apiRequest(t testing.TB, clock *fakeClock, method, bodyOrQuery string, o reqOpts) *http.Request {
	t.Helper()
	target := "http://scf.tencentcloudapi.com/"
	var body []byte
	if method == http.MethodGet {
		if bodyOrQuery != "" {
			target += "?" + bodyOrQuery
		}
	} else {
		body = []byte(bodyOrQuery)
	}
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Host = "scf.tencentcloudapi.com"
	ct := o.contentType
	if ct == "" {
		ct = "application/json"
		if method == http.MethodGet {
			ct = "application/x-www-form-urlencoded"
		}
	}
	r.Header.Set("Content-Type", ct)
	ts := o.ts
	if ts == 0 {
		ts = clock.Now().Unix()
	}
	r.Header.Set("X-TC-Action", scf.ActionGetFunctionLogs)
	r.Header.Set("X-TC-Version", scf.Version)
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	for k, v := range o.headers {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	if !o.noSign {
		id, key := o.secretID, o.secretKey
		if id == "" {
			id, key = defaultSecretID, defaultSecretKey
		}
		svc := o.service
		if svc == "" {
			svc = "scf"
		}
		headers := o.signedHeaders
		if headers == nil {
			headers = []string{"content-type", "host"}
		}
		signTC3Headers(r, body, id, key, ts, svc, headers)
		if o.mutateAuth != nil {
			r.Header.Set("Authorization", o.mutateAuth(r.Header.Get("Authorization")))
		}
	}
	return r
}

// apiResult is a decoded API answer: either Error or the success fields.
type apiResult struct {
	Error *tcapi.APIError
	scf.GetFunctionLogsResponse
}

func serve(t testing.TB, s *Simulator, r *http.Request) apiResult {
	t.Helper()
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var env struct{ Response apiResult }
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	if env.Response.RequestId == "" || env.Response.RequestId != w.Header().Get("X-TC-RequestId") {
		t.Fatalf("RequestId %q vs header %q", env.Response.RequestId, w.Header().Get("X-TC-RequestId"))
	}
	return env.Response
}

func errCode(r apiResult) string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Code
}

// call is the common case: a signed POST with a JSON body.
func call(t testing.TB, s *Simulator, clock *fakeClock, body string) apiResult {
	t.Helper()
	return serve(t, s, apiRequest(t, clock, http.MethodPost, body, reqOpts{}))
}

func mustOK(t testing.TB, r apiResult) apiResult {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("unexpected error %s: %s", r.Error.Code, r.Error.Message)
	}
	return r
}
