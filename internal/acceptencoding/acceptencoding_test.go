package acceptencoding

import "testing"

// Which Accept-Encoding values get gzip: q-values parsed, q=0 a refusal,
// * standing for gzip only when gzip is not named.
func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"identity"}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZip"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"gzip, deflate, br"}, true},
		{[]string{"br;q=1.0, gzip;q=0.8, *;q=0.1"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"gzip;q=0.001"}, true},
		{[]string{"gzip;Q=0.5"}, true},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"deflate", "gzip"}, true}, // two header lines
		{[]string{"gzip;q=0", "gzip;q=1"}, true},
		{[]string{"gzip;q=x"}, false},
		{[]string{"gzip;q=2"}, false},
		{[]string{"gzipped"}, false},
		{[]string{"deflate;q=0.5, br"}, false},
	} {
		if got := Gzip(tc.values); got != tc.want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.values, got, tc.want)
		}
	}
}
