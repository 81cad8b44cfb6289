package cls

import (
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// Every query below uses only forms Tencent documents; the page of each is
// named where it is used, and docs/cls-queries.md tables them all. SCF's
// log structure is page 583/60336; the CQL rules (SyntaxRule 1) and the
// SQL rules are page 614/47044.

// Target is a function, its log topic, and how long after its start an
// invocation's last line can be written (the function's timeout).
type Target struct {
	translate.Target
	TopicID     string
	MaxDuration time.Duration
}

// SCF's status codes in CLS (Tencent's "Cloud Function Status Code"
// page, 583/42611): 200 is a successful invocation; 202 marks a line
// written while the invocation was still running; any other is a failure
// (430 an error of the function's code, 433 a timeout, 434 over the
// memory limit, 5xx the platform's own).
const (
	SCFStatusSuccess = 200
	SCFStatusRunning = 202
)

// reportLines is the CQL condition selecting SCF's report lines (583/60336:
// "Report RequestId:<id> Duration:… Memory:… MemUsage:…"), which carry an
// invocation's final status, duration, memory and retries. The phrase
// also matches the "Init Report RequestId:" and "Provisioned Report
// RequestId:" lines of web and image functions (the page's sample spells
// the second "Previsioned"), which are not invocations: they are excluded
// by NOT phrases here and exactly by reportLike in SQL. SCF_Type:Platform
// keeps a user's own line that prints the phrase out (583/43329).
const reportLines = `SCF_Type:Platform AND SCF_Message:"Report RequestId" AND (NOT SCF_Message:"Init Report")` +
	` AND (NOT SCF_Message:"Provisioned Report") AND (NOT SCF_Message:"Previsioned Report")`

// reportLike is the exact SQL test of a report line: its message starts
// with the phrase (LIKE, 614/44068), whatever the spacing after the
// colon. It needs statistics on SCF_Message, which mudscf check verifies.
const reportLike = "SCF_Message LIKE 'Report RequestId%'"

// responseLines selects SCF's response lines ("Response RequestId:<id>
// RetMsg:<ret>"), which carry an invocation's return value or error.
const responseLines = `SCF_Type:Platform AND SCF_Message:"Response RequestId"`

// The report-line columns a page reads, in the order of Report's fields.
var pageColumns = []string{"SCF_RequestId", "SCF_StartTime", "SCF_StatusCode", "SCF_Duration", "SCF_MemUsage", "SCF_RetryNum"}

// startBounds are the start times GetFunctionLogs's window covers for q,
// in ms: its times have second precision, and its end covers its whole
// second. The CLS source answers exactly what GetFunctionLogs would.
func startBounds(q translate.Query) (lo, hi int64) {
	return q.Since.Unix() * 1000, (q.Until.Unix() + 1) * 1000
}

// search is a SearchLog call over the log times where invocations that
// started in [lo, hi) can have written lines: up to a MaxDuration after
// the latest start. SearchLog's window is [From, To).
func search(t Target, lo, hi int64, query string) SearchLogRequest {
	return SearchLogRequest{TopicId: t.TopicID, From: lo, To: hi + t.MaxDuration.Milliseconds(), Query: query, SyntaxRule: SyntaxCQL}
}

// cql is the CQL condition selecting the lines (of lines, a condition) of
// t's invocations that started in [lo, hi): the function by its tokens,
// the start by the range form "key>=n" that every version of the CQL page
// documents, and the qualifier (a version or an alias) when one is asked.
// Tokens only narrow: SQL's "=" or mudscf's own comparison makes it exact.
func cql(q translate.Query, t Target, lines string, lo, hi int64) string {
	c := []string{lines, "SCF_FunctionName:" + cqlQuote(t.FunctionName)}
	if t.Namespace != "" {
		c = append(c, "SCF_Namespace:"+cqlQuote(t.Namespace))
	}
	c = append(c, "SCF_StartTime>="+strconv.FormatInt(lo, 10), "SCF_StartTime<"+strconv.FormatInt(hi, 10))
	return strings.Join(append(c, qualifier(q, t)...), " AND ")
}

// qualifier is the CQL condition of q's qualifier on t, if any.
func qualifier(q translate.Query, t Target) []string {
	if qual := q.QualifierFor(t.Target); qual != "" {
		return []string{"(SCF_Qualifier:" + cqlQuote(qual) + " OR SCF_Alias:" + cqlQuote(qual) + ")"}
	}
	return nil
}

// reportCQL is cql over report lines, with q's status and request ID
// (narrowing) when filters is set.
func reportCQL(q translate.Query, t Target, filters bool) string {
	lo, hi := startBounds(q)
	c := cql(q, t, reportLines, lo, hi)
	if filters {
		switch q.Status {
		case translate.StatusSuccess:
			c += " AND SCF_StatusCode:" + strconv.Itoa(SCFStatusSuccess)
		case translate.StatusFailed:
			c += " AND (NOT SCF_StatusCode:" + strconv.Itoa(SCFStatusSuccess) + ")"
		}
		if q.RequestID != "" {
			c += " AND SCF_RequestId:" + cqlQuote(q.RequestID)
		}
	}
	return c
}

// where is the SQL condition that makes the selection exact: a topic holds
// the logs of many functions, CQL matches tokens (a request ID "X_" and
// "X" can share them), and SQL's "=" (614/44075) compares whole values.
func where(q translate.Query, t Target, filters bool) string {
	w := []string{"SCF_FunctionName = " + sqlQuote(t.FunctionName)}
	if t.Namespace != "" {
		w = append(w, "SCF_Namespace = "+sqlQuote(t.Namespace))
	}
	w = append(w, reportLike)
	if qual := q.QualifierFor(t.Target); qual != "" {
		w = append(w, "(SCF_Qualifier = "+sqlQuote(qual)+" OR SCF_Alias = "+sqlQuote(qual)+")")
	}
	if filters {
		switch q.Status {
		case translate.StatusSuccess:
			w = append(w, "SCF_StatusCode = "+strconv.Itoa(SCFStatusSuccess))
		case translate.StatusFailed:
			w = append(w, "SCF_StatusCode <> "+strconv.Itoa(SCFStatusSuccess))
		}
		if q.RequestID != "" {
			w = append(w, "SCF_RequestId = "+sqlQuote(q.RequestID))
		}
	}
	return " WHERE " + strings.Join(w, " AND ")
}

// analysis is a SearchLog call whose SQL answers in AnalysisRecords.
func analysis(q translate.Query, t Target, query string) SearchLogRequest {
	lo, hi := startBounds(q)
	r := search(t, lo, hi, query)
	r.UseNewAnalysis = true
	return r
}

// CountRequest is the SearchLog call counting the invocations q's page
// chooses from (count(*), 614/60028).
func CountRequest(q translate.Query, t Target) SearchLogRequest {
	return analysis(q, t, reportCQL(q, t, true)+" | SELECT count(*) AS total"+where(q, t, true))
}

// PageRequest is the SearchLog call listing the report lines of q's page:
// a plain SELECT of their columns (614/38735; SCF's own tutorial, 583/43329,
// does this), ordered by start time, as GetFunctionLogs orders its
// records, then by request ID so that equal starts keep one order
// (614/38734), and q's offset reached exactly by "OFFSET S LIMIT N", the
// only paging form CLS documents (614/38733). Raw logs come in the order
// they were written, which is when invocations ended, not started.
// Mudbase's offset+limit is at most 10,000, CLS's cap on SQL rows.
func PageRequest(q translate.Query, t Target) SearchLogRequest {
	dir, paging := orderAndPaging(q)
	return analysis(q, t, reportCQL(q, t, true)+" | SELECT "+strings.Join(pageColumns, ", ")+where(q, t, true)+
		" ORDER BY SCF_StartTime"+dir+", SCF_RequestId"+dir+paging)
}

// orderAndPaging are q's SQL sort direction and its "OFFSET S LIMIT N".
func orderAndPaging(q translate.Query) (dir, paging string) {
	dir = " ASC"
	if q.Order != translate.OrderAsc {
		dir = " DESC"
	}
	paging = " LIMIT " + strconv.FormatInt(q.Limit, 10)
	if q.Offset > 0 {
		paging = " OFFSET " + strconv.FormatInt(q.Offset, 10) + paging
	}
	return dir, paging
}

// StatsRequest is the one SearchLog call whose SQL gives q's stats over the
// whole window: all executions, the successful ones (status 200), their
// exact mean duration and the latest start (count, count_if, avg, max:
// 614/60028). Aliases are lower case: how CLS cases them in its answer is
// not documented, and lower case is the same in every reading.
func StatsRequest(q translate.Query, t Target) SearchLogRequest {
	return analysis(q, t, reportCQL(q, t, false)+" | SELECT count(*) AS total, count_if(SCF_StatusCode = "+
		strconv.Itoa(SCFStatusSuccess)+") AS successful, avg(SCF_Duration) AS avg_duration,"+
		" max(SCF_StartTime) AS last_start"+where(q, t, false))
}

// LinesRequests are the SearchLog calls fetching lines of the invocations
// ids of one page, which started in [first, last] (ms): their response
// lines (return value or error), and with withLog, every line each wrote
// (its log text). A call covers only the page's own span of starts, not
// the whole window, and as many invocations as fit in the 12 KB statement;
// raw searches, at most 1000 logs each, oldest first (614/56447). A call
// with more lines than that is continued with its Context (NextRequest).
//
// A log query names no line type and no start time: in SCF's simplified
// log format a user's lines carry no SCF_StartTime (583/60336), and they
// are part of the log text; SearchLog's From and To bound it in time.
func LinesRequests(q translate.Query, t Target, ids []string, first, last int64, withLog bool) []SearchLogRequest {
	prefix := cql(q, t, responseLines, first, last+1)
	if withLog {
		c := []string{"SCF_FunctionName:" + cqlQuote(t.FunctionName)}
		if t.Namespace != "" {
			c = append(c, "SCF_Namespace:"+cqlQuote(t.Namespace))
		}
		prefix = strings.Join(c, " AND ")
	}
	prefix += " AND ("
	budget := maxQueryBytes - len(prefix) - 1
	var out []SearchLogRequest
	for len(ids) > 0 {
		var terms strings.Builder
		n := 0
		for _, id := range ids {
			term := "SCF_RequestId:" + cqlQuote(id)
			if n > 0 {
				term = " OR " + term
			}
			if n == IDsPerCall || n > 0 && terms.Len()+len(term) > budget {
				break
			}
			terms.WriteString(term)
			n++
		}
		r := search(t, first, last+1, prefix+terms.String()+")")
		r.Limit, r.Sort = SearchLogMaxLimit, sortAsc
		out = append(out, r)
		ids = ids[n:]
	}
	return out
}

// IDsPerCall is the most invocations one LinesRequests call asks for: as
// many of Tencent's 36-character request IDs as fit, with the rest of the
// statement, in 12,000 bytes; longer IDs make smaller batches.
const IDsPerCall = 200

// sortAsc is SearchLog's Sort for the oldest first.
const sortAsc = "asc"

// cqlQuote quotes a CQL phrase: in double quotes only '"' and '*' are
// escaped, with '\' (614/47044), and nothing else may be.
func cqlQuote(s string) string {
	return `"` + strings.NewReplacer(`"`, `\"`, `*`, `\*`).Replace(s) + `"`
}

// sqlQuote quotes an SQL string: single quotes, a quote doubled (614/47044).
func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
