package scf

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// Values of GetFunctionLogs' Order, OrderBy and Filter.RetCode parameters.
const (
	OrderAsc  = "asc"
	OrderDesc = "desc"

	OrderByFunctionName = "function_name"
	OrderByDuration     = "duration"
	OrderByMemUsage     = "mem_usage"
	OrderByStartTime    = "start_time"

	RetCodeSucceeded = "is0"
	RetCodeFailed    = "not0"
)

// maxOffsetPlusLimit is Tencent's cap on Offset+Limit.
const maxOffsetPlusLimit = 10000

// rawParams are the action parameters as sent, before value checks.
// Empty strings mean "not given": Tencent treats a blank optional
// parameter like an absent one.
type rawParams struct {
	FunctionName, Namespace, Order, OrderBy, RetCode string
	Qualifier, FunctionRequestID, StartTime, EndTime string
	Offset, Limit                                    *int64
}

// parseQueryParams reads the flattened form the SDK uses for GET
// (Filter.RetCode=is0).
func parseQueryParams(vals url.Values) (*rawParams, *tcapi.Error) {
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
			!tcapi.IsCommonParam(k) && !strings.HasPrefix(k, "SearchContext.") {
			return nil, tcapi.UnknownParameter(k)
		}
	}
	for _, k := range keys {
		v := vals[k][0]
		switch {
		case k == "Offset" || k == "Limit":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, tcapi.TypeError(k, "Integer")
			}
			if k == "Offset" {
				p.Offset = &n
			} else {
				p.Limit = &n
			}
		case k == "Filter":
			return nil, tcapi.TypeError(k, "LogFilter")
		case strs[k] != nil:
			*strs[k] = v
		}
	}
	return p, nil
}

// parseJSONParams reads the JSON body of a POST. Types are strict, as
// Tencent's are: "10" is not an Integer.
func parseJSONParams(body []byte) (*rawParams, *tcapi.Error) {
	obj, e := tcapi.JSONObject(body)
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
			return nil, tcapi.UnknownParameter(k)
		}
	}
	var filter map[string]json.RawMessage
	if raw, ok := obj["Filter"]; ok && !tcapi.IsNull(raw) {
		if err := json.Unmarshal(raw, &filter); err != nil {
			return nil, tcapi.TypeError("Filter", "LogFilter")
		}
		for k := range filter {
			if k != "RetCode" {
				return nil, tcapi.UnknownParameter("Filter." + k)
			}
		}
	}
	for _, k := range keys {
		raw := obj[k]
		if tcapi.IsNull(raw) {
			continue
		}
		switch k {
		case "Offset", "Limit":
			n, ok := tcapi.JSONInt(raw)
			if !ok {
				return nil, tcapi.TypeError(k, "Integer")
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
				return nil, tcapi.TypeError(k, "String")
			}
		}
	}
	if raw, ok := filter["RetCode"]; ok && !tcapi.IsNull(raw) {
		if err := json.Unmarshal(raw, &p.RetCode); err != nil {
			return nil, tcapi.TypeError("Filter.RetCode", "String")
		}
	}
	return p, nil
}

// query is a validated GetFunctionLogs request.
type query struct {
	functionName string
	namespace    string
	offset       int64
	limit        int64
	order        invocations.Order
	filter       invocations.Filter
	lo, hi       int64 // start window [lo, hi), unix ns
}

// sortKeys are the OrderBy values and what they sort by.
var sortKeys = map[string]invocations.SortKey{
	OrderByFunctionName: invocations.ByFunctionName,
	OrderByDuration:     invocations.ByDuration,
	OrderByMemUsage:     invocations.ByMemUsage,
	OrderByStartTime:    invocations.ByStart,
}

// validate checks values in the order Tencent's error table lists them and
// fills Tencent's defaults.
func validate(p *rawParams, now time.Time, loc *time.Location) (*query, *tcapi.Error) {
	q := &query{
		functionName: p.FunctionName,
		namespace:    p.Namespace,
		limit:        10,
		order:        invocations.Order{By: invocations.ByStart, Desc: true},
	}
	if q.namespace == "" {
		q.namespace = invocations.DefaultNamespace
	}
	if p.Offset != nil {
		if *p.Offset < 0 {
			return nil, tcapi.Errorf("InvalidParameterValue.Offset", "Offset must not be negative.")
		}
		q.offset = *p.Offset
	}
	if p.Limit != nil {
		if *p.Limit < 0 {
			return nil, tcapi.Errorf("InvalidParameterValue", "Limit must not be negative.")
		}
		q.limit = *p.Limit
	}
	if q.offset > maxOffsetPlusLimit || q.limit > maxOffsetPlusLimit ||
		q.offset+q.limit > maxOffsetPlusLimit {
		return nil, tcapi.Errorf("LimitExceeded.Offset",
			"Offset+Limit must not exceed %d.", maxOffsetPlusLimit)
	}
	switch p.Order {
	case "", OrderDesc:
	case OrderAsc:
		q.order.Desc = false
	default:
		return nil, tcapi.Errorf("InvalidParameterValue.Order", "Order must be asc or desc, got `%s`.", p.Order)
	}
	if p.OrderBy != "" {
		by, ok := sortKeys[p.OrderBy]
		if !ok {
			return nil, tcapi.Errorf("InvalidParameterValue.OrderBy",
				"OrderBy must be one of function_name, duration, mem_usage, start_time, got `%s`.", p.OrderBy)
		}
		q.order.By = by
	}
	switch p.RetCode {
	case "":
	case RetCodeSucceeded:
		q.filter.Result = invocations.SucceededOnly
	case RetCodeFailed:
		q.filter.Result = invocations.FailedOnly
	default:
		return nil, tcapi.Errorf("InvalidParameterValue.RetCode", "Filter.RetCode must be is0 or not0, got `%s`.", p.RetCode)
	}
	if (p.StartTime == "") != (p.EndTime == "") {
		return nil, tcapi.Errorf("InvalidParameterValue.StartTimeOrEndTime",
			"StartTime and EndTime must be given together.")
	}
	if p.StartTime == "" {
		q.lo = invocations.Nanos(now.Add(-24 * time.Hour))
		q.hi = invocations.Nanos(now) + 1
	} else {
		st, err1 := time.ParseInLocation(TimeLayout, p.StartTime, loc)
		et, err2 := time.ParseInLocation(TimeLayout, p.EndTime, loc)
		switch {
		case err1 != nil || err2 != nil:
			return nil, tcapi.Errorf("InvalidParameterValue.DateTime",
				"StartTime and EndTime must look like 2017-05-16 20:00:00.")
		case st.After(et):
			return nil, tcapi.Errorf("InvalidParameterValue.DateTime", "StartTime is after EndTime.")
		case et.Sub(st) > 24*time.Hour:
			return nil, tcapi.Errorf("InvalidParameterValue.DateTime",
				"StartTime and EndTime must be within one day of each other.")
		}
		// Upstream times have second precision: EndTime covers its whole
		// second.
		q.lo = invocations.Nanos(st)
		q.hi = invocations.Nanos(et.Add(time.Second))
	}
	q.filter.Qualifier = p.Qualifier
	if p.FunctionRequestID != "" {
		id, ok := invocations.ParseID(strings.ToLower(p.FunctionRequestID))
		if !ok {
			// A well-formed request for an id that cannot exist: no rows.
			id = [16]byte{}
		}
		q.filter.RequestID = &id
	}
	return q, nil
}
