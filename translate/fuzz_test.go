package translate

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

// The fuzz targets cover every parser in this package. Seed corpora live in
// testdata/fuzz/<Target>/ and run as ordinary tests with go test.

func FuzzParseQuery(f *testing.F) {
	f.Add("")
	f.Add("limit=2&offset=40")
	f.Add("status=failed&order=asc&since=2024-01-15T00:00:00Z&until=2024-01-15T14:00:00%2B08:00")
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(values, testNow)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || verr.Param == "" || verr.Message == "" {
				t.Fatalf("%q: error %v is not a usable ValidationError", raw, err)
			}
			if f := BadRequest(verr); f.Status != http.StatusBadRequest {
				t.Fatalf("status %d", f.Status)
			}
			return
		}
		if q.Limit < 0 || q.Offset < 0 || q.Offset+q.Limit > MaxOffsetPlusLimit {
			t.Fatalf("%q: paging %d+%d escaped validation", raw, q.Offset, q.Limit)
		}
		if !q.Since.Before(q.Until) || q.Until.Sub(q.Since) > MaxWindow {
			t.Fatalf("%q: window %s..%s escaped validation", raw, q.Since, q.Until)
		}
	})
}

func FuzzValidateID(f *testing.F) {
	f.Add("proj_AsIu33tafZGe")
	f.Add("MVPQVsgjuHBlvWFB")
	f.Add("65a4f0c2e4b0a1b2c3d4e5f6")
	f.Fuzz(func(t *testing.T, id string) {
		if ValidateID("functionId", id) != nil {
			return
		}
		if len(id) == 0 || len(id) > MaxIDLength {
			t.Fatalf("accepted length %d", len(id))
		}
		if url.PathEscape(id) != id {
			t.Fatalf("accepted %q, which needs escaping in a path", id)
		}
	})
}
