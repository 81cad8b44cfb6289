package tencentsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/scf"
)

// apiError is a Tencent error envelope waiting to be written.
type apiError struct {
	code, msg string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// message is the error's text in lang: Chinese for zh-CN (Tencent's
// X-TC-Language and Language values), English otherwise.
func (e *apiError) message(lang string) string {
	if lang == langChinese {
		if zh, ok := chineseMessages[e.code]; ok {
			return zh
		}
	}
	return e.msg
}

func errf(code, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// rawParams are the action parameters as sent, before value checks.
// Empty strings mean "not given": Tencent treats a blank optional
// parameter like an absent one.
type rawParams struct {
	FunctionName, Namespace, Order, OrderBy, RetCode string
	Qualifier, FunctionRequestID, StartTime, EndTime string
	Offset, Limit                                    *int64
}

// Common parameters the SDK may leave in a GET query; they are not action
// parameters and must not trip UnknownParameter.
var commonQueryParams = map[string]bool{
	"Action": true, "Version": true, "Region": true, "Timestamp": true,
	"Nonce": true, "RequestClient": true, "Language": true, "Token": true,
	// Signature v1 carries its signature in the parameters too.
	"SecretId": true, "Signature": true, "SignatureMethod": true,
}

func typeError(name, want string) *apiError {
	return errf("InvalidParameter", "Parameter `%s` type error, expected %s.", name, want)
}

func unknownParam(name string) *apiError {
	return errf("UnknownParameter", "The parameter `%s` is not recognized.", name)
}

// parseQueryParams reads the flattened form the SDK uses for GET
// (Filter.RetCode=is0).
func parseQueryParams(vals url.Values) (*rawParams, *apiError) {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range vals {
			if !yield(k) {
				return
			}
		}
	})
	p := &rawParams{}
	strs := map[string]*string{
		"FunctionName": &p.FunctionName, "Namespace": &p.Namespace,
		"Order": &p.Order, "OrderBy": &p.OrderBy, "Filter.RetCode": &p.RetCode,
		"Qualifier": &p.Qualifier, "FunctionRequestId": &p.FunctionRequestID,
		"StartTime": &p.StartTime, "EndTime": &p.EndTime,
	}
	for _, k := range keys {
		_, isStr := strs[k]
		if !isStr && k != "Offset" && k != "Limit" && k != "Filter" && k != "SearchContext" &&
			!commonQueryParams[k] && !strings.HasPrefix(k, "SearchContext.") {
			return nil, unknownParam(k)
		}
	}
	for _, k := range keys {
		v := vals[k][0]
		switch {
		case k == "Offset" || k == "Limit":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, typeError(k, "Integer")
			}
			if k == "Offset" {
				p.Offset = &n
			} else {
				p.Limit = &n
			}
		case k == "Filter":
			return nil, typeError(k, "LogFilter")
		case strs[k] != nil:
			*strs[k] = v
		}
	}
	return p, nil
}

// parseJSONParams reads the JSON body of a POST. Types are strict, as
// Tencent's are: "10" is not an Integer.
func parseJSONParams(body []byte) (*rawParams, *apiError) {
	obj, e := jsonObject(body)
	if e != nil {
		return nil, e
	}
	keys := slices.Sorted(maps.Keys(obj))
	p := &rawParams{}
	strs := map[string]*string{
		"FunctionName": &p.FunctionName, "Namespace": &p.Namespace,
		"Order": &p.Order, "OrderBy": &p.OrderBy,
		"Qualifier": &p.Qualifier, "FunctionRequestId": &p.FunctionRequestID,
		"StartTime": &p.StartTime, "EndTime": &p.EndTime,
	}
	for _, k := range keys {
		if _, ok := strs[k]; !ok && k != "Offset" && k != "Limit" && k != "Filter" && k != "SearchContext" {
			return nil, unknownParam(k)
		}
	}
	var filter map[string]json.RawMessage
	if raw, ok := obj["Filter"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &filter); err != nil {
			return nil, typeError("Filter", "LogFilter")
		}
		for k := range filter {
			if k != "RetCode" {
				return nil, unknownParam("Filter." + k)
			}
		}
	}
	for _, k := range keys {
		raw := obj[k]
		if isNull(raw) {
			continue
		}
		switch k {
		case "Offset", "Limit":
			n, ok := jsonInt(raw)
			if !ok {
				return nil, typeError(k, "Integer")
			}
			if k == "Offset" {
				p.Offset = &n
			} else {
				p.Limit = &n
			}
		case "Filter", "SearchContext":
			// Filter is handled above; SearchContext is disused upstream.
		default:
			if err := json.Unmarshal(raw, strs[k]); err != nil {
				return nil, typeError(k, "String")
			}
		}
	}
	if raw, ok := filter["RetCode"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &p.RetCode); err != nil {
			return nil, typeError("Filter.RetCode", "String")
		}
	}
	return p, nil
}

// jsonObject reads a POST body: one JSON object, or nothing (no
// parameters).
func jsonObject(body []byte) (map[string]json.RawMessage, *apiError) {
	obj := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(body)) == 0 {
		return obj, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, errf("InvalidParameter.Payload", "The request body is not a JSON object.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errf("InvalidParameter.Payload", "The request body has data after the JSON object.")
	}
	return obj, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func jsonInt(raw json.RawMessage) (int64, bool) {
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

// query is a validated GetFunctionLogs request.
type query struct {
	functionName string
	namespace    string
	offset       int64
	limit        int64
	orderBy      string
	desc         bool
	filter       filter
	lo, hi       int64 // start window [lo, hi), unix ns
}

// validate checks values in the order Tencent's error table lists them and
// fills Tencent's defaults.
func validate(p *rawParams, now time.Time, loc *time.Location) (*query, *apiError) {
	q := &query{
		functionName: p.FunctionName,
		namespace:    p.Namespace,
		limit:        10,
		orderBy:      scf.OrderByStartTime,
		desc:         true,
	}
	if q.namespace == "" {
		q.namespace = defaultNamespace
	}
	if p.Offset != nil {
		if *p.Offset < 0 {
			return nil, errf("InvalidParameterValue.Offset", "Offset must not be negative.")
		}
		q.offset = *p.Offset
	}
	if p.Limit != nil {
		if *p.Limit < 0 {
			return nil, errf("InvalidParameterValue", "Limit must not be negative.")
		}
		q.limit = *p.Limit
	}
	if q.offset > translate.MaxOffsetPlusLimit || q.limit > translate.MaxOffsetPlusLimit ||
		q.offset+q.limit > translate.MaxOffsetPlusLimit {
		return nil, errf("LimitExceeded.Offset",
			"Offset+Limit must not exceed %d.", translate.MaxOffsetPlusLimit)
	}
	switch p.Order {
	case "", scf.OrderDesc:
	case scf.OrderAsc:
		q.desc = false
	default:
		return nil, errf("InvalidParameterValue.Order", "Order must be asc or desc, got `%s`.", p.Order)
	}
	switch p.OrderBy {
	case "":
	case scf.OrderByFunctionName, scf.OrderByDuration,
		scf.OrderByMemUsage, scf.OrderByStartTime:
		q.orderBy = p.OrderBy
	default:
		return nil, errf("InvalidParameterValue.OrderBy",
			"OrderBy must be one of function_name, duration, mem_usage, start_time, got `%s`.", p.OrderBy)
	}
	switch p.RetCode {
	case "", scf.RetCodeSucceeded, scf.RetCodeFailed:
		q.filter.retCode = p.RetCode
	default:
		return nil, errf("InvalidParameterValue.RetCode", "Filter.RetCode must be is0 or not0, got `%s`.", p.RetCode)
	}
	if (p.StartTime == "") != (p.EndTime == "") {
		return nil, errf("InvalidParameterValue.StartTimeOrEndTime",
			"StartTime and EndTime must be given together.")
	}
	if p.StartTime == "" {
		q.lo = nanos(now.Add(-24 * time.Hour))
		q.hi = nanos(now) + 1
	} else {
		st, err1 := time.ParseInLocation(scf.TimeLayout, p.StartTime, loc)
		et, err2 := time.ParseInLocation(scf.TimeLayout, p.EndTime, loc)
		switch {
		case err1 != nil || err2 != nil:
			return nil, errf("InvalidParameterValue.DateTime",
				"StartTime and EndTime must look like 2017-05-16 20:00:00.")
		case st.After(et):
			return nil, errf("InvalidParameterValue.DateTime", "StartTime is after EndTime.")
		case et.Sub(st) > 24*time.Hour:
			return nil, errf("InvalidParameterValue.DateTime",
				"StartTime and EndTime must be within one day of each other.")
		}
		// Upstream times have second precision: EndTime covers its whole
		// second.
		q.lo = nanos(st)
		q.hi = nanos(et.Add(time.Second))
	}
	q.filter.qualifier = p.Qualifier
	if p.FunctionRequestID != "" {
		id, ok := parseID(strings.ToLower(p.FunctionRequestID))
		if !ok {
			// A well-formed request for an id that cannot exist: no rows.
			id = [16]byte{}
		}
		q.filter.requestID = &id
	}
	return q, nil
}

func isContentType(ct, want string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == want
}
