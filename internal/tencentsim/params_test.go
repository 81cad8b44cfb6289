package tencentsim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every gateway-level check, and the order in which Tencent reports them
// when several apply at once.
func TestGatewayErrors(t *testing.T) {
	garbled := map[string]string{"Authorization": "TC3-HMAC-SHA256 Credential=AKID/2024-01-01/scf, Signature=zz"}
	tests := []struct {
		name    string
		method  string
		opts    reqOpts
		want    string
		message string // substring of the message, if it matters
	}{
		{name: "no Authorization", opts: reqOpts{noSign: true}, want: "AuthFailure.InvalidAuthorization"},
		{name: "garbled Authorization", opts: reqOpts{noSign: true, headers: garbled}, want: "AuthFailure.InvalidAuthorization"},
		{name: "HmacSHA256 is not TC3", opts: reqOpts{noSign: true, headers: map[string]string{"Authorization": "HmacSHA256 abc"}}, want: "AuthFailure.InvalidAuthorization"},
		{name: "garbled beats missing header", opts: reqOpts{noSign: true, headers: map[string]string{"Authorization": "x", "X-TC-Action": ""}}, want: "AuthFailure.InvalidAuthorization"},
		{name: "missing action", opts: reqOpts{headers: map[string]string{"X-TC-Action": ""}}, want: "MissingParameter", message: "X-TC-Action"},
		{name: "missing version", opts: reqOpts{headers: map[string]string{"X-TC-Version": ""}}, want: "MissingParameter", message: "X-TC-Version"},
		{name: "missing region", opts: reqOpts{headers: map[string]string{"X-TC-Region": ""}}, want: "MissingParameter", message: "X-TC-Region"},
		{name: "missing timestamp", opts: reqOpts{headers: map[string]string{"X-TC-Timestamp": ""}}, want: "MissingParameter", message: "X-TC-Timestamp"},
		{name: "expired before unknown id", opts: reqOpts{secretID: "AKIDnobody", secretKey: "k", ts: 1_000_000_000}, want: "AuthFailure.SignatureExpire"},
		{name: "unknown id", opts: reqOpts{secretID: "AKIDnobody", secretKey: "k"}, want: "AuthFailure.SecretIdNotFound"},
		{name: "wrong key", opts: reqOpts{secretID: defaultSecretID, secretKey: "wrong"}, want: "AuthFailure.SignatureFailure"},
		{name: "wrong service", opts: reqOpts{service: "cvm"}, want: "AuthFailure.SignatureFailure"},
		{name: "scope date is not the timestamp's", opts: reqOpts{mutateAuth: func(a string) string {
			i := strings.Index(a, "/") + 1 // the date follows the SecretId
			return a[:i] + "2020-02-02" + a[i+len("2006-01-02"):]
		}}, want: "AuthFailure.SignatureFailure", message: "date"},
		{name: "host not signed", opts: reqOpts{signedHeaders: []string{"content-type"}}, want: "AuthFailure.InvalidAuthorization"},
		{name: "upper-case signed header", opts: reqOpts{signedHeaders: []string{"Content-Type", "host"}}, want: "AuthFailure.InvalidAuthorization"},
		{name: "signature not hex", opts: reqOpts{mutateAuth: func(a string) string { return a[:len(a)-1] + "g" }}, want: "AuthFailure.InvalidAuthorization"},
		{name: "extra signed headers", opts: reqOpts{signedHeaders: []string{"content-type", "host", "x-tc-action"}}},
		{name: "signature before action", opts: reqOpts{secretID: defaultSecretID, secretKey: "wrong", headers: map[string]string{"X-TC-Action": "ListFunctions"}}, want: "AuthFailure.SignatureFailure"},
		{name: "other action", opts: reqOpts{headers: map[string]string{"X-TC-Action": "DeleteFunction"}}, want: "InvalidAction", message: "DeleteFunction"},
		{name: "action before version", opts: reqOpts{headers: map[string]string{"X-TC-Action": "Nope", "X-TC-Version": "2017-01-01"}}, want: "InvalidAction"},
		{name: "other version", opts: reqOpts{headers: map[string]string{"X-TC-Version": "2017-01-01"}}, want: "NoSuchVersion"},
		{name: "region not served", opts: reqOpts{headers: map[string]string{"X-TC-Region": "ap-nowhere"}}, want: "InvalidParameterValue", message: "Region"},
		{name: "PUT", method: http.MethodPut, want: "UnsupportedProtocol"},
		{name: "POST form body", opts: reqOpts{contentType: "application/x-www-form-urlencoded"}, want: "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newSim(t, nil)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			got := serve(t, s, apiRequest(t, clock, method, "{}", tc.opts))
			if errCode(got) != tc.want {
				t.Fatalf("got %q (%v), want %q", errCode(got), got.Error, tc.want)
			}
			if got.Error != nil && !strings.Contains(got.Error.Message, tc.message) {
				t.Fatalf("message %q does not mention %q", got.Error.Message, tc.message)
			}
		})
	}
}

// The signature covers the body: changing it after signing must fail.
func TestAlteredBody(t *testing.T) {
	s, clock := newSim(t, nil)
	r := apiRequest(t, clock, http.MethodPost, `{"Limit":1}`, reqOpts{})
	r2 := apiRequest(t, clock, http.MethodPost, `{"Limit":2}`, reqOpts{noSign: true})
	r2.Header.Set("Authorization", r.Header.Get("Authorization"))
	if got := serve(t, s, r2); errCode(got) != "AuthFailure.SignatureFailure" {
		t.Fatalf("got %v", got.Error)
	}
	// Same for the query of a GET.
	g := apiRequest(t, clock, http.MethodGet, `Limit=1`, reqOpts{})
	g2 := apiRequest(t, clock, http.MethodGet, `Limit=2`, reqOpts{noSign: true})
	g2.Header.Set("Authorization", g.Header.Get("Authorization"))
	if got := serve(t, s, g2); errCode(got) != "AuthFailure.SignatureFailure" {
		t.Fatalf("got %v", got.Error)
	}
	mustOK(t, serve(t, s, g))
}

// Unsigned payloads are signed over the literal "UNSIGNED-PAYLOAD".
func TestUnsignedPayload(t *testing.T) {
	s, clock := newSim(t, nil)
	r := apiRequest(t, clock, http.MethodPost, `{"Limit":1}`, reqOpts{noSign: true,
		headers: map[string]string{"X-TC-Content-SHA256": "UNSIGNED-PAYLOAD"}})
	// Sign as if the body were the literal, which is what TC3 prescribes.
	signTC3(r, []byte("UNSIGNED-PAYLOAD"), defaultSecretID, defaultSecretKey, clock.Now().Unix(), "scf")
	mustOK(t, serve(t, s, r))
}

// Rate limiting comes after the region check and before parameters.
func TestRateLimitOrdering(t *testing.T) {
	s, clock := newSim(t, nil)
	for range 5 {
		mustOK(t, call(t, s, clock, `{}`))
	}
	bad := serve(t, s, apiRequest(t, clock, http.MethodPost, "{}", reqOpts{headers: map[string]string{"X-TC-Region": "ap-nowhere"}}))
	if errCode(bad) != "InvalidParameterValue" {
		t.Fatalf("region check after rate limit: %v", bad.Error)
	}
	if got := call(t, s, clock, `{"Limit":-1}`); errCode(got) != "RequestLimitExceeded" {
		t.Fatalf("parameters checked before rate limit: %v", got.Error)
	}
}

func TestParameterErrors(t *testing.T) {
	tests := []struct {
		name   string
		method string // POST unless set
		body   string // JSON body, or the query for GET
		want   string
	}{
		{name: "unknown parameter", body: `{"Foo":1}`, want: "UnknownParameter"},
		{name: "wrong case", body: `{"functionName":"APITest"}`, want: "UnknownParameter"},
		{name: "unknown filter field", body: `{"Filter":{"Status":"x"}}`, want: "UnknownParameter"},
		{name: "Limit as string", body: `{"Limit":"10"}`, want: "InvalidParameter"},
		{name: "Offset as float", body: `{"Offset":1.5}`, want: "InvalidParameter"},
		{name: "FunctionName as number", body: `{"FunctionName":5}`, want: "InvalidParameter"},
		{name: "Filter as string", body: `{"Filter":"is0"}`, want: "InvalidParameter"},
		{name: "RetCode as number", body: `{"Filter":{"RetCode":0}}`, want: "InvalidParameter"},
		{name: "not JSON", body: `Limit=10`, want: "InvalidParameter.Payload"},
		{name: "JSON array", body: `[1]`, want: "InvalidParameter.Payload"},
		{name: "trailing data", body: `{} {}`, want: "InvalidParameter.Payload"},
		{name: "negative Offset", body: `{"Offset":-1}`, want: "InvalidParameterValue.Offset"},
		{name: "negative Limit", body: `{"Limit":-1}`, want: "InvalidParameterValue"},
		{name: "Offset+Limit over 10000", body: `{"Offset":9991,"Limit":10}`, want: "LimitExceeded.Offset"},
		{name: "Offset over 10000 with default Limit", body: `{"Offset":9991}`, want: "LimitExceeded.Offset"},
		{name: "huge Limit", body: `{"Limit":9223372036854775807}`, want: "LimitExceeded.Offset"},
		{name: "bad Order", body: `{"Order":"up"}`, want: "InvalidParameterValue.Order"},
		{name: "upper-case Order", body: `{"Order":"DESC"}`, want: "InvalidParameterValue.Order"},
		{name: "bad OrderBy", body: `{"OrderBy":"name"}`, want: "InvalidParameterValue.OrderBy"},
		{name: "bad RetCode", body: `{"Filter":{"RetCode":"is1"}}`, want: "InvalidParameterValue.RetCode"},
		{name: "StartTime only", body: `{"StartTime":"2024-01-01 00:00:00"}`, want: "InvalidParameterValue.StartTimeOrEndTime"},
		{name: "EndTime only", body: `{"EndTime":"2024-01-01 00:00:00"}`, want: "InvalidParameterValue.StartTimeOrEndTime"},
		{name: "date without time", body: `{"StartTime":"2024-01-01","EndTime":"2024-01-01 01:00:00"}`, want: "InvalidParameterValue.DateTime"},
		{name: "RFC 3339 time", body: `{"StartTime":"2024-01-01T00:00:00Z","EndTime":"2024-01-01 01:00:00"}`, want: "InvalidParameterValue.DateTime"},
		{name: "start after end", body: `{"StartTime":"2024-01-02 00:00:00","EndTime":"2024-01-01 00:00:00"}`, want: "InvalidParameterValue.DateTime"},
		{name: "span over a day", body: `{"StartTime":"2024-01-01 00:00:00","EndTime":"2024-01-02 00:00:01"}`, want: "InvalidParameterValue.DateTime"},
		{name: "unknown function", body: `{"FunctionName":"nope"}`, want: "ResourceNotFound.Function"},
		{name: "function in other namespace", body: `{"FunctionName":"APITest","Namespace":"staging"}`, want: "ResourceNotFound.Function"},
		{name: "unknown namespace", body: `{"Namespace":"staging"}`, want: "ResourceNotFound.Function"},
		{name: "GET unknown parameter", method: "GET", body: `Foo=1`, want: "UnknownParameter"},
		{name: "GET Limit not integer", method: "GET", body: `Limit=ten`, want: "InvalidParameter"},
		{name: "GET bad RetCode", method: "GET", body: `Filter.RetCode=zero`, want: "InvalidParameterValue.RetCode"},
		{name: "GET unknown filter field", method: "GET", body: `Filter.Status=x`, want: "UnknownParameter"},
		{name: "GET Offset+Limit", method: "GET", body: `Offset=5000&Limit=5001`, want: "LimitExceeded.Offset"},

		{name: "empty object", body: `{}`},
		{name: "empty body", body: ``},
		{name: "nulls are absent", body: `{"Limit":null,"Filter":null,"FunctionName":null}`},
		{name: "blank strings are absent", body: `{"Order":"","OrderBy":"","Filter":{"RetCode":""},"Namespace":""}`},
		{name: "SearchContext ignored", body: `{"SearchContext":{"Offset":"","Limit":0,"Keyword":"x","Type":""}}`},
		{name: "exactly one day", body: `{"StartTime":"2024-01-01 00:00:00","EndTime":"2024-01-02 00:00:00"}`},
		{name: "Offset+Limit exactly 10000", body: `{"Offset":9990,"Limit":10}`},
		{name: "GET common parameters ignored", method: "GET", body: `Action=GetFunctionLogs&Nonce=42&Region=ap-guangzhou&RequestClient=x&Timestamp=1&Version=2018-04-16&Language=en-US&Token=`},
		{name: "GET all parameters", method: "GET", body: `EndTime=2024-01-01+10%3A00%3A00&Filter.RetCode=is0&FunctionName=APITest&Limit=3&Namespace=default&Offset=1&Order=asc&OrderBy=duration&Qualifier=%24LATEST&SearchContext.Keyword=x&StartTime=2024-01-01+00%3A00%3A00`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newSim(t, nil)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			got := serve(t, s, apiRequest(t, clock, method, tc.body, reqOpts{}))
			if errCode(got) != tc.want {
				t.Fatalf("got %q (%v), want %q", errCode(got), got.Error, tc.want)
			}
			if tc.want == "" && got.Data == nil {
				t.Fatal("success without Data array")
			}
			if tc.want == "InvalidParameter" && !strings.Contains(got.Error.Message, "`") {
				t.Fatalf("type error does not name the field: %q", got.Error.Message)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	s, clock := newSim(t, func(c *Config) {
		noRateLimit(c)
		c.Functions[2].RatePerSecond = 0.02 // keep the ground truth small
	})
	all := mustOK(t, call(t, s, clock, `{}`))
	if len(all.Data) != 10 {
		t.Fatalf("default Limit: %d rows", len(all.Data))
	}
	// Default order: start_time desc.
	for i := 1; i < len(all.Data); i++ {
		if all.Data[i].StartTime > all.Data[i-1].StartTime {
			t.Fatalf("default order is not start_time desc")
		}
	}
	// Default window: the last 24 h, all functions of namespace default.
	now := clock.Now()
	var want int
	for _, name := range []string{"APITest", "orders-webhook", "thumbnail-worker", "nightly-report"} {
		want += len(s.Executions("ap-guangzhou", "default", name, now.Add(-24*time.Hour), now))
	}
	if all.TotalCount != int64(want) {
		t.Fatalf("TotalCount %d, ground truth %d", all.TotalCount, want)
	}
	zero := mustOK(t, call(t, s, clock, `{"Limit":0}`))
	if len(zero.Data) != 0 || zero.TotalCount != all.TotalCount {
		t.Fatalf("Limit 0: %d rows, TotalCount %d", len(zero.Data), zero.TotalCount)
	}
	if all.SearchContext == nil {
		t.Fatal("SearchContext missing from the answer")
	}
	// Other regions are served but hold no functions.
	r := apiRequest(t, clock, http.MethodPost, `{}`, reqOpts{headers: map[string]string{"X-TC-Region": "ap-tokyo"}})
	if got := mustOK(t, serve(t, s, r)); got.TotalCount != 0 || len(got.Data) != 0 {
		t.Fatalf("empty region: %+v", got)
	}
}
