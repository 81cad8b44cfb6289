package cls

import (
	"errors"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
)

// testModel is a function with the defaults a simulator gives it, its
// executions pinned to an origin so records are reproducible.
func testModel(f invocations.Function) *invocations.Model {
	return invocations.NewModel(f.WithDefaults(), 1, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

// sampleRecords returns the records of one successful and one timed-out
// execution of a test function, keyed "ok/<line>" and "timeout/<line>".
func sampleRecords(t *testing.T) map[string]clsRecord {
	t.Helper()
	f := testModel(invocations.Function{Name: "fn", FailureRatio: 0.5, Qualifiers: []string{"$LATEST", "2"}})
	out := map[string]clsRecord{}
	for i := int64(0); len(out) < 12 && i < 10000; i++ {
		r := f.Exec(i)
		name := map[invocations.Outcome]string{invocations.Succeeded: "ok", invocations.TimedOut: "timeout"}[r.Outcome]
		if name == "" || out[name+"/start"].r.Model != nil {
			continue
		}
		for _, rc := range clsRecords(nil, &r) {
			out[name+"/"+[]string{"start", "invoked", "result", "response", "end", "report"}[rc.line]] = rc
		}
	}
	if len(out) != 11 { // a timeout has no result line
		t.Fatalf("sample: %d records", len(out))
	}
	return out
}

func TestCQL(t *testing.T) {
	recs := sampleRecords(t)
	okReport, okStart := recs["ok/report"], recs["ok/start"]
	toReport, toResponse := recs["timeout/report"], recs["timeout/response"]
	id := okReport.r.RequestID()
	cases := []struct {
		query string
		match map[*clsRecord]bool // records that must match; the others listed must not
	}{
		{"", map[*clsRecord]bool{&okReport: true, &toResponse: true}},
		{"*", map[*clsRecord]bool{&okReport: true, &okStart: true}},
		{"SCF_Type:Platform", map[*clsRecord]bool{&okReport: true, &okStart: true}},
		{"SCF_Type:Custom", map[*clsRecord]bool{&okReport: false}},
		{"scf_type:platform", map[*clsRecord]bool{&okReport: true}},
		{"SCF_StatusCode:200", map[*clsRecord]bool{&okReport: true, &okStart: false, &toReport: false}},
		{"SCF_StatusCode:433", map[*clsRecord]bool{&toReport: true, &toResponse: false}},
		{"SCF_StatusCode:>=400", map[*clsRecord]bool{&toReport: true, &okReport: false}},
		{"SCF_StatusCode:<300 AND SCF_Message:Report", map[*clsRecord]bool{&okReport: true, &okStart: false, &toReport: false}},
		{"SCF_Duration:>0", map[*clsRecord]bool{&okReport: true, &okStart: false}},
		{`SCF_RequestId:"` + id + `"`, map[*clsRecord]bool{&okReport: true, &okStart: true, &toReport: false}},
		{"SCF_RequestId:" + id, map[*clsRecord]bool{&okReport: true, &toReport: false}},
		{`SCF_Message:"Response RequestId"`, map[*clsRecord]bool{&toResponse: true, &toReport: false}},
		{`SCF_Message:"RequestId Response"`, map[*clsRecord]bool{&toResponse: false}},
		{"SCF_Message:Repo*", map[*clsRecord]bool{&okReport: true, &toResponse: false}},
		{"SCF_Message:R?port", map[*clsRecord]bool{&okReport: true}},
		{"timed out", map[*clsRecord]bool{&toResponse: true, &toReport: false}},
		{"timed OR START", map[*clsRecord]bool{&toResponse: true, &okStart: true, &okReport: false}},
		{"Report NOT SCF_StatusCode:200", map[*clsRecord]bool{&toReport: true, &okReport: false}},
		{"NOT (SCF_Type:Platform)", map[*clsRecord]bool{&okReport: false, &okStart: false}},
		{"(START OR END) and not timed", map[*clsRecord]bool{&okStart: true, &toReport: false}},
		{"SCF_Alias:*", map[*clsRecord]bool{&okReport: false}},
		{"SCF_Qualifier:*", map[*clsRecord]bool{&okReport: true}},
		{"NoSuchKey:x", map[*clsRecord]bool{&okReport: false}},
	}
	for _, c := range cases {
		n, err := parseCQL(c.query)
		if err != nil {
			t.Errorf("%q: %v", c.query, err)
			continue
		}
		for r, want := range c.match {
			if got := n.match(r); got != want {
				msg, _ := r.field("SCF_Message")
				t.Errorf("%q on %q: %v, want %v", c.query, msg, got, want)
			}
		}
	}
}

func TestCQLSyntaxErrors(t *testing.T) {
	for _, q := range []string{
		"SCF_Type:(", "(SCF_Type:Platform", "SCF_Type:Platform)", `SCF_Message:"open`, "AND x", "x OR", "NOT",
		"SCF_StatusCode:>abc", "SCF_Message:>5", "SCF_StatusCode:two", "x:", ":x", "a AND AND b",
	} {
		var se *cqlSyntaxError
		if _, err := parseCQL(q); !errors.As(err, &se) {
			t.Errorf("%q: %v, want a syntax error", q, err)
		}
	}
}

func TestSQL(t *testing.T) {
	recs := sampleRecords(t)
	var all []clsRecord
	for _, r := range recs {
		all = append(all, r)
	}
	cases := []struct {
		sql  string
		want [][]string // cells as text; "null" for null
	}{
		{"select count(*)", [][]string{{"11"}}},
		{"SELECT COUNT(*) AS n WHERE SCF_Type='Platform'", [][]string{{"8"}}},
		{"select count_if(SCF_StatusCode=200) ok, count_if(SCF_StatusCode != 200 and SCF_StatusCode <> 202) as failed", [][]string{{"1", "1"}}},
		{"select max(SCF_StatusCode), min(SCF_StatusCode) where SCF_Message like 'Report%'", [][]string{{"433", "200"}}},
		{"select avg(SCF_Duration) where SCF_Message like '%Report%' and SCF_StatusCode = 999", [][]string{{"null"}}},
		{"select count(*) where SCF_StatusCode in (200, 433) and not SCF_Type = 'Custom'", [][]string{{"2"}}},
		{"select count(*) where SCF_StatusCode between 200 and 202", [][]string{{"10"}}},
		{"select count(*) where SCF_Message not like '%RequestId%'", [][]string{{"3"}}},
		{"select SCF_StatusCode, count(*) as c group by SCF_StatusCode order by c desc, SCF_StatusCode", [][]string{{"202", "9"}, {"200", "1"}, {"433", "1"}}},
		{"select SCF_StatusCode, count(*) as c group by SCF_StatusCode order by c desc limit 1", [][]string{{"202", "9"}}},
		{"select SCF_StatusCode as s group by SCF_StatusCode order by s limit 1, 1", [][]string{{"202"}}},
		{`select max(cast("SCF_Duration" as double)) as d where SCF_StatusCode=433`, [][]string{{"3000"}}},
		{"select sum(SCF_RetryNum) where SCF_Message like 'Report%'", nil},
	}
	for _, c := range cases {
		st, err := parseSQL(c.sql)
		if err != nil {
			t.Errorf("%q: %v", c.sql, err)
			continue
		}
		rows := st.run(all)
		if c.want == nil {
			if len(rows) != 1 {
				t.Errorf("%q: %d rows", c.sql, len(rows))
			}
			continue
		}
		var got [][]string
		for _, row := range rows {
			var cells []string
			for _, v := range row {
				if v.null {
					cells = append(cells, "null")
				} else {
					cells = append(cells, v.text())
				}
			}
			got = append(got, cells)
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.sql, got, c.want)
			continue
		}
		for i := range got {
			for j := range got[i] {
				if got[i][j] != c.want[i][j] {
					t.Errorf("%q: %v, want %v", c.sql, got, c.want)
				}
			}
		}
	}
}

func TestSQLErrors(t *testing.T) {
	cases := []struct {
		sql       string
		syntaxErr bool // else a query (semantic) error
	}{
		{"", true},
		{"count(*)", true},
		{"select", true},
		{"select count(*) from t", true},
		{"select count(*", true},
		{"select count(*) where", true},
		{"select count(*) where SCF_StatusCode ==", true},
		{"select count(*) limit x", true},
		{"select count(*) limit -1", true},
		{"select count(*) where SCF_Message like 5", true},
		{"select count(*) where SCF_Message like 'open", true},
		{"select count(*); drop table x", true},
		{"select count(*) group SCF_Type", true},
		{"select max(nope)", false},
		{"select SCF_Type, count(*)", false},
		{"select count(*) order by nope", false},
		{"select sum(SCF_Message)", false},
	}
	for _, c := range cases {
		_, err := parseSQL(c.sql)
		var se *cqlSyntaxError
		var qe *sqlQueryError
		if c.syntaxErr && !errors.As(err, &se) || !c.syntaxErr && !errors.As(err, &qe) {
			t.Errorf("%q: %v (%T), want syntax error %v", c.sql, err, err, c.syntaxErr)
		}
	}
}

func TestSplitQuery(t *testing.T) {
	for _, c := range []struct{ in, cond, sql string }{
		{"a | select 1", "a ", " select 1"},
		{`SCF_Message:"a|b" | select count(*)`, `SCF_Message:"a|b" `, " select count(*)"},
		{"a", "a", ""},
	} {
		cond, sql, _ := splitQuery(c.in)
		if cond != c.cond || sql != c.sql {
			t.Errorf("%q: %q | %q", c.in, cond, sql)
		}
	}
}

// Whatever a caller types, parsing and evaluating never panics (a panic
// would reach the client as a dropped connection, not Tencent's error).
func FuzzCLSQuery(f *testing.F) {
	for _, s := range []string{"*", "SCF_StatusCode:>200 AND NOT x", `"a b" OR (c:d*)`,
		"* | select SCF_Type, count(*) c group by SCF_Type order by c desc limit 2",
		"* | select count_if(SCF_Message like '%a_b%') where SCF_StatusCode in (1, 2)"} {
		f.Add(s)
	}
	fn := testModel(invocations.Function{Name: "fn", FailureRatio: 0.5})
	r := fn.Exec(3)
	recs := clsRecords(nil, &r)
	f.Fuzz(func(t *testing.T, q string) {
		condText, sqlText, hasSQL := splitQuery(q)
		if n, err := parseCQL(condText); err == nil {
			for i := range recs {
				n.match(&recs[i])
			}
		}
		if hasSQL {
			if st, err := parseSQL(sqlText); err == nil {
				st.run(recs)
			}
		}
	})
}
