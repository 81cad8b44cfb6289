package cls

import (
	"strconv"
	"strings"

	"github.com/mudscf/mudscf/translate"
)

// SCF's status codes in CLS (Tencent's "Cloud Function Status Code"
// page): 200 is a successful invocation; 202 marks a line written while
// the invocation was still running; any other is a failure (430 an error
// of the function's code, 433 a timeout, 434 over the memory limit, 5xx
// the platform's own).
const (
	SCFStatusSuccess = 200
	SCFStatusRunning = 202
)

// A search condition's selectors of SCF's platform lines: the report line
// carries the invocation's final status, duration, memory and retries;
// the response line its return value or error.
const (
	reportLines   = `SCF_Message:"Report RequestId"`
	responseLines = `SCF_Message:"Response RequestId"`
)

// The report-line columns a page reads, in the order of reportRow.
var pageColumns = []string{"SCF_RequestId", "SCF_StartTime", "SCF_StatusCode", "SCF_Duration", "SCF_MemUsage", "SCF_RetryNum"}

// startBounds are the start times GetFunctionLogs's window covers for q,
// in ms: its times have second precision, and its end covers its whole
// second. The CLS source answers exactly what GetFunctionLogs would.
func startBounds(q translate.Query) (lo, hi int64) {
	return q.Since.Unix() * 1000, (q.Until.Unix() + 1) * 1000
}

// search is a SearchLog call over the log times where q's invocations
// can have written lines: from the earliest start to a MaxDuration after
// the latest.
func search(q translate.Query, t Target, query string) SearchLogRequest {
	lo, hi := startBounds(q)
	return SearchLogRequest{TopicId: t.TopicID, From: lo, To: hi + t.MaxDuration.Milliseconds(), Query: query, SyntaxRule: SyntaxCQL}
}

// condition is the CQL condition selecting the report lines of q's
// invocations of t: the window of start times, the qualifier (a version
// or an alias), and with filters, q's status and requestId.
func condition(q translate.Query, t Target, filters bool) string {
	lo, hi := startBounds(q)
	c := []string{reportLines,
		"SCF_StartTime:>=" + strconv.FormatInt(lo, 10), "SCF_StartTime:<" + strconv.FormatInt(hi, 10)}
	if qual := q.QualifierFor(t.Target); qual != "" {
		c = append(c, "(SCF_Qualifier:"+cqlQuote(qual)+" OR SCF_Alias:"+cqlQuote(qual)+")")
	}
	if filters {
		switch q.Status {
		case translate.StatusSuccess:
			c = append(c, "SCF_StatusCode:"+strconv.Itoa(SCFStatusSuccess))
		case translate.StatusFailed:
			c = append(c, "NOT SCF_StatusCode:"+strconv.Itoa(SCFStatusSuccess))
		}
		if q.RequestID != "" {
			c = append(c, "SCF_RequestId:"+cqlQuote(q.RequestID))
		}
	}
	return strings.Join(c, " AND ")
}

// function is the SQL condition naming t exactly: a topic may hold the
// logs of several functions, and full-text search only matches tokens.
func function(t translate.Target) string {
	w := "SCF_FunctionName = " + sqlQuote(t.FunctionName)
	if t.Namespace != "" {
		w += " AND SCF_Namespace = " + sqlQuote(t.Namespace)
	}
	return w
}

// CountRequest is the SearchLog call counting the invocations q's page
// chooses from.
func CountRequest(q translate.Query, t Target) SearchLogRequest {
	r := search(q, t, condition(q, t, true)+" | SELECT count(*) AS total WHERE "+function(t.Target))
	r.UseNewAnalysis = true
	return r
}

// PageRequest is the SearchLog call listing the report lines of q's page:
// ordered by start time, as GetFunctionLogs orders its records, with q's
// offset reached exactly by SQL's LIMIT (raw logs come in the order they
// were written, which is when invocations ended, not started).
func PageRequest(q translate.Query, t Target) SearchLogRequest {
	cols := strings.Join(pageColumns, ", ")
	dir := " ASC"
	if q.Order != translate.OrderAsc {
		dir = " DESC"
	}
	r := search(q, t, condition(q, t, true)+" | SELECT "+cols+" WHERE "+function(t.Target)+
		" GROUP BY "+cols+" ORDER BY SCF_StartTime"+dir+", SCF_RequestId"+dir+
		" LIMIT "+strconv.FormatInt(q.Offset, 10)+", "+strconv.FormatInt(q.Limit, 10))
	r.UseNewAnalysis = true
	return r
}

// responseBatch is how many invocations' response lines one call asks
// for: their request IDs must fit in the 12 KB query.
const responseBatch = 100

// ResponsesRequests are the SearchLog calls fetching the response lines (the
// return value or error) of the invocations ids, which started in q's
// window: one call per responseBatch invocations.
func ResponsesRequests(q translate.Query, t Target, ids []string) []SearchLogRequest {
	var out []SearchLogRequest
	for len(ids) > 0 {
		n := min(len(ids), responseBatch)
		terms := make([]string, n)
		for i, id := range ids[:n] {
			terms[i] = "SCF_RequestId:" + cqlQuote(id)
		}
		r := search(q, t, responseLines+" AND ("+strings.Join(terms, " OR ")+")")
		r.Limit, r.Sort = int64(min(2*n, SearchLogMaxLimit)), sortAsc
		out = append(out, r)
		ids = ids[n:]
	}
	return out
}

// StatsRequest is the one SearchLog call whose SQL gives q's stats over the
// whole window: all executions, the successful ones (status 200), their
// exact mean duration and the latest start.
func StatsRequest(q translate.Query, t Target) SearchLogRequest {
	r := search(q, t, condition(q, t, false)+" | SELECT count(*) AS total, count_if(SCF_StatusCode = "+
		strconv.Itoa(SCFStatusSuccess)+") AS successful, avg(SCF_Duration) AS avgDuration,"+
		" max(SCF_StartTime) AS lastStart WHERE "+function(t.Target))
	r.UseNewAnalysis = true
	return r
}

// sortAsc is SearchLog's Sort for the oldest first.
const sortAsc = "asc"

// clip keeps upstream bytes short in error messages.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

func cqlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
