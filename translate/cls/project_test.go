package cls

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mudscf/mudscf/translate"
)

var project = ProjectTarget{TopicID: "topic-1", Namespace: "default", MaxDuration: target.MaxDuration}

// The project page as exact SearchLog parameters: the whole namespace, a
// few names narrowed with IN, oldest first at an offset.
func TestGoldenProjectQueries(t *testing.T) {
	base := translate.Query{Limit: 5000, Order: translate.OrderDesc, Since: since, Until: until}
	named := project
	named.Names = []string{"APITest", "o'clock"}
	asc := base
	asc.Order, asc.Offset = translate.OrderAsc, 5000
	type golden struct {
		Name    string
		Exact   bool
		Request SearchLogRequest
	}
	var got []golden
	for _, c := range []struct {
		name string
		q    translate.Query
		t    ProjectTarget
	}{{"namespace, newest first", base, project}, {"two names", base, named}, {"oldest first, offset", asc, project}} {
		r, exact := ProjectPageRequest(c.q, c.t)
		got = append(got, golden{c.name, exact, r})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "project_queries.golden.json")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./translate/cls -update creates it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("the project queries differ from %s:\n%s", path, buf.Bytes())
	}
}

// Names that do not fit in the 12,000-byte statement are left out, and
// the request says it is not exact; the statement never exceeds the limit
// and uses only the documented forms.
func TestProjectPageFitsTheStatement(t *testing.T) {
	q := translate.Query{Limit: 10000, Order: translate.OrderDesc, Since: since, Until: until}
	for _, n := range []int{1, 100, 10_000} {
		tg := project
		for i := range n {
			tg.Names = append(tg.Names, fmt.Sprintf("function-with-a-long-name-%05d", i))
		}
		r, exact := ProjectPageRequest(q, tg)
		if len(r.Query) > maxQueryBytes {
			t.Errorf("%d names: a statement of %d bytes", n, len(r.Query))
		}
		if fits := n <= 100; exact != fits || strings.Contains(r.Query, " IN (") != fits {
			t.Errorf("%d names: exact %v, IN %v", n, exact, strings.Contains(r.Query, " IN ("))
		}
		for _, bad := range []string{":>", ":<", "GROUP BY", "LIMIT 0,"} {
			if strings.Contains(r.Query, bad) {
				t.Errorf("%q in %s", bad, r.Query)
			}
		}
	}
}

// A project row names its function, qualifier and alias; a missing or
// null alias is empty.
func TestReadProjectReports(t *testing.T) {
	b, _ := json.Marshal(SearchLogResponse{Analysis: true, AnalysisRecords: []string{
		`{"SCF_FunctionName":"a","SCF_RequestId":"X","SCF_StartTime":1705311000123,"SCF_StatusCode":200,"SCF_Duration":"12","SCF_MemUsage":1.5,"SCF_RetryNum":0,"SCF_Qualifier":"$LATEST","SCF_Alias":null}`,
		`{"SCF_FunctionName":"b","SCF_RequestId":"Y","SCF_StartTime":1705311000000,"SCF_StatusCode":433,"SCF_Duration":3000,"SCF_MemUsage":0,"SCF_RetryNum":2,"SCF_Qualifier":"2","SCF_Alias":"prod"}`,
	}})
	got, err := ReadProjectReports(b)
	want := []ProjectReport{
		{Report{RequestID: "X", StartMs: 1705311000123, StatusCode: 200, DurationMs: 12, MemUsageMB: 1.5}, "a", "$LATEST", ""},
		{Report{RequestID: "Y", StartMs: 1705311000000, StatusCode: 433, DurationMs: 3000, RetryNum: 2}, "b", "2", "prod"},
	}
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("read %+v, %v", got, err)
	}
	if _, err := ReadProjectReports(json.RawMessage(`{"AnalysisRecords":["{\"SCF_StartTime\":\"soon\"}"]}`)); err == nil {
		t.Error("a start time that is not a number was read")
	}
}
