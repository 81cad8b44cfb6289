package tcapi

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// encodingJSON is what encoding/json writes, without HTML escapes.
func encodingJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestAppendJSONAsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "tab\tnew\nline\rcr", `quote " backslash \`, "\x00\x01\x1f\x7f",
		"中文 ünï", "sep \u2028 \u2029", "<html> & more", `{"processed":12}`} {
		if got, want := string(AppendString(nil, s)), encodingJSON(t, s); got != want {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
	// Invalid UTF-8 becomes U+FFFD, which Go releases write differently
	// (escaped before 1.27, as itself since): what must agree is the text.
	bad := "bad \xff utf-8"
	var got, want string
	if err := json.Unmarshal(AppendString(nil, bad), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(encodingJSON(t, bad)), &want); err != nil {
		t.Fatal(err)
	}
	if got != want || got != "bad \ufffd utf-8" {
		t.Errorf("%q reads back as %q, encoding/json's as %q", bad, got, want)
	}
	for _, f := range []float64{0, 1, 12, 40.25, -3.5, 1e-7, 1e21, 123456789012, 1.5e-300, math.MaxFloat64} {
		if got, want := string(AppendFloat(nil, f)), encodingJSON(t, f); got != want {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
}
