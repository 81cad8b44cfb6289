package tcapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Tencent accepts TC3 POST bodies up to 10 MB; GET requests up to 32 KB.
const (
	maxPostBody = 10 << 20
	maxGetSize  = 32 << 10
)

// ReadBody refuses methods other than GET and POST and reads the body
// within Tencent's size limits, before anything is authenticated.
func ReadBody(r *http.Request) ([]byte, *Error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, Errorf("UnsupportedProtocol", "HTTP(S) request protocol error; only GET and POST requests are supported.")
	}
	limit := int64(maxPostBody)
	if r.Method == http.MethodGet {
		limit = maxGetSize
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, Errorf("InvalidParameter.Payload", "The request body cannot be read.")
	}
	if int64(len(body)) > limit || (r.Method == http.MethodGet && len(r.URL.RawQuery) > maxGetSize) {
		return nil, Errorf("RequestSizeLimitExceeded", "The request size exceeds the limit.")
	}
	return body, nil
}

// Call is an authenticated call: its common parameters and where its
// action parameters are.
type Call struct {
	RequestID string
	SecretID  string
	Action    string
	Region    string
	// Exactly one of JSON (a TC3 POST body) and Form (a TC3 GET query or
	// any signature-v1 call) holds the action parameters; Form may also
	// hold common parameters, which action parsers skip.
	JSON []byte
	Form url.Values
}

// LocateParams points a TC3 call at its action parameters: the query of a
// GET, the JSON body of a POST. A signature-v1 call has its Form already.
func (c *Call) LocateParams(r *http.Request, body []byte) *Error {
	if c.Form != nil {
		return nil
	}
	switch {
	case r.Method == http.MethodGet:
		form, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return Errorf("InvalidParameter", "The query string cannot be parsed: %v.", err)
		}
		c.Form = form
	case !IsContentType(r.Header.Get("Content-Type"), "application/json"):
		return Errorf("InvalidParameter", "Content-Type `%s` is not supported; use application/json.",
			r.Header.Get("Content-Type"))
	default:
		c.JSON = body
	}
	return nil
}

// commonParams are the common parameters the SDK may leave in a GET query
// or a form body; they are not action parameters and must not trip
// UnknownParameter.
var commonParams = map[string]bool{
	"Action": true, "Version": true, "Region": true, "Timestamp": true,
	"Nonce": true, "RequestClient": true, "Language": true, "Token": true,
	// Signature v1 carries its signature in the parameters too.
	"SecretId": true, "Signature": true, "SignatureMethod": true,
}

// IsCommonParam reports whether a form key is a common parameter.
func IsCommonParam(name string) bool { return commonParams[name] }

// Params are an action's parameters, from a JSON body or a flattened
// form: exactly one of JSON and Form is set.
type Params struct {
	JSON map[string]json.RawMessage
	Form url.Values
}

// ReadParams refuses parameters other than known (in a form, common
// parameters and flattened Filters.N.* aside).
func ReadParams(c *Call, known ...string) (*Params, *Error) {
	p := &Params{Form: c.Form}
	if c.Form != nil {
		for k := range c.Form {
			base, _, _ := strings.Cut(k, ".")
			if !commonParams[k] && !(slices.Contains(known, base) && (base == k || base == "Filters")) {
				return nil, UnknownParameter(k)
			}
		}
		return p, nil
	}
	var e *Error
	if p.JSON, e = JSONObject(c.JSON); e != nil {
		return nil, e
	}
	for _, k := range slices.Sorted(maps.Keys(p.JSON)) {
		if !slices.Contains(known, k) {
			return nil, UnknownParameter(k)
		}
	}
	return p, nil
}

// String reads a String parameter; absent, null and "" are all "".
func (p *Params) String(name string) (string, *Error) {
	if p.Form != nil {
		return p.Form.Get(name), nil
	}
	raw, ok := p.JSON[name]
	if !ok || IsNull(raw) {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", TypeError(name, "String")
	}
	return v, nil
}

// Int reads an Integer parameter; nil means absent (or null).
func (p *Params) Int(name string) (*int64, *Error) {
	if p.Form != nil {
		if !p.Form.Has(name) {
			return nil, nil
		}
		n, err := strconv.ParseInt(p.Form.Get(name), 10, 64)
		if err != nil {
			return nil, TypeError(name, "Integer")
		}
		return &n, nil
	}
	raw, ok := p.JSON[name]
	if !ok || IsNull(raw) {
		return nil, nil
	}
	n, ok := JSONInt(raw)
	if !ok {
		return nil, TypeError(name, "Integer")
	}
	return &n, nil
}

// JSONObject reads a POST body: one JSON object, or nothing (no
// parameters).
func JSONObject(body []byte) (map[string]json.RawMessage, *Error) {
	obj := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(body)) == 0 {
		return obj, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, Errorf("InvalidParameter.Payload", "The request body is not a JSON object.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Errorf("InvalidParameter.Payload", "The request body has data after the JSON object.")
	}
	return obj, nil
}

// IsNull reports a JSON null, which Tencent reads as an absent parameter.
func IsNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// JSONInt reads an Integer strictly, as Tencent does: "10" and 1.5 are
// not Integers.
func JSONInt(raw json.RawMessage) (int64, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return 0, false
	}
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	return n, err == nil
}

// IsContentType reports whether ct names the media type want, whatever
// its parameters.
func IsContentType(ct, want string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == want
}
