package translate

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

func TestParseQueryRejects(t *testing.T) {
	cases := []struct {
		query, param, message string
	}{
		{"limit=-1", "limit", "non-negative integer"},
		{"limit=abc", "limit", "non-negative integer"},
		{"limit=1.5", "limit", "non-negative integer"},
		{"limit=", "limit", "empty value"},
		{"limit=%2B5", "limit", "non-negative integer"},
		{"limit=10001", "limit", "at most 10000"},
		{"limit=99999999999999999999", "limit", "at most 10000"},
		{"offset=-3", "offset", "non-negative integer"},
		{"offset=0x10", "offset", "non-negative integer"},
		{"offset=9990&limit=11", "limit", "offset+limit is 10001"},
		{"limit=1&limit=2", "limit", "given 2 times"},
		{"status=ok", "status", `must be "success" or "failed"`},
		{"status=SUCCESS", "status", `must be "success" or "failed"`},
		{"order=up", "order", `must be "asc" or "desc"`},
		{"since=yesterday", "since", "RFC 3339"},
		{"until=2024-01-15", "until", "RFC 3339"},
		{"since=2024-01-15T10:00:00Z&until=2024-01-15T10:00:00Z", "since", "must be before until"},
		{"since=2024-01-15T11:00:00Z&until=2024-01-15T10:00:00Z", "since", "must be before until"},
		{"since=2024-01-13T10:00:00Z&until=2024-01-15T10:00:00Z", "since", "at most 24h0m0s"},
		{"since=2024-01-14T10:29:59Z", "since", "at most 24h0m0s"},
		{"requestId=a%20b", "requestId", "not allowed"},
		{"requestId=", "requestId", "1 to 128"},
		{"qualifier=" + strings.Repeat("x", 129), "qualifier", "1 to 128"},
		{"qualifier=v1%2Fx", "qualifier", "not allowed"},
		{"stats=no", "stats", `must be "true" or "false"`},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			v, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseQuery(v, testNow)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			if verr.Param != c.param || !strings.Contains(verr.Message, c.message) {
				t.Errorf("got %q on %q, want %q on %q", verr.Message, verr.Param, c.message, c.param)
			}
			if f := BadRequest(verr); f.Status != http.StatusBadRequest || f.Body.Code != CodeInvalidParameter || !strings.Contains(f.Body.Error, c.param) {
				t.Errorf("failure %+v", f)
			}
		})
	}
}

func TestParseQueryAccepts(t *testing.T) {
	cases := []struct {
		query string
		want  Query
	}{
		{"", Query{Limit: 20, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"limit=0&offset=10000", Query{Limit: 0, Offset: 10000, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"limit=007", Query{Limit: 7, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"status=failed&order=asc&unknown=ignored", Query{Limit: 20, Status: "failed", Order: "asc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"stats=false", Query{Limit: 20, Order: "desc", SkipStats: true, Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"stats=true", Query{Limit: 20, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"since=2024-01-15T09:30:00Z", Query{Limit: 20, Order: "desc", Since: testNow.Add(-time.Hour), Until: testNow}},
		{"until=2024-01-15T09:30:00%2B01:00", Query{Limit: 20, Order: "desc", Since: testNow.Add(-26 * time.Hour), Until: testNow.Add(-2 * time.Hour)}},
		{"since=2024-01-14T10:30:00Z&until=2024-01-15T10:30:00Z", Query{Limit: 20, Order: "desc", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
		{"requestId=bc309eaa-6d64-11e8-a7fe-5254000b4175&qualifier=%24LATEST", Query{Limit: 20, Order: "desc", RequestID: "bc309eaa-6d64-11e8-a7fe-5254000b4175", Qualifier: "$LATEST", Since: testNow.Add(-24 * time.Hour), Until: testNow}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			v, _ := url.ParseQuery(c.query)
			got, err := ParseQuery(v, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Since.Equal(c.want.Since) || !got.Until.Equal(c.want.Until) {
				t.Errorf("window %s..%s, want %s..%s", got.Since, got.Until, c.want.Since, c.want.Until)
			}
			got.Since, got.Until, c.want.Since, c.want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"proj_AsIu33tafZGe", "MVPQVsgjuHBlvWFB", "65a4f0c2e4b0a1b2c3d4e5f6", "a", strings.Repeat("z", 64)} {
		if err := ValidateID("projectId", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("z", 65), "a b", "../etc", "proj.1", "ü", "a%2F"} {
		if err := ValidateID("projectId", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
