package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// DefaultTimeout bounds one call when the configuration gives no timeout.
const DefaultTimeout = 10 * time.Second

// ClientConfig configures one upstream account in one region.
type ClientConfig struct {
	Region string
	// Endpoint is host[:port], DefaultEndpoint when empty (the simulator
	// and private endpoints override it).
	Endpoint string
	// Scheme is "https" unless the endpoint is the simulator on loopback.
	Scheme string
	// Timeout bounds each call on top of the caller's context.
	Timeout time.Duration
	// Credential signs the calls. Nil resolves one through credentialChain.
	Credential common.CredentialIface
	// Transport carries the calls; nil uses a clone of http.DefaultTransport.
	Transport http.RoundTripper
}

// client calls one Tencent Cloud service (at the API version mudscf
// speaks) for one account in one region, through the official SDK with
// everything in it that acts behind the caller's back turned off.
type client struct {
	sdk      *common.Client
	service  service
	secretID string
	timeout  time.Duration
}

// newClient builds the client of svc whose SDK never retries, reroutes or
// prints requests.
func newClient(cfg ClientConfig, svc service) (*client, error) {
	if cfg.Region == "" {
		return nil, errors.New("tencent client: region is required")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = svc.defaultEndpoint
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cred := cfg.Credential
	if cred == nil {
		var err error
		if cred, err = credentialChain().GetCredential(); err != nil {
			return nil, fmt.Errorf("tencent client: no credentials in the environment, profile file, TKE OIDC role or CVM role: %w", err)
		}
	}
	scheme := strings.ToUpper(cfg.Scheme)
	if scheme == "" {
		scheme = "HTTPS"
	}
	if scheme != "HTTPS" && scheme != "HTTP" {
		return nil, fmt.Errorf("tencent client: scheme %q is neither https nor http", cfg.Scheme)
	}

	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = cfg.Endpoint
	cpf.HttpProfile.Scheme = scheme
	cpf.HttpProfile.ReqMethod = http.MethodPost
	// No http.Client timeout: every call's context carries the precise one,
	// and a client timeout adds a timer goroutine that outlives the call
	// when the SDK fails to read a body (TryReadErr returns without closing
	// it), for up to the whole timeout.
	cpf.HttpProfile.ReqTimeout = 0
	cpf.Language = "en-US"
	cpf.Debug = false
	cpf.DisableRegionBreaker = true
	cpf.RateLimitExceededMaxRetries = 0
	cpf.NetworkFailureMaxRetries = 0
	cpf.UnsafeRetryOnConnectionFailure = false

	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	sdk := common.NewCommonClient(cred, cfg.Region, cpf).
		WithHttpTransport(statusRecorder{next: transport}).
		WithRequestClient("mudscf")
	secretID, _, _ := cred.GetCredential()
	return &client{sdk: sdk, service: svc, secretID: secretID, timeout: cfg.Timeout}, nil
}

// credentialChain is the SDK's provider chain with TKE's OIDC role added:
// environment (TENCENTCLOUD_SECRET_ID/KEY), the profile file, the OIDC
// role when the TKE_* variables are present, then the CVM instance role.
func credentialChain() common.Provider {
	providers := []common.Provider{common.DefaultEnvProvider(), common.DefaultProfileProvider()}
	// The OIDC provider reports missing TKE_* variables as a hard error,
	// which would stop the chain, so it joins only when configured.
	if oidc, err := common.DefaultTkeOIDCRoleArnProvider(); err == nil {
		providers = append(providers, oidc)
	}
	providers = append(providers, common.DefaultCvmRoleProvider())
	return common.NewProviderChain(providers)
}

// call makes one call of action with params, and returns the answer's
// Response object, undecoded: the API's adapter owns its wire types.
func (c *client) call(ctx context.Context, action string, params any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	seen := new(exchange)
	ctx = context.WithValue(ctx, exchangeKey{}, seen)

	body, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	req := tchttp.NewCommonRequest(c.service.name, c.service.version, action)
	req.SetContext(ctx)
	if err := req.SetActionParameters(body); err != nil {
		return nil, err
	}
	var resp rawResponse
	if err := c.sdk.Send(req, &resp); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Whatever the SDK made of it (a read of the body cut short is
			// its ClientError.IOError, without a cause), the answer did not
			// come in time.
			return nil, &TransportError{Outcome: Timeout, Err: fmt.Errorf("%s: %w", action, ctx.Err())}
		}
		if seen.bodyErr != nil {
			// The SDK reports a body cut short as a JSON parse error: the
			// connection broke, the upstream did not answer badly.
			return nil, &TransportError{Outcome: Unreachable, HTTPStatus: seen.status, Err: fmt.Errorf("reading the %s answer: %w", action, seen.bodyErr)}
		}
		return nil, classify(err, seen.status)
	}
	var envelope struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.body, &envelope); err != nil {
		return nil, &TransportError{Outcome: BadResponse, Err: fmt.Errorf("decoding %s: %w", action, err)}
	}
	if len(envelope.Response) == 0 {
		return nil, &TransportError{Outcome: BadResponse, Err: fmt.Errorf("decoding %s: the answer has no Response", action)}
	}
	return envelope.Response, nil
}

// classify turns the SDK's single error type into ours. The SDK reports
// gateway errors (HTTP 5xx with an HTML body) as JSON parse errors, so the
// status the transport saw decides between an API error and a bad response.
func classify(err error, httpStatus int) error {
	var sdkErr *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdkErr) {
		if isTimeout(err) {
			return &TransportError{Outcome: Timeout, Err: err}
		}
		return &TransportError{Outcome: Unreachable, Err: err}
	}
	if !strings.HasPrefix(sdkErr.Code, "ClientError.") {
		return &APIError{Code: sdkErr.Code, Message: sdkErr.Message, RequestID: sdkErr.RequestId}
	}
	cause := errors.Unwrap(sdkErr)
	switch {
	case isTimeout(cause):
		return &TransportError{Outcome: Timeout, Err: cause}
	case sdkErr.Code == "ClientError.NetworkError":
		return &TransportError{Outcome: Unreachable, Err: cause}
	default:
		// The message of a parse error quotes the whole body; the code is
		// enough and keeps upstream bytes out of our logs.
		return &TransportError{Outcome: BadResponse, HTTPStatus: httpStatus, Err: errors.New(sdkErr.Code)}
	}
}

// rawResponse keeps the body so it is decoded once, into typed structs,
// instead of through the SDK's map[string]interface{} CommonResponse.
type rawResponse struct {
	tchttp.BaseResponse
	body []byte
}

func (r *rawResponse) UnmarshalJSON(b []byte) error {
	r.body = append(r.body[:0], b...)
	return nil
}

type exchangeKey struct{}

// exchange is what the transport saw of one call: its HTTP status, and an
// error while its body was read, which the SDK does not tell apart from a
// malformed body.
type exchange struct {
	status  int
	bodyErr error
}

// statusRecorder notes the HTTP status of each call, and any failure to
// read its body, in the exchange its context carries.
type statusRecorder struct{ next http.RoundTripper }

func (s statusRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if seen, ok := r.Context().Value(exchangeKey{}).(*exchange); ok && resp != nil {
		seen.status = resp.StatusCode
		resp.Body = &bodyRecorder{ReadCloser: resp.Body, seen: seen}
	}
	return resp, err
}

type bodyRecorder struct {
	io.ReadCloser
	seen *exchange
}

func (b *bodyRecorder) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.seen.bodyErr = err
	}
	return n, err
}
