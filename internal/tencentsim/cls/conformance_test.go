package cls

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var updateDoc = flag.Bool("update", false, "rewrite docs/cls-conformance.md from the conformance table")

// conformance is the simulator's CLS conformance table: every form of a
// SearchLog call, the Tencent page that documents it, and what the
// simulator answers. Rows marked silent are forms Tencent's pages say
// nothing about, where the simulator takes the stricter reading. Each row
// runs as a test (TestConformance) and docs/cls-conformance.md is this
// table, rendered (TestConformanceDoc).
type conformance struct {
	id     string
	form   string // as a user writes it
	page   string
	want   string // "accept", or the error code
	silent bool
	note   string
	req    call
	check  func(t *testing.T, r *SearchLogResponse)
}

// Pages, as cited in the table.
const (
	pSearchLog = "[614/56447](https://cloud.tencent.com/document/api/614/56447)"
	pSyntax    = "[614/47044](https://cloud.tencent.com/document/product/614/47044)"
	pLimits    = "[614/86845](https://cloud.tencent.com/document/product/614/86845)"
	pFAQ       = "[614/44224](https://www.tencentcloud.com/document/product/614/44224)"
	pMulti     = "[614/90807](https://cloud.tencent.com/document/product/614/90807)"
	pSelect    = "[614/44074](https://cloud.tencent.com/document/product/614/44074)"
	pWhere     = "[614/44075](https://cloud.tencent.com/document/product/614/44075)"
	pGroupBy   = "[614/58974](https://cloud.tencent.com/document/product/614/58974)"
	pOrderBy   = "[614/58978](https://cloud.tencent.com/document/product/614/58978)"
	pLimit     = "[614/58977](https://cloud.tencent.com/document/product/614/58977)"
	pAggregate = "[614/60028](https://cloud.tencent.com/document/product/614/60028)"
	pOperators = "[614/44068](https://cloud.tencent.com/document/product/614/44068)"
	pNested    = "[614/58980](https://cloud.tencent.com/document/product/614/58980)"
	pIndex     = "[614/39594](https://www.tencentcloud.com/document/product/614/39594)"
	pSDK       = "SDK models (tencentcloud-sdk-nodejs 4.1.313 cls_models.d.ts)"
	pSCFLog    = "[583/60336](https://cloud.tencent.com/document/product/583/60336)"
	pSCFSearch = "[583/43329](https://cloud.tencent.com/document/product/583/43329)"
	pTccli     = "tccli examples cls/v20201016 SearchLog.md, GetAlarmLog.md"
	pSQLLimits = "intl \"SQL 限制说明\" (older)"
)

const (
	accept = "accept"
	ip     = "InvalidParameter"
	mp     = "MissingParameter"
	se     = "FailedOperation.SyntaxError"
	qe     = "FailedOperation.QueryError"
	ic     = "FailedOperation.InvalidContext"
	tne    = "ResourceNotFound.TopicNotExist"
)

func nested(levels int) string {
	return strings.Repeat("(", levels-1) + "SCF_Type:Platform" + strings.Repeat(")", levels-1)
}

// sql is a CQL call with an SQL statement over the shared topic's report
// lines of fn in namespace default.
func sql(stmt string) call {
	return cqlCall(`SCF_FunctionName:fn AND SCF_Namespace:default AND SCF_Type:Platform AND SCF_Message:"Report RequestId" | `+stmt).
		with("UseNewAnalysis", true)
}

func results(n int) func(t *testing.T, r *SearchLogResponse) {
	return func(t *testing.T, r *SearchLogResponse) {
		t.Helper()
		if len(r.Results) != n {
			t.Errorf("%d results, want %d", len(r.Results), n)
		}
	}
}

func someResults(t *testing.T, r *SearchLogResponse) {
	t.Helper()
	if len(r.Results) == 0 {
		t.Error("no result: the form matched nothing, so the row shows nothing")
	}
}

func noResults(t *testing.T, r *SearchLogResponse) {
	t.Helper()
	if len(r.Results) != 0 {
		t.Errorf("%d results, want none", len(r.Results))
	}
}

// every checks a condition on every result's keys, and that there are some.
func every(what string, ok func(k map[string]string) bool) func(t *testing.T, r *SearchLogResponse) {
	return func(t *testing.T, r *SearchLogResponse) {
		t.Helper()
		someResults(t, r)
		for _, k := range logKeys(t, r) {
			if !ok(k) {
				t.Errorf("a result is not %s: %v", what, k)
				return
			}
		}
	}
}

func nRows(n int) func(t *testing.T, r *SearchLogResponse) {
	return func(t *testing.T, r *SearchLogResponse) {
		t.Helper()
		if len(r.AnalysisRecords) != n {
			t.Errorf("%d rows, want %d", len(r.AnalysisRecords), n)
		}
	}
}

func conformanceTable() []conformance {
	lim := func(c call) call { return c.with("Limit", 1000) }
	big := strings.Repeat("a", maxStatementBytes-len("SCF_Message:")) // exactly the limit
	return []conformance{
		// Request level.
		{id: "R1", form: "`TopicId` + `Query` + `SyntaxRule: 1`", page: pSearchLog, want: accept,
			req: cqlCall("").with("QueryString", nil, "Query", "SCF_Type:Platform", "SyntaxRule", 1), check: someResults},
		{id: "R2", form: "`QueryString` without `QuerySyntax` is CQL (`a and b` works)", page: pSDK, want: accept,
			req: lim(cqlCall("SCF_Type:Platform and SCF_Message:START")), check: every("a START line", func(k map[string]string) bool {
				return strings.HasPrefix(k["SCF_Message"], "START")
			})},
		{id: "R3", form: "`Query` without `SyntaxRule` is Lucene (`status>400` fails)", page: pSDK, want: qe,
			req: cqlCall("").with("QueryString", nil, "Query", "SCF_StatusCode>400")},
		{id: "R3b", form: "`QueryString` + `QuerySyntax: 0` is Lucene", page: pSDK, want: qe,
			req: cqlCall("SCF_StatusCode>400").with("QuerySyntax", 0)},
		{id: "R4", form: "`Query` and `QueryString` together", page: pSDK, want: ip, silent: true,
			req: cqlCall("*").with("Query", "*")},
		{id: "R4b", form: "`QueryString` with `SyntaxRule` (the pairs mixed)", page: pSDK, want: ip, silent: true,
			req: cqlCall("*").with("SyntaxRule", 1)},
		{id: "R5", form: "`TopicId` and `Topics` together", page: pSearchLog, want: ip,
			note: "\"TopicId 和 Topics 不能同时使用\"", req: cqlCall("*").with("Topics", []call{{"TopicId": otherTopic}})},
		{id: "R5b", form: "neither `TopicId` nor `Topics`", page: pSearchLog, want: ip, silent: true,
			note: "\"有且只能选择一个\"; the code is the simulator's", req: cqlCall("*").with("TopicId", nil)},
		{id: "R6", form: "`Topics` (raw search over several topics)", page: pSearchLog + ", " + pMulti, want: accept,
			req: cqlCall("SCF_Type:Platform").with("TopicId", nil, "Topics", []call{{"TopicId": sharedTopic}, {"TopicId": otherTopic}}, "Limit", 1000),
			check: func(t *testing.T, r *SearchLogResponse) {
				names := map[string]bool{}
				for _, k := range logKeys(t, r) {
					names[k["SCF_FunctionName"]] = true
				}
				if !names["lonely"] || !names["fn"] || r.Topics == nil || len(r.Topics.Infos) != 2 || r.Context != "" {
					t.Errorf("functions %v, Topics %+v, Context %q", names, r.Topics, r.Context)
				}
			}},
		{id: "R6b", form: "`Topics` naming a topic that does not exist", page: pSearchLog, want: accept,
			note: "the others answer; the missing one is in `Topics.Errors`",
			req:  cqlCall("*").with("TopicId", nil, "Topics", []call{{"TopicId": otherTopic}, {"TopicId": "no-such-topic"}}),
			check: func(t *testing.T, r *SearchLogResponse) {
				if r.Topics == nil || len(r.Topics.Errors) != 1 || r.Topics.Errors[0].ErrorCodeStr != tne {
					t.Errorf("Topics %+v", r.Topics)
				}
			}},
		{id: "R7", form: "`Topics` naming 51 topics", page: pSearchLog, want: ip, note: "\"最大支持50个日志主题\"",
			req: cqlCall("*").with("TopicId", nil, "Topics", slices.Repeat([]call{{"TopicId": sharedTopic}}, 51))},
		{id: "R8", form: "`Topics` with SQL", page: pMulti, want: qe, silent: true,
			note: "\"仅支持检索原始日志，暂不支持使用 SQL\"; the code is the stricter choice",
			req:  cqlCall("* | SELECT count(*)").with("TopicId", nil, "Topics", []call{{"TopicId": sharedTopic}})},
		{id: "R9", form: "`Topics` with `Offset`", page: pSearchLog, want: ip, note: "Offset \"仅适用于单日志主题检索\"",
			req: cqlCall("*").with("TopicId", nil, "Topics", []call{{"TopicId": sharedTopic}}, "Offset", 5)},
		{id: "R10", form: "`Context` with `Offset`", page: pSearchLog, want: ip, note: "\"不能与Context参数同时使用\"",
			req: cqlCall("*").with("Context", "x", "Offset", 1)},
		{id: "R11", form: "`Limit: 1000`", page: pSearchLog, want: accept, req: cqlCall("*").with("Limit", 1000), check: results(1000)},
		{id: "R11b", form: "no `Limit`: 100 raw logs", page: pSearchLog, want: accept, req: cqlCall("*"), check: results(100)},
		{id: "R12", form: "`Limit: 1001`", page: pSearchLog, want: ip, req: cqlCall("*").with("Limit", 1001)},
		{id: "R12b", form: "`Limit: 0`", page: pSearchLog, want: ip, req: cqlCall("*").with("Limit", 0)},
		{id: "R13", form: "`Sort`, `Limit`, `Offset` with SQL: ignored", page: pSearchLog, want: accept,
			note: "\"仅当检索分析语句(Query)不包含SQL时有效\"",
			req:  sql("SELECT count(*) AS n").with("Sort", "asc", "Limit", 1, "Offset", 3), check: nRows(1)},
		{id: "R14", form: "a statement of 12,000 bytes", page: pSearchLog + ", " + pLimits, want: accept,
			req: cqlCall("SCF_Message:" + big)},
		{id: "R14b", form: "a statement of 12,001 bytes", page: pSearchLog + ", " + pLimits, want: ip,
			note: "\"最大长度为12KB\" vs \"最长支持12000字符\": the smaller", req: cqlCall("SCF_Message:" + big + "a")},
		{id: "R15", form: "`From` after `To`", page: pSearchLog, want: ip, req: cqlCall("*").with("From", ms(winTo)+1)},
		{id: "R15b", form: "the window is [From, To)", page: pSDK, want: accept,
			req: cqlCall("*").with("Limit", 1000, "Sort", "asc"), check: func(t *testing.T, r *SearchLogResponse) {
				for _, li := range r.Results {
					if li.Time < ms(winFrom) || li.Time >= ms(winTo) {
						t.Errorf("log time %d outside [%d, %d)", li.Time, ms(winFrom), ms(winTo))
					}
				}
			}},
		{id: "R16", form: "`QuerySyntax: 2`", page: pSearchLog, want: ip, req: cqlCall("*").with("QuerySyntax", 2)},
		{id: "R18", form: "a forged `Context`", page: pSearchLog, want: ic, req: cqlCall("*").with("Context", "bm90LWEtY3Vyc29y")},
		{id: "R20", form: "a topic that does not exist", page: pSDK, want: tne, req: cqlCall("*").with("TopicId", "no-such-topic")},
		{id: "R21", form: "raw answer: `Columns` and `AnalysisRecords` null, `ColNames` and `AnalysisResults` [], `SamplingRate` 0, `Topics` null",
			page: pTccli, want: accept, req: cqlCall("*").with("UseNewAnalysis", true), check: func(t *testing.T, r *SearchLogResponse) {
				if r.Columns != nil || r.AnalysisRecords != nil || r.ColNames == nil || r.AnalysisResults == nil ||
					r.SamplingRate != 0 || r.Topics != nil || r.Analysis {
					t.Errorf("answer shape %+v", r)
				}
			}},

		// CQL.
		{id: "C1", form: "`SCF_Type:Platform`", page: pSyntax + ", " + pSCFSearch, want: accept, req: lim(cqlCall("SCF_Type:Platform")),
			check: every("Platform", func(k map[string]string) bool { return k["SCF_Type"] == "Platform" })},
		{id: "C2", form: "`SCF_Message:\"Report RequestId\"` (tokens in sequence)", page: pSyntax, want: accept,
			note: "also matches `Init Report RequestId:` lines",
			req:  lim(cqlCall(`SCF_Message:"Report RequestId"`)), check: every("a report line", func(k map[string]string) bool {
				return strings.Contains(k["SCF_Message"], "Report RequestId")
			})},
		{id: "C2b", form: "`SCF_Message:\"RequestId Report\"` (out of sequence)", page: pSyntax, want: accept,
			req: lim(cqlCall(`SCF_Message:"RequestId Report"`)), check: noResults},
		{id: "C3", form: "`SCF_Message:'Report RequestId'`", page: pSyntax, want: accept, req: lim(cqlCall(`SCF_Message:'Report RequestId'`)), check: someResults},
		{id: "C4", form: "`SCF_StartTime>=n`, `>`, `<`, `<=`", page: pSyntax, want: accept,
			req: lim(cqlCall(fmt.Sprintf("SCF_StartTime>=%d AND SCF_StartTime<%d AND SCF_StartTime>0 AND SCF_StartTime<=%d",
				ms(winFrom), ms(winFrom)+60000, ms(winTo)))),
			check: every("started in the minute", func(k map[string]string) bool {
				return k["SCF_StartTime"] >= fmt.Sprint(ms(winFrom)) && k["SCF_StartTime"] < fmt.Sprint(ms(winFrom)+60000)
			})},
		{id: "C5", form: "`SCF_StatusCode=200` (= `SCF_StatusCode:200`)", page: pSyntax, want: accept, req: lim(cqlCall("SCF_StatusCode=200")),
			check: every("status 200", func(k map[string]string) bool { return k["SCF_StatusCode"] == "200" })},
		{id: "C6", form: "`SCF_StartTime:>=n` (colon form)", page: pSyntax, want: accept, note: "the newer page; the older CQL page lists only `key>=n`",
			req: lim(cqlCall(fmt.Sprintf("SCF_StartTime:>=%d", ms(winTo)-60000))), check: someResults},
		{id: "C7", form: "`SCF_Duration:[1 TO 5]`", page: pSyntax, want: se, note: "\"不支持timeCost:[20 TO 30]形式的语法\"",
			req: cqlCall("SCF_Duration:[1 TO 5]")},
		{id: "C8", form: "`a AND b`, `a and b`, `a OR b`, `a or b`", page: pSyntax, want: accept, note: "operators ignore case",
			req:   lim(cqlCall("(SCF_Type:Platform and SCF_Level:ERROR) or (SCF_Type:Custom AND SCF_Level:ERROR) OR SCF_StatusCode:433")),
			check: every("an error", func(k map[string]string) bool { return k["SCF_Level"] == "ERROR" || k["SCF_StatusCode"] == "433" })},
		{id: "C9", form: "`NOT a`, `a NOT b`, `a AND NOT b`, `a AND (NOT b)`", page: pSyntax, want: accept,
			req: lim(cqlCall("SCF_Type:Platform NOT SCF_Message:START AND NOT SCF_Message:END AND (NOT SCF_Level:INFO)")),
			check: every("a Platform ERROR line", func(k map[string]string) bool {
				return k["SCF_Type"] == "Platform" && k["SCF_Level"] == "ERROR" && !strings.HasPrefix(k["SCF_Message"], "START")
			})},
		{id: "C10", form: "`key:(a OR b)`", page: pSyntax, want: accept, req: lim(cqlCall("SCF_Message:(START OR END)")),
			check: every("START or END", func(k map[string]string) bool {
				return strings.HasPrefix(k["SCF_Message"], "START") || strings.HasPrefix(k["SCF_Message"], "END")
			})},
		{id: "C11", form: "parentheses nested to 10 levels", page: pLimits, want: accept,
			note: "\"(level:ERROR AND pid:1234) AND service:test为2层嵌套\"", req: cqlCall(nested(10))},
		{id: "C12", form: "11 levels", page: pLimits, want: se, silent: true, note: "\"执行检索将会报错\"; the code is not given",
			req: cqlCall(nested(11))},
		{id: "C13", form: "`a AND b OR c` without parentheses", page: pSyntax, want: se, silent: true,
			note: "no precedence is documented", req: cqlCall("SCF_Type:Platform AND SCF_Level:INFO OR SCF_Level:ERROR")},
		{id: "C14", form: "`a b` (juxtaposed)", page: pSyntax, want: se, silent: true, req: cqlCall("SCF_Type:Platform SCF_Level:INFO")},
		{id: "C15", form: "`SCF_Message:Repo*` (wildcard at the end or inside)", page: pSyntax + ", " + pSCFSearch, want: accept,
			req: lim(cqlCall("SCF_Message:Repo*t")), check: every("a report line", func(k map[string]string) bool {
				return strings.Contains(k["SCF_Message"], "Report")
			})},
		{id: "C16", form: "`SCF_Message:*port` (prefix wildcard)", page: pLimits + ", " + pFAQ, want: qe, note: "\"不支持前缀模糊检索\"",
			req: cqlCall("SCF_Message:*port")},
		{id: "C17", form: "`SCF_Message:Rep?rt`", page: pSyntax, want: se, silent: true, note: "CQL documents only `*`", req: cqlCall("SCF_Message:Rep?rt")},
		{id: "C18", form: "`SCF_Duration:1*` (wildcard on a long)", page: pSyntax, want: qe, req: cqlCall("SCF_Duration:1*")},
		{id: "C19", form: "`SCF_Alias:*` (text: present, even empty)", page: pSyntax, want: accept, req: cqlCall("SCF_Alias:*"), check: results(100)},
		{id: "C19b", form: "`SCF_Duration:*` (long: present and not empty)", page: pSyntax, want: accept, req: cqlCall("SCF_Duration:*"), check: results(100)},
		{id: "C20", form: "`SCF_Alias:\"\"` (text: present and empty)", page: pSyntax, want: accept, req: cqlCall(`SCF_Alias:""`), check: results(100)},
		{id: "C20b", form: "`SCF_Qualifier:\"\"` (never empty)", page: pSyntax, want: accept, req: cqlCall(`SCF_Qualifier:""`), check: noResults},
		{id: "C20c", form: "`SCF_Duration:\"\"` (long: = `NOT SCF_Duration:*`)", page: pSyntax, want: accept, req: cqlCall(`SCF_Duration:""`), check: noResults},
		{id: "C21", form: "`_exists_:SCF_Alias`", page: pSyntax, want: se, silent: true, note: "Lucene's; CQL writes `key:*`", req: cqlCall("_exists_:SCF_Alias")},
		{id: "C22", form: "escapes `\\:` `\\\"` `\\'` `\\*` `\\ ` in a word; `\\\"` `\\*` in \"…\"; `\\'` `\\*` in '…'", page: pSyntax, want: accept,
			req: cqlCall(`SCF_Message:a\:b\"c\'d\*e\ f OR SCF_Message:"a\"b\*" OR SCF_Message:'a\'b\*'`)},
		{id: "C22b", form: "`\\\\` or `\\n` (other escapes)", page: pSyntax, want: se, silent: true, note: "the page lists the escapes",
			req: cqlCall(`SCF_FunctionName:"a\\b"`)},
		{id: "C23", form: "`/book/user/login/`: tokens, not a regex", page: pSyntax, want: accept,
			note: "\"/book/user/login/ 等价于 book AND user AND login\"; \"不支持正则表达式\"", req: lim(cqlCall("SCF_Message:/START/RequestId/")),
			check: every("a START line", func(k map[string]string) bool { return strings.HasPrefix(k["SCF_Message"], "START") })},
		{id: "C23b", form: "`+a`, `-a`, `a && b`, `!a`, `a~`", page: pSyntax, want: se, silent: true, note: "the older Lucene page's operators",
			req: cqlCall("-SCF_Type:Platform")},
		{id: "C24", form: "`SCF_Message>5` (range on a text key)", page: pSyntax, want: qe, silent: true, note: "ranges are for long and double",
			req: cqlCall("SCF_Message>5")},
		{id: "C24b", form: "`SCF_StatusCode>abc`", page: pFAQ, want: qe, note: "\"number_format_exception\"", req: cqlCall("SCF_StatusCode>abc")},
		{id: "C25", form: "`scf_type:Platform` (key in another case)", page: pSyntax, want: qe, silent: true, note: "keys are matched as written",
			req: cqlCall("scf_type:Platform")},
		{id: "C26", form: "`SCF_Type:platform` (value in another case)", page: pIndex, want: accept,
			note: "the index is case-sensitive (DescribeIndex says so)", req: cqlCall("SCF_Type:platform"), check: noResults},
		{id: "C27", form: "`*` or empty: everything", page: pSyntax + ", " + pSearchLog, want: accept, req: cqlCall(""), check: results(100)},
		{id: "C28", form: "`NoSuchKey:x` (a key without index)", page: pFAQ, want: qe,
			note: "\"Cannot search on field [xxx] since it is not indexed.\"", req: cqlCall("NoSuchKey:x")},
		{id: "C29", form: "full text `timed`", page: pSyntax, want: accept, req: lim(cqlCall("timed")),
			check: every("about a timeout", func(k map[string]string) bool { return strings.Contains(k["SCF_Message"], "timed") })},

		// Lucene.
		{id: "L1", form: "`SCF_StatusCode:>=400`, `:>`, `:<`, `:<=`", page: pSyntax, want: accept,
			req:   lim(luceneCall("SCF_StatusCode:>=400 AND SCF_StatusCode:<500 AND SCF_StatusCode:>0 AND SCF_StatusCode:<=499")),
			check: every("a failure", func(k map[string]string) bool { return k["SCF_StatusCode"] >= "400" && k["SCF_StatusCode"] < "500" })},
		{id: "L2", form: "`SCF_StatusCode>400` (no colon)", page: pSyntax, want: qe, silent: true, note: "only the colon form is documented",
			req: luceneCall("SCF_StatusCode>400")},
		{id: "L3", form: "`SCF_StatusCode:[400 TO 500}`", page: pSyntax, want: accept, req: lim(luceneCall("SCF_StatusCode:[400 TO 500}")),
			check: every("a failure", func(k map[string]string) bool { return k["SCF_StatusCode"] >= "400" })},
		{id: "L4", form: "`AND`, `OR`, `NOT` in upper case", page: pSyntax, want: accept, req: lim(luceneCall("SCF_Type:Platform AND NOT SCF_Level:INFO")),
			check: every("an ERROR line", func(k map[string]string) bool { return k["SCF_Level"] == "ERROR" })},
		{id: "L5", form: "`a and b`: `and` is a word (juxtaposition: OR)", page: pSyntax + ", " + pFAQ, want: accept,
			req: lim(luceneCall("SCF_Type:Custom and SCF_Type:Platform")), check: results(1000)},
		{id: "L6", form: "`a b` means `a OR b`", page: pSyntax, want: accept, req: lim(luceneCall("SCF_Message:START SCF_Message:END")),
			check: every("START or END", func(k map[string]string) bool {
				return strings.HasPrefix(k["SCF_Message"], "START") || strings.HasPrefix(k["SCF_Message"], "END")
			})},
		{id: "L6b", form: "`a AND b OR c` without parentheses", page: pSyntax, want: qe, silent: true,
			note: "\"同时使用 AND 和 OR…请使用()\"", req: luceneCall("SCF_Type:Platform AND SCF_Level:INFO OR SCF_Level:ERROR")},
		{id: "L7", form: "`Rep?rt`, `Repo*`, `key:*`, `_exists_:key`", page: pSyntax, want: accept,
			req: lim(luceneCall("SCF_Message:Rep?rt AND SCF_Message:Repo* AND SCF_Alias:* AND _exists_:SCF_Alias")), check: someResults},
		{id: "L8", form: "`SCF_Message:a/b` (unescaped special character)", page: pSyntax, want: qe, req: luceneCall("SCF_Message:a/b")},
		{id: "L8b", form: "`SCF_Message:a\\/b` (escaped)", page: pSyntax, want: accept, req: luceneCall(`SCF_Message:a\/b`)},
		{id: "L9", form: "`key:'phrase'`, `key:\"\"`, `key:(a OR b)`", page: pSyntax, want: qe, silent: true, note: "CQL's forms",
			req: luceneCall("SCF_Message:(START OR END)")},
		{id: "L10", form: "nesting deeper than 10 levels", page: pLimits, want: accept, note: "\"Lucene 语法规则无该限制\"", req: luceneCall(nested(30))},

		// SQL.
		{id: "S1", form: "`| SELECT count(*) AS total WHERE …`", page: pSyntax + ", " + pAggregate, want: accept,
			req: sql("SELECT count(*) AS total WHERE SCF_StatusCode = 200"), check: func(t *testing.T, r *SearchLogResponse) {
				if rs := rows(t, r); len(rs) != 1 || !slices.Equal(r.Columns, []Column{{"total", "bigint"}}) {
					t.Errorf("rows %v, columns %v", rs, r.Columns)
				}
			}},
		{id: "S2", form: "plain `SELECT a, b WHERE … ORDER BY x DESC`", page: pSelect + ", " + pSCFSearch, want: accept,
			req: sql("SELECT SCF_RequestId, SCF_StartTime AS start ORDER BY SCF_StartTime DESC"), check: func(t *testing.T, r *SearchLogResponse) {
				rs := rows(t, r)
				if len(rs) < 2 || rs[0]["start"].(json.Number) < rs[1]["start"].(json.Number) {
					t.Errorf("rows %v", rs)
				}
			}},
		{id: "S3", form: "`SELECT *`", page: pSelect + ", " + pWhere, want: accept, note: "the columns are the 14 keys and `__TIMESTAMP__` (the simulator's choice)",
			req: sql("SELECT * LIMIT 1"), check: func(t *testing.T, r *SearchLogResponse) {
				if rs := rows(t, r); len(rs) != 1 || len(rs[0]) != 15 || len(r.Columns) != 15 {
					t.Errorf("rows %v, columns %v", rs, r.Columns)
				}
			}},
		{id: "S4", form: "`SELECT a, count(*) … GROUP BY a` / by alias / by ordinal", page: pGroupBy, want: accept,
			req: sql("SELECT SCF_StatusCode AS s, count(*) AS c GROUP BY s ORDER BY c DESC"), check: func(t *testing.T, r *SearchLogResponse) {
				if len(rows(t, r)) < 2 {
					t.Errorf("rows %v", r.AnalysisRecords)
				}
			}},
		{id: "S4b", form: "`GROUP BY 1`", page: pGroupBy, want: accept, req: sql("SELECT SCF_Qualifier, count(*) GROUP BY 1"), check: nRows(2)},
		{id: "S5", form: "a non-grouped column next to GROUP BY or an aggregate", page: pGroupBy + ", " + pFAQ, want: qe,
			note: "\"Cannot use non-grouped column\"", req: sql("SELECT SCF_RequestId, count(*) GROUP BY SCF_StatusCode")},
		{id: "S6", form: "a column without statistics (SELECT, WHERE)", page: pFAQ, want: qe,
			note: "\"Cannot use non-grouped column [xxx]\" (verification_exception), never OperationDenied.AnalysisSwitchClose",
			req:  sql("SELECT count(*) AS n WHERE SCF_StatusCode = 200").with("TopicId", noStatsTopic)},
		{id: "S6b", form: "GROUP BY a column without statistics", page: pFAQ, want: qe,
			note: "\"Field [xxx] of data type [text] cannot be used for grouping\"",
			req:  sql("SELECT count(*) AS n GROUP BY SCF_Type").with("TopicId", noStatsTopic)},
		{id: "S6c", form: "ORDER BY a column without statistics", page: pFAQ, want: qe, note: "\"Cannot order by non-grouped column\"",
			req: sql("SELECT count(*) AS n ORDER BY SCF_Type").with("TopicId", noStatsTopic)},
		{id: "S6d", form: "`count(*)` on a topic without statistics", page: pSyntax, want: accept, silent: true,
			note: "it reads no field; SQL needs statistics on \"需要检索的字段\"", req: sql("SELECT count(*) AS n").with("TopicId", noStatsTopic)},
		{id: "S7", form: "an unknown column", page: pFAQ, want: qe, note: "\"Unknown column [xxx]\"", req: sql("SELECT max(nope)")},
		{id: "S8", form: "an alias used in WHERE", page: pSyntax, want: qe, note: "\"WHERE 中不能使用 AS 别名\"",
			req: sql("SELECT SCF_StatusCode AS s WHERE s = 200")},
		{id: "S9", form: "`LIMIT 7`; no LIMIT: 100 rows", page: pLimit, want: accept, req: sql("SELECT SCF_RequestId LIMIT 7"), check: nRows(7)},
		{id: "S9b", form: "no LIMIT: 100 rows", page: pLimit, want: accept, req: sql("SELECT SCF_RequestId"), check: nRows(100)},
		{id: "S9c", form: "`LIMIT 10000`", page: pLimit, want: accept, req: sql("SELECT SCF_RequestId LIMIT 10000")},
		{id: "S10", form: "`offset 10 limit 5`", page: pLimit, want: accept, req: sql("SELECT SCF_RequestId ORDER BY SCF_RequestId offset 10 limit 5"),
			check: nRows(5)},
		{id: "S11", form: "`LIMIT 10, 5`", page: pLimit, want: se, note: "documented nowhere; the older LIMIT page: \"LIMIT 不支持 [offset] rows 语法\"",
			req: sql("SELECT SCF_RequestId LIMIT 10, 5")},
		{id: "S12", form: "`LIMIT 5 OFFSET 10`", page: pLimit, want: se, silent: true, req: sql("SELECT SCF_RequestId LIMIT 5 OFFSET 10")},
		{id: "S13", form: "`LIMIT 10001`; `OFFSET 9000 LIMIT 1001`", page: pLimit, want: qe, silent: true, note: "\"最大10000\"; OFFSET counted too",
			req: sql("SELECT SCF_RequestId OFFSET 9000 LIMIT 1001")},
		{id: "S13b", form: "`LIMIT 10001`", page: pLimit, want: qe, req: sql("SELECT SCF_RequestId LIMIT 10001")},
		{id: "S14", form: "LIMIT inside a subquery", page: pLimit, want: se, note: "\"不支持将 limit 语法用于子查询内部\"",
			req: sql("SELECT count(*) FROM (SELECT SCF_RequestId LIMIT 5)")},
		{id: "S15", form: "`ORDER BY a DESC, b` (ASC by default)", page: pOrderBy, want: accept,
			req: sql("SELECT SCF_StatusCode, SCF_RequestId ORDER BY SCF_StatusCode DESC, SCF_RequestId")},
		{id: "S16", form: "`ORDER BY round(x)` or arithmetic", page: pSQLLimits, want: qe, req: sql("SELECT SCF_Duration ORDER BY SCF_Duration + 1")},
		{id: "S17", form: "`count_if`, `avg`, `max`, `min`, `sum`, `count(col)`, `count(1)`", page: pAggregate, want: accept,
			req: sql("SELECT count_if(SCF_StatusCode = 200) AS ok, avg(SCF_Duration) AS a, max(SCF_StartTime) AS mx, min(SCF_MemUsage) AS mn, " +
				"sum(SCF_RetryNum) AS s, count(SCF_RequestId) AS c, count(1) AS one"),
			check: func(t *testing.T, r *SearchLogResponse) {
				want := []Column{{"ok", "bigint"}, {"a", "double"}, {"mx", "bigint"}, {"mn", "double"}, {"s", "bigint"}, {"c", "bigint"}, {"one", "bigint"}}
				if !slices.Equal(r.Columns, want) {
					t.Errorf("columns %v", r.Columns)
				}
			}},
		{id: "S18", form: "`=` `<>` `!=` `<` `<=` `>` `>=` `BETWEEN` `IN` `LIKE` `IS NULL` `AND` `OR` `NOT`", page: pWhere + ", " + pOperators, want: accept,
			req: sql("SELECT count(*) WHERE SCF_StatusCode <> 1 AND SCF_StatusCode != 2 AND SCF_StatusCode BETWEEN 200 AND 500 AND " +
				"SCF_Qualifier IN ('$LATEST', '2') AND SCF_Message LIKE 'Report_RequestId%' AND NOT SCF_Alias IS NULL AND " +
				"(SCF_Duration < 100000 OR SCF_Duration >= 100000) AND SCF_RetryNum <= 2 AND SCF_RetryNum > -1 AND SCF_Type = 'Platform'")},
		{id: "S18b", form: "`SCF_StatusCode = '200'` (a number compared with text)", page: pOperators, want: qe, silent: true,
			req: sql("SELECT count(*) WHERE SCF_StatusCode = '200'")},
		{id: "S19", form: "`'it''s'`, `\"Column Name\"`", page: pSyntax, want: accept, req: sql(`SELECT count(*) AS "Total Count" WHERE "SCF_Alias" <> 'it''s'`),
			check: func(t *testing.T, r *SearchLogResponse) {
				if rows(t, r)[0]["Total Count"] == nil {
					t.Errorf("records %v", r.AnalysisRecords)
				}
			}},
		{id: "S20", form: "`` `col` `` backticks", page: pSyntax, want: se, silent: true, note: "only double quotes are documented",
			req: sql("SELECT count(`SCF_RequestId`)")},
		{id: "S21", form: "keywords in any case", page: pSyntax, want: accept, req: sql("select COUNT(*) As n wHeRe SCF_StatusCode = 200")},
		{id: "S22", form: "`scf_statuscode` (a column in another case)", page: pSyntax, want: qe, silent: true, note: "columns are matched as written",
			req: sql("SELECT count(scf_statuscode)")},
		{id: "S23", form: "`__TIMESTAMP__`, `\"__TIMESTAMP__\"`, `cast(__TIMESTAMP__ as timestamp)`", page: pSelect + ", " + pGroupBy, want: accept,
			req: sql(`SELECT max(__TIMESTAMP__) AS t, max("__TIMESTAMP__") AS q, max(cast(__TIMESTAMP__ as timestamp)) AS ts`),
			check: func(t *testing.T, r *SearchLogResponse) {
				row := rows(t, r)[0]
				if row["t"] != row["q"] || r.Columns[2].Type != "timestamp" {
					t.Errorf("row %v, columns %v", row, r.Columns)
				}
			}},
		{id: "S24", form: "`FROM (SELECT …)` and `FROM log`", page: pNested + ", [614/120583](https://cloud.tencent.com/document/product/614/120583)", want: accept,
			req: sql("SELECT count(*) AS n FROM (SELECT SCF_StatusCode, count(*) AS c FROM log GROUP BY SCF_StatusCode)"), check: nRows(1)},
		{id: "S24b", form: "`GROUP BY … HAVING count(*) > 1`", page: "[614/70791](https://cloud.tencent.com/document/product/614/70791)", want: accept,
			req: sql("SELECT SCF_RetryNum, count(*) AS c GROUP BY SCF_RetryNum HAVING count(*) > 1000000"), check: nRows(0)},
		{id: "S25", form: "a trailing `;`", page: pSyntax, want: accept, note: "\"不需要在末尾加分号\": optional", req: sql("SELECT count(*);")},
		{id: "S26", form: "string `=` is case-sensitive", page: pOperators, want: accept, silent: true, req: sql("SELECT count(*) AS n WHERE SCF_Type = 'platform'"),
			check: func(t *testing.T, r *SearchLogResponse) {
				if n := rows(t, r)[0]["n"]; n != json.Number("0") {
					t.Errorf("n = %v", n)
				}
			}},
		{id: "S27", form: "answer: `Analysis` true, `Results` [], record keys = `Columns[].Name` as written, numbers as JSON numbers, avg of no rows null",
			page: pTccli + ", Tencent's Grafana plugin", want: accept,
			req: sql("SELECT count(*) AS Total, avg(SCF_Duration) AS avgDuration WHERE SCF_StatusCode = 999"), check: func(t *testing.T, r *SearchLogResponse) {
				if !r.Analysis || r.Results == nil || len(r.Results) != 0 || len(r.AnalysisRecords) != 1 ||
					r.AnalysisRecords[0] != `{"Total":0,"avgDuration":null}` || r.Columns[0].Name != "Total" {
					t.Errorf("answer %+v", r)
				}
			}},
	}
}

func TestConformance(t *testing.T) {
	a := testAPI(t)
	ids := map[string]bool{}
	for _, row := range conformanceTable() {
		if ids[row.id] {
			t.Fatalf("row %s twice", row.id)
		}
		ids[row.id] = true
		t.Run(row.id, func(t *testing.T) {
			resp, e := search(t, a, row.req)
			got := accept
			if e != nil {
				got = e.Code
			}
			if got != row.want {
				msg := ""
				if e != nil {
					msg = e.Message
				}
				t.Fatalf("%s: %s %s, want %s", row.form, got, msg, row.want)
			}
			if e == nil && row.check != nil {
				row.check(t, resp)
			}
		})
	}
}

// docs/cls-conformance.md is the table above, rendered: go test -run
// TestConformanceDoc -update rewrites it.
func TestConformanceDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString(`# CLS conformance of the simulator

What the simulator's CLS (internal/tencentsim/cls) answers for each form of a SearchLog call, and the Tencent page
that documents the form. "silent" marks forms Tencent's pages say nothing about: the verdict is the simulator's, the
stricter reading unless the note says why not. Every row is a test (internal/tencentsim/cls/conformance_test.go, TestConformance); this file is generated
from that table by ` + "`go test ./internal/tencentsim/cls -run TestConformanceDoc -update`" + ` and checked by the same
test, so the two cannot drift.

Codes: FailedOperation.SyntaxError (a statement that does not parse), FailedOperation.QueryError (one that parses but
cannot run: Tencent's FAQ, 614/44224, shows these as "QueryError [...]"), InvalidParameter, MissingParameter,
FailedOperation.InvalidContext, ResourceNotFound.TopicNotExist. R = request level, C = CQL (SyntaxRule/QuerySyntax 1),
L = Lucene (SyntaxRule 0, and Query without SyntaxRule), S = SQL (after "|").

| # | form | page | verdict | silent | note |
|---|---|---|---|---|---|
`)
	for _, r := range conformanceTable() {
		silent := ""
		if r.silent {
			silent = "silent"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.id, strings.ReplaceAll(r.form, "|", "\\|"), r.page, r.want, silent,
			strings.ReplaceAll(r.note, "|", "\\|"))
	}
	path := filepath.Join("..", "..", "..", "docs", "cls-conformance.md")
	if *updateDoc {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestConformanceDoc -update)", err)
	}
	if string(want) != b.String() {
		t.Errorf("docs/cls-conformance.md differs from the conformance table: run go test -run TestConformanceDoc -update")
	}
}

// The forms mudscf sends (translate/cls's golden requests) are accepted,
// each on the simulator's own clock.
func TestMudscfFormsAccepted(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "translate", "cls", "testdata", "queries.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden []struct {
		Name    string
		Request call
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	a := testAPI(t)
	for _, g := range golden {
		g.Request["TopicId"] = sharedTopic
		if _, e := search(t, a, g.Request); e != nil {
			t.Errorf("%s: %s %s", g.Name, e.Code, e.Message)
		}
	}
	if len(golden) < 5 {
		t.Fatalf("only %d golden requests", len(golden))
	}
}
