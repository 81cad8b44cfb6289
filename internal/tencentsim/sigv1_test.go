package tencentsim

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// The official Go SDK's older signature methods (API 3.0 signature v1)
// reach the simulator as Tencent accepts them: GET query and form POST.
func TestSDKSignatureV1(t *testing.T) {
	s, _ := newSim(t, noRateLimit)
	_, host := startServer(t, s)
	for _, method := range []string{"GET", "POST"} {
		for _, sign := range []string{tcapi.SigMethodSHA1, tcapi.SigMethodSHA256} {
			t.Run(method+"/"+sign, func(t *testing.T) {
				signWith := func(p *profile.ClientProfile) { p.SignMethod = sign }
				client := newSDKClient(host, defaultSecretID, defaultSecretKey, method, signWith)
				req := newSDKLogsRequest()
				req.FunctionName = ptr("thumbnail-worker")
				req.Limit = ptr(int64(2))
				req.Filter = &sdkLogFilter{RetCode: ptr("not0")}
				resp := &sdkLogsResponse{BaseResponse: &tchttp.BaseResponse{}}
				if err := client.Send(req, resp); err != nil {
					t.Fatalf("Send: %v", err)
				}
				if resp.Response == nil || len(resp.Response.Data) != 2 {
					t.Fatalf("answer %+v", resp.Response)
				}
				for _, d := range resp.Response.Data {
					if d.RetCode == 0 || d.FunctionName != "thumbnail-worker" {
						t.Fatalf("filters ignored: %+v", d)
					}
				}
				// The same client with the wrong key fails the signature.
				bad := newSDKClient(host, defaultSecretID, "wrong", method, signWith)
				err := bad.Send(tchttp.NewCommonRequest("scf", scf.Version, scf.ActionGetFunction), tchttp.NewCommonResponse())
				var sdkErr *tcerr.TencentCloudSDKError
				if !errors.As(err, &sdkErr) || sdkErr.Code != "AuthFailure.SignatureFailure" {
					t.Fatalf("wrong key: %v", err)
				}
			})
		}
	}
}

// v1Request builds a signature-v1 call by hand; sign may edit the
// parameters before signing and host is the host signed.
func v1Request(clock *fakeClock, method, host, sigMethod, key string, extra url.Values, edit func(url.Values)) *http.Request {
	p := url.Values{
		"Action": {scf.ActionGetFunction}, "Version": {scf.Version}, "Region": {"ap-guangzhou"},
		"Timestamp": {strconv.FormatInt(clock.Now().Unix(), 10)}, "Nonce": {"4711"},
		"SecretId": {defaultSecretID}, "FunctionName": {"APITest"},
	}
	if sigMethod != "" {
		p.Set("SignatureMethod", sigMethod)
	}
	for k, v := range extra {
		p[k] = v
	}
	if edit != nil {
		edit(p)
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, k+"="+p.Get(k))
	}
	newHash := sha1.New
	if sigMethod == tcapi.SigMethodSHA256 {
		newHash = sha256.New
	}
	m := hmac.New(newHash, []byte(key))
	m.Write([]byte(method + host + "/?" + strings.Join(pairs, "&")))
	if !p.Has("Signature") {
		p.Set("Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	var r *http.Request
	if method == http.MethodGet {
		r = httptest.NewRequest(method, "http://scf.tencentcloudapi.com:8443/?"+p.Encode(), nil)
	} else {
		r = httptest.NewRequest(method, "http://scf.tencentcloudapi.com:8443/", strings.NewReader(p.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.Host = "scf.tencentcloudapi.com:8443"
	return r
}

func TestSignatureV1(t *testing.T) {
	const host = "scf.tencentcloudapi.com"
	tests := []struct {
		name, method, sigMethod, host, key string
		extra                              url.Values
		edit                               func(url.Values)
		shift                              time.Duration
		want, message                      string
	}{
		{name: "HmacSHA1 by default", method: "GET"},
		{name: "HmacSHA256 POST", method: "POST", sigMethod: tcapi.SigMethodSHA256},
		{name: "host with its port", method: "GET", sigMethod: tcapi.SigMethodSHA256, host: host + ":8443"},
		{name: "another host", method: "GET", host: "cvm.tencentcloudapi.com", want: "AuthFailure.SignatureFailure"},
		{name: "wrong key", method: "POST", key: "wrong", want: "AuthFailure.SignatureFailure"},
		{name: "garbage signature", method: "GET", edit: func(p url.Values) {
			p.Set("Signature", "AAAA")
		}, want: "AuthFailure.SignatureFailure"},
		{name: "unknown method", method: "GET", sigMethod: "HmacMD5", want: "InvalidParameterValue", message: "SignatureMethod"},
		{name: "no nonce", method: "GET", edit: func(p url.Values) { p.Del("Nonce") }, want: "MissingParameter", message: "Nonce"},
		{name: "no region", method: "POST", edit: func(p url.Values) { p.Del("Region") }, want: "MissingParameter", message: "Region"},
		{name: "stale", method: "GET", shift: 10 * time.Minute, want: "AuthFailure.SignatureExpire"},
		{name: "unknown SecretId", method: "GET", edit: func(p url.Values) { p.Set("SecretId", "AKIDnobody") }, want: "AuthFailure.SecretIdNotFound"},
		{name: "unknown parameter", method: "GET", extra: url.Values{"Nope": {"1"}}, want: "UnknownParameter"},
		{name: "Chinese", method: "GET", key: "wrong", extra: url.Values{"Language": {"zh-CN"}}, want: "AuthFailure.SignatureFailure", message: "签名"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newSim(t, nil)
			signer := newFakeClock()
			signer.Set(clock.Now().Add(-tc.shift))
			h, key := tc.host, tc.key
			if h == "" {
				h = host
			}
			if key == "" {
				key = defaultSecretKey
			}
			r := v1Request(signer, tc.method, h, tc.sigMethod, key, tc.extra, tc.edit)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			var env struct {
				Response struct {
					Error *struct{ Code, Message string }
					scf.FunctionDetail
				}
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
				t.Fatal(err)
			}
			out := env.Response.FunctionDetail
			got := ""
			if env.Response.Error != nil {
				got = env.Response.Error.Code
				if !strings.Contains(env.Response.Error.Message, tc.message) {
					t.Fatalf("message %q lacks %q", env.Response.Error.Message, tc.message)
				}
			}
			if got != tc.want || (tc.want == "" && out.FunctionName != "APITest") {
				t.Fatalf("got %q %+v, want %q", got, env.Response.Error, tc.want)
			}
		})
	}
}
