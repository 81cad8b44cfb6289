package cls

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// ProjectTarget is the functions of one project that log to one topic:
// the project's namespace and, when the proxy serves only listed
// functions, their names.
type ProjectTarget struct {
	TopicID   string
	Namespace string
	// Names are the Tencent names of the project's functions in the topic;
	// empty reads every function of the namespace (a project that serves
	// unlisted functions by their name).
	Names []string
	// MaxDuration is how long after its start an invocation can still
	// write its report line: the longest timeout among the functions.
	MaxDuration time.Duration
}

// The report-line columns of a project page: the function, then a page's
// columns, then the qualifier and alias that decide which configured
// function IDs a line belongs to.
var projectColumns = append(append([]string{"SCF_FunctionName"}, pageColumns...), "SCF_Qualifier", "SCF_Alias")

// ProjectPageRequest is the one SearchLog call listing the report lines of
// q's page over every function of t: those that started in q's window,
// ordered by start time, then request ID, and paged by "OFFSET S LIMIT N"
// (the forms of PageRequest, 614/38734 and 614/38733). Its names, when it
// has them, narrow the SQL with IN (614/44075) if they fit in the 12 KB
// statement; otherwise the statement selects the whole namespace and
// exact is false: the caller keeps the lines of t's names itself. A project
// page needs no response line: a line's status code says whether the
// invocation succeeded and how it failed, and CLS has no billed duration.
func ProjectPageRequest(q translate.Query, t ProjectTarget) (req SearchLogRequest, exact bool) {
	lo, hi := startBounds(q)
	c := []string{reportLines}
	if t.Namespace != "" {
		c = append(c, "SCF_Namespace:"+cqlQuote(t.Namespace))
	}
	c = append(c, "SCF_StartTime>="+strconv.FormatInt(lo, 10), "SCF_StartTime<"+strconv.FormatInt(hi, 10))
	var w []string
	if t.Namespace != "" {
		w = append(w, "SCF_Namespace = "+sqlQuote(t.Namespace))
	}
	w = append(w, reportLike)
	dir, paging := orderAndPaging(q)
	statement := func(where []string) string {
		return strings.Join(c, " AND ") + " | SELECT " + strings.Join(projectColumns, ", ") + " WHERE " + strings.Join(where, " AND ") +
			" ORDER BY SCF_StartTime" + dir + ", SCF_RequestId" + dir + paging
	}
	query := statement(w)
	if len(t.Names) > 0 {
		quoted := make([]string, len(t.Names))
		for i, n := range t.Names {
			quoted[i] = sqlQuote(n)
		}
		if in := statement(append(w, "SCF_FunctionName IN ("+strings.Join(quoted, ", ")+")")); len(in) <= maxQueryBytes {
			query, exact = in, true
		}
	}
	r := SearchLogRequest{TopicId: t.TopicID, From: lo, To: hi + t.MaxDuration.Milliseconds(), Query: query,
		SyntaxRule: SyntaxCQL, UseNewAnalysis: true}
	return r, exact || len(t.Names) == 0
}

// ProjectReport is one report line of a project page: the invocation and
// which function, version and alias it ran.
type ProjectReport struct {
	Report
	FunctionName, Qualifier, Alias string
}

// ReadProjectReports reads the answer to ProjectPageRequest, keeping its
// order.
func ReadProjectReports(answer json.RawMessage) ([]ProjectReport, error) {
	return readRows(answer, func(row map[string]json.RawMessage) (ProjectReport, error) {
		r, err := readReport(row)
		return ProjectReport{Report: r, FunctionName: text(row, "SCF_FunctionName"),
			Qualifier: text(row, "SCF_Qualifier"), Alias: text(row, "SCF_Alias")}, err
	})
}
