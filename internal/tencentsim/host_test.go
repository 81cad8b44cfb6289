package tencentsim

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

// A TC3 signature may name the host with or without the port the Host
// header carries (the Node.js SDK signs it without), never another host.
func TestSignedHost(t *testing.T) {
	tests := []struct {
		name, signed, sent, want string
	}{
		{name: "as sent", signed: "scf.tencentcloudapi.com:9000", sent: "scf.tencentcloudapi.com:9000"},
		{name: "port stripped (Node.js SDK)", signed: "scf.tencentcloudapi.com", sent: "scf.tencentcloudapi.com:9000"},
		{name: "loopback port stripped", signed: "127.0.0.1", sent: "127.0.0.1:9000"},
		{name: "IPv6 port stripped", signed: "::1", sent: "[::1]:9000"},
		{name: "no port", signed: "scf.tencentcloudapi.com", sent: "scf.tencentcloudapi.com"},
		{name: "another host", signed: "cvm.tencentcloudapi.com", sent: "scf.tencentcloudapi.com:9000", want: "AuthFailure.SignatureFailure"},
		{name: "another port", signed: "scf.tencentcloudapi.com:9001", sent: "scf.tencentcloudapi.com:9000", want: "AuthFailure.SignatureFailure"},
		{name: "a port the request lacks", signed: "scf.tencentcloudapi.com:443", sent: "scf.tencentcloudapi.com", want: "AuthFailure.SignatureFailure"},
		{name: "host with a suffix", signed: "scf.tencentcloudapi.com.evil", sent: "scf.tencentcloudapi.com:9000", want: "AuthFailure.SignatureFailure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newSim(t, nil)
			r := apiRequest(t, clock, http.MethodPost, `{"Limit":1}`, reqOpts{noSign: true})
			r.Host = tc.signed
			signTC3(r, []byte(`{"Limit":1}`), defaultSecretID, defaultSecretKey, clock.Now().Unix(), "scf")
			r.Host = tc.sent
			if got := errCode(serve(t, s, r)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// X-TC-Language (and the Go SDK's Language profile setting that sends it)
// chooses the language of error messages.
func TestErrorLanguage(t *testing.T) {
	s, _ := newSim(t, nil)
	_, host := startServer(t, s)
	tests := []struct {
		lang, code, action, want string
	}{
		{"", "AuthFailure.SignatureFailure", scf.ActionGetFunctionLogs, "credentials could not be validated"},
		{"en-US", "AuthFailure.SignatureFailure", scf.ActionGetFunctionLogs, "credentials could not be validated"},
		{"zh-CN", "AuthFailure.SignatureFailure", scf.ActionGetFunctionLogs, "签名错误"},
		{"zh-CN", "InvalidAction", "DeleteFunction", "接口不存在"},
		{"en-US", "InvalidAction", "DeleteFunction", "DeleteFunction"},
		{"zh-CN", "ResourceNotFound.Function", scf.ActionGetFunction, "函数不存在"},
	}
	for _, tc := range tests {
		t.Run(tc.lang+"/"+tc.code, func(t *testing.T) {
			key := defaultSecretKey
			if strings.HasPrefix(tc.code, "AuthFailure") {
				key = "wrong"
			}
			client := newSDKClient(host, defaultSecretID, key, "POST", func(p *profile.ClientProfile) { p.Language = tc.lang })
			req := tchttp.NewCommonRequest("scf", scf.Version, tc.action)
			if tc.action == scf.ActionGetFunction {
				if err := req.SetActionParameters(map[string]any{"FunctionName": "nope"}); err != nil {
					t.Fatal(err)
				}
			}
			err := client.Send(req, tchttp.NewCommonResponse())
			var sdkErr *tcerr.TencentCloudSDKError
			if !errors.As(err, &sdkErr) || sdkErr.Code != tc.code || !strings.Contains(sdkErr.Message, tc.want) {
				t.Fatalf("got %v, want %s with %q", err, tc.code, tc.want)
			}
		})
	}
}
