package analysis

import "testing"

// Cells of AnalysisRecords are JSON values of their column's type: a
// double keeps a fraction, so a reader typing by Columns sees a double.
func TestJSONCell(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{sqlNull, "null"},
		{BigintValue(12), "12"},
		{DoubleValue(40), "40.0"},
		{DoubleValue(40.25), "40.25"},
		{DoubleValue(1e21), "1000000000000000000000.0"},
		{Value{kind: 's', s: "a\"b\n"}, `"a\"b\n"`},
		{Value{kind: 't', i: 0}, `"1970-01-01 08:00:00.000"`},
	} {
		if got := jsonCell(c.v); got != c.want {
			t.Errorf("%+v: %s, want %s", c.v, got, c.want)
		}
	}
}
