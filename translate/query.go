package translate

import (
	"fmt"
	"net/url"
	"time"
)

// Defaults and limits of the Mudbase query. The limits are the upstream's,
// kept by every source alike: a window of at most one day
// (GetFunctionLogs's StartTime and EndTime), and at most 10,000 records of
// it (its Offset+Limit, and CLS SQL's row cap).
const (
	DefaultLimit  = 20
	DefaultWindow = 24 * time.Hour
	MaxWindow     = 24 * time.Hour
	// MaxOffsetPlusLimit is the most records of one window a query reaches.
	MaxOffsetPlusLimit = 10000
)

// Values of the superset parameters status and order.
const (
	StatusSuccess = "success"
	StatusFailed  = "failed"
	OrderAsc      = "asc"
	OrderDesc     = "desc"
)

// Query is a validated Mudbase logs query: what a client asks of one
// function, whatever source answers it. Two queries that agree on these
// fields ask any source the same thing (the proxy keys its cache by them).
type Query struct {
	Limit     int64
	Offset    int64
	Status    string // "", StatusSuccess or StatusFailed
	Order     string // OrderAsc or OrderDesc
	Since     time.Time
	Until     time.Time
	RequestID string
	Qualifier string
	// SkipStats answers "stats": null instead of computing stats, which
	// cost upstream calls of their own. The exporter's page requests use
	// it; Mudbase clients never send it.
	SkipStats bool
	// SkipLog answers executions without their log text, which on CLS
	// costs upstream calls of its own ("log=false").
	SkipLog bool
}

// ValidationError says which query parameter is wrong and why, in words a
// client can act on.
type ValidationError struct {
	Param   string
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid query parameter %q: %s", e.Param, e.Message)
}

func invalid(param, format string, args ...any) *ValidationError {
	return &ValidationError{Param: param, Message: fmt.Sprintf(format, args...)}
}

// ParseQuery validates a Mudbase query string. now is the instant the
// default window ends at; callers that cache align it first.
//
// Besides Mudbase's limit and offset it accepts a compatible superset:
// status, order, since, until, requestId, qualifier, stats and log. Unknown parameters
// are ignored, as a Mudbase server ignores them.
func ParseQuery(values url.Values, now time.Time) (Query, error) {
	q := Query{Limit: DefaultLimit, Order: OrderDesc}
	get := func(name string) (string, bool, error) {
		vs, ok := values[name]
		if !ok {
			return "", false, nil
		}
		if len(vs) > 1 {
			return "", false, invalid(name, "given %d times; give it at most once", len(vs))
		}
		return vs[0], true, nil
	}

	var err error
	if q.Limit, err = intParam(get, "limit", DefaultLimit); err != nil {
		return Query{}, err
	}
	if q.Offset, err = intParam(get, "offset", 0); err != nil {
		return Query{}, err
	}
	if q.Offset+q.Limit > MaxOffsetPlusLimit {
		return Query{}, invalid("limit", "offset+limit is %d; the upstream serves at most %d records of a window (narrow it with since/until)", q.Offset+q.Limit, MaxOffsetPlusLimit)
	}

	if v, ok, err := get("status"); err != nil {
		return Query{}, err
	} else if ok {
		if v != StatusSuccess && v != StatusFailed {
			return Query{}, invalid("status", "must be %q or %q, got %q", StatusSuccess, StatusFailed, Clip(v))
		}
		q.Status = v
	}
	if v, ok, err := get("order"); err != nil {
		return Query{}, err
	} else if ok {
		if v != OrderAsc && v != OrderDesc {
			return Query{}, invalid("order", "must be %q or %q, got %q", OrderAsc, OrderDesc, Clip(v))
		}
		q.Order = v
	}
	if q.SkipStats, err = boolParam(get, "stats"); err != nil {
		return Query{}, err
	}
	if q.SkipLog, err = boolParam(get, "log"); err != nil {
		return Query{}, err
	}
	if q.RequestID, err = tokenParam(get, "requestId", isRequestIDChar); err != nil {
		return Query{}, err
	}
	if q.Qualifier, err = tokenParam(get, "qualifier", isQualifierChar); err != nil {
		return Query{}, err
	}
	if err := q.parseWindow(get, now); err != nil {
		return Query{}, err
	}
	return q, nil
}

type getter func(name string) (string, bool, error)

// boolParam reads a switch that is on unless given as "false": whether to
// skip what it names.
func boolParam(get getter, name string) (skip bool, err error) {
	v, ok, err := get(name)
	if err != nil || !ok {
		return false, err
	}
	if v != "true" && v != "false" {
		return false, invalid(name, `must be "true" or "false", got %q`, Clip(v))
	}
	return v == "false", nil
}

// maxIntDigits keeps parsing away from overflow: anything longer is over the
// 10,000 cap anyway.
const maxIntDigits = 9

func intParam(get getter, name string, def int64) (int64, error) {
	v, ok, err := get(name)
	if err != nil || !ok {
		return def, err
	}
	if v == "" {
		return 0, invalid(name, "must be a non-negative integer, got an empty value")
	}
	if len(v) > maxIntDigits {
		return 0, invalid(name, "must be a non-negative integer of at most %d, got %q", MaxOffsetPlusLimit, Clip(v))
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, invalid(name, "must be a non-negative integer, got %q", Clip(v))
		}
		n = n*10 + int64(c-'0')
	}
	if n > MaxOffsetPlusLimit {
		return 0, invalid(name, "must be at most %d, got %d", MaxOffsetPlusLimit, n)
	}
	return n, nil
}

// maxTokenLen bounds identifiers we pass upstream; Tencent's own IDs and
// qualifiers are far shorter.
const maxTokenLen = 128

func tokenParam(get getter, name string, allowed func(byte) bool) (string, error) {
	v, ok, err := get(name)
	if err != nil || !ok {
		return "", err
	}
	if v == "" || len(v) > maxTokenLen {
		return "", invalid(name, "must be 1 to %d characters long", maxTokenLen)
	}
	for i := 0; i < len(v); i++ {
		if !allowed(v[i]) {
			return "", invalid(name, "contains a character that is not allowed: %q", Clip(v))
		}
	}
	return v, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isRequestIDChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

// isQualifierChar admits versions ("1", "$LATEST") and alias names.
func isQualifierChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '$' }

func (q *Query) parseWindow(get getter, now time.Time) error {
	since, hasSince, err := timeParam(get, "since")
	if err != nil {
		return err
	}
	until, hasUntil, err := timeParam(get, "until")
	if err != nil {
		return err
	}
	switch {
	case hasSince && hasUntil:
	case hasSince:
		until = now
	case hasUntil:
		since = until.Add(-DefaultWindow)
	default:
		since, until = now.Add(-DefaultWindow), now
	}
	if !since.Before(until) {
		return invalid("since", "must be before until (since %s, until %s)", since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	if until.Sub(since) > MaxWindow {
		return invalid("since", "the window from since to until is %s; the upstream allows at most %s", until.Sub(since), MaxWindow)
	}
	q.Since, q.Until = since, until
	return nil
}

func timeParam(get getter, name string) (time.Time, bool, error) {
	v, ok, err := get(name)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, perr := time.Parse(time.RFC3339Nano, v)
	if perr != nil {
		return time.Time{}, false, invalid(name, "must be an RFC 3339 time such as 2024-01-15T10:30:00Z, got %q", Clip(v))
	}
	// The upstream's zone-less format has no room for years outside four
	// digits once shifted by a day and a zone.
	if t.Year() < minYear || t.Year() > maxYear {
		return time.Time{}, false, invalid(name, "must lie between the years %d and %d, got %q", minYear, maxYear, Clip(v))
	}
	return t, true, nil
}

// clipLength is how much of a text Clip keeps.
const clipLength = 64

// Clip keeps text that is not mudscf's own — a client's input echoed in
// an error, an upstream's message or code — short in what mudscf writes.
func Clip(s string) string {
	if len(s) <= clipLength {
		return s
	}
	return s[:clipLength] + "..."
}

// Target is the upstream function a Mudbase function maps to.
type Target struct {
	FunctionName string
	Namespace    string
	// Qualifier is the configured version or alias; a query's qualifier
	// overrides it.
	Qualifier string
}

// QualifierFor is the version or alias q reads of t: the query's own, else
// the configured one, else none (the upstream's default).
func (q Query) QualifierFor(t Target) string {
	if q.Qualifier != "" {
		return q.Qualifier
	}
	return t.Qualifier
}
