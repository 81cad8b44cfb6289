package cls

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/cls/analysis"
	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// Service is CLS's TC3 credential-scope service, Version its API version;
// the actions served follow.
const (
	Service             = "cls"
	Version             = "2020-10-16"
	ActionSearchLog     = "SearchLog"
	ActionDescribeIndex = "DescribeIndex"
)

// From the SearchLog page (614/56447) and the SDK models: a statement of
// at most 12 KB, or 12,000 characters by the limits page (614/86845): the
// smaller, 12,000 bytes, is kept. Limit 100 by default, at most 1000;
// Context reaches at most MaxContextLogs raw logs and expires after
// ContextTTL; Topics names at most 50 topics, whose logs are kept 7 days
// (SCF's default, 583/39778).
const (
	maxStatementBytes  = 12000
	defaultSearchLimit = 100
	maxSearchLimit     = 1000
	MaxContextLogs     = 10000
	ContextTTL         = time.Hour
	maxTopics          = 50
	retentionDays      = 7
	// maxKeep bounds the raw logs one call holds to page past an Offset
	// (documented without a cap): beyond it the call fails as Tencent's
	// does when a search runs out of memory.
	maxKeep = 1 << 20
)

// API answers SearchLog and DescribeIndex on the topics the simulated
// functions deliver to.
type API struct {
	now    func() time.Time
	topics map[string]*Topic // by topic ID
	// ctxKey authenticates Context tokens, so a forged or altered cursor
	// is FailedOperation.InvalidContext rather than a wrong page.
	ctxKey []byte
}

// Config is what New needs beyond the functions.
type Config struct {
	// Seed keys the Context tokens: simulators with the same seed accept
	// each other's.
	Seed int64
	Now  func() time.Time
	// IndexCreated is when the topics' indexes were created (ModifyTime).
	IndexCreated time.Time
	// NoStatistics names topics whose index has statistics (SqlFlag) off
	// on every key, so that SQL on them fails.
	NoStatistics map[string]bool
}

// New serves the topics of fns (Function.ClsTopicID, which must be set):
// a topic holds every function that delivers to it.
func New(fns []*invocations.Model, cfg Config) *API {
	a := &API{now: cfg.Now, topics: map[string]*Topic{}}
	for _, f := range fns {
		t := a.topics[f.ClsTopicID]
		if t == nil {
			t = &Topic{ID: f.ClsTopicID, Region: f.Region, LogsetID: f.ClsLogsetID,
				Name:     "SCF_logtopic_" + invocations.NameSuffix("topic", f.ClsTopicID),
				Index:    Index{CaseSensitive: true, Delimiters: scfDelimiters, Statistics: !cfg.NoStatistics[f.ClsTopicID], ModifyTime: cfg.IndexCreated},
				maxDurNs: int64(3 * time.Second)}
			a.topics[t.ID] = t
		}
		t.fns = append(t.fns, f)
		t.maxDurNs = max(t.maxDurNs, f.TimeoutMs*int64(time.Millisecond))
	}
	k := sha256.Sum256([]byte("mudscf cls context " + strconv.FormatInt(cfg.Seed, 10)))
	a.ctxKey = k[:]
	return a
}

// Topic returns the topic id, if it exists.
func (a *API) Topic(id string) (*Topic, bool) {
	t, ok := a.topics[id]
	return t, ok
}

// searchLogParams are SearchLog's parameters as sent. Query/SyntaxRule are
// the deprecated pair (Lucene by default), QueryString/QuerySyntax their
// successors (CQL by default); both are accepted, not together.
type searchLogParams struct {
	From           *int64       `json:"From"`
	To             *int64       `json:"To"`
	Query          *string      `json:"Query"`
	SyntaxRule     *uint64      `json:"SyntaxRule"`
	QueryString    *string      `json:"QueryString"`
	QuerySyntax    *uint64      `json:"QuerySyntax"`
	TopicId        *string      `json:"TopicId"`
	Topics         []multiTopic `json:"Topics"`
	Sort           *string      `json:"Sort"`
	Limit          *int64       `json:"Limit"`
	Offset         *uint64      `json:"Offset"`
	Context        *string      `json:"Context"`
	SamplingRate   *float64     `json:"SamplingRate"`
	UseNewAnalysis *bool        `json:"UseNewAnalysis"`
	HighLight      *bool        `json:"HighLight"`
}

type multiTopic struct {
	TopicId *string `json:"TopicId"`
	Context *string `json:"Context"`
}

// The answer, field for field the SDKs' SearchLogResponse and LogInfo
// (tencentcloud-sdk-nodejs cls_models.d.ts). A nil slice or pointer is
// sent as null: Tencent sends null for the fields its models say "may
// return null", as its own examples show (tccli cls SearchLog.md).
type (
	// SearchLogResponse is the "Response" object of a successful SearchLog.
	SearchLogResponse struct {
		Context         string           `json:"Context"`
		ListOver        bool             `json:"ListOver"`
		Analysis        bool             `json:"Analysis"`
		Results         []LogInfo        `json:"Results"`
		ColNames        []string         `json:"ColNames"`
		AnalysisResults []LogItems       `json:"AnalysisResults"`
		AnalysisRecords []string         `json:"AnalysisRecords"`
		Columns         []Column         `json:"Columns"`
		SamplingRate    float64          `json:"SamplingRate"`
		Topics          *SearchLogTopics `json:"Topics"`
		RequestId       string           `json:"RequestId"`
	}
	// LogInfo is one raw log record.
	LogInfo struct {
		Time        int64       `json:"Time"`
		TopicId     string      `json:"TopicId"`
		TopicName   string      `json:"TopicName"`
		Source      string      `json:"Source"`
		FileName    string      `json:"FileName"`
		PkgId       string      `json:"PkgId"`
		PkgLogId    string      `json:"PkgLogId"`
		HighLights  []HighLight `json:"HighLights"`
		LogJson     string      `json:"LogJson"`
		HostName    string      `json:"HostName"`
		RawLog      string      `json:"RawLog"`
		IndexStatus string      `json:"IndexStatus"`
	}
	// HighLight is a highlighted key and its values.
	HighLight struct {
		Key    string   `json:"Key"`
		Values []string `json:"Values"`
	}
	// LogItems is one row of an analysis in the old format.
	LogItems struct {
		Data []LogItem `json:"Data"`
	}
	// LogItem is one cell of such a row.
	LogItem struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
	// Column names and types a column of an analysis in the new format.
	Column struct {
		Name string `json:"Name"`
		Type string `json:"Type"`
	}
	// SearchLogTopics is the per-topic part of a multi-topic answer.
	SearchLogTopics struct {
		Errors []SearchLogErrors `json:"Errors"`
		Infos  []SearchLogInfos  `json:"Infos"`
	}
	// SearchLogErrors is a topic a multi-topic search could not search.
	SearchLogErrors struct {
		TopicId      string `json:"TopicId"`
		ErrorMsg     string `json:"ErrorMsg"`
		ErrorCodeStr string `json:"ErrorCodeStr"`
	}
	// SearchLogInfos is a topic a multi-topic search searched, and its Context.
	SearchLogInfos struct {
		TopicId string `json:"TopicId"`
		Period  int64  `json:"Period"`
		Context string `json:"Context"`
	}
)

func typeErrorOf(err error) *tcapi.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return tcapi.TypeError(te.Field, te.Type.Kind().String())
	}
	return tcapi.Errorf("InvalidParameter", "The request body is not a valid JSON object: %v.", err)
}

// decodeParams reads a JSON POST body (unknown fields refused) into p.
func decodeParams(r *http.Request, body []byte, p any) *tcapi.Error {
	if !tcapi.IsContentType(r.Header.Get("Content-Type"), "application/json") {
		return tcapi.Errorf("InvalidParameter", "Content-Type `%s` is not supported; use application/json.",
			r.Header.Get("Content-Type"))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return tcapi.UnknownParameter(strings.Trim(name, `"`))
		}
		return typeErrorOf(err)
	}
	return nil
}

// parseSearchLogParams reads a JSON POST body or, for GET, the query
// string (scalars only; Topics needs a body).
func parseSearchLogParams(r *http.Request, body []byte) (*searchLogParams, *tcapi.Error) {
	p := &searchLogParams{}
	if r.Method == http.MethodPost {
		return p, decodeParams(r, body, p)
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, tcapi.Errorf("InvalidParameter", "The query string cannot be parsed: %v.", err)
	}
	ints := map[string]**int64{"From": &p.From, "To": &p.To, "Limit": &p.Limit}
	uints := map[string]**uint64{"SyntaxRule": &p.SyntaxRule, "QuerySyntax": &p.QuerySyntax, "Offset": &p.Offset}
	strs := map[string]**string{"TopicId": &p.TopicId, "Sort": &p.Sort, "Context": &p.Context, "Query": &p.Query,
		"QueryString": &p.QueryString}
	bools := map[string]**bool{"UseNewAnalysis": &p.UseNewAnalysis, "HighLight": &p.HighLight}
	for k, vs := range vals {
		v := vs[0]
		switch {
		case tcapi.IsCommonParam(k):
		case ints[k] != nil:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, tcapi.TypeError(k, "Integer")
			}
			*ints[k] = &n
		case uints[k] != nil:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, tcapi.TypeError(k, "Integer")
			}
			*uints[k] = &n
		case strs[k] != nil:
			*strs[k] = &v
		case bools[k] != nil:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, tcapi.TypeError(k, "Boolean")
			}
			*bools[k] = &b
		case k == "SamplingRate":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, tcapi.TypeError(k, "Float")
			}
			p.SamplingRate = &f
		default:
			return nil, tcapi.UnknownParameter(k)
		}
	}
	return p, nil
}

// Plan is a checked SearchLog call, ready to run.
type Plan struct {
	topics      []*Topic // searched, in the order named
	multi       bool     // named by Topics
	missing     []string // Topics entries that do not exist
	win         window
	cond        cond
	sql         *analysis.Statement
	desc        bool
	limit       int
	offset      int
	after       []*cursor // per topic: the position a Context resumes after
	fingerprint [][8]byte // per topic, of every parameter but Context and Offset
	newAnalysis bool
}

// TopicIDs are the topics the call searches, whose concurrency it uses.
func (q *Plan) TopicIDs() []string {
	ids := make([]string, len(q.topics))
	for i, t := range q.topics {
		ids[i] = t.ID
	}
	return ids
}

// splitQuery cuts "condition | sql" at the first | outside quotes.
func splitQuery(q string) (cond, sql string, hasSQL bool) {
	var quote byte
	for i := 0; i < len(q); i++ {
		switch ch := q[i]; {
		case quote != 0:
			switch ch {
			case '\\':
				i++
			case quote:
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '|':
			return q[:i], q[i+1:], true
		}
	}
	return q, "", false
}

// Plan reads and checks a SearchLog call for region: its parameters, its
// topics, its statement and its Context.
func (a *API) Plan(r *http.Request, body []byte, region string) (*Plan, *tcapi.Error) {
	p, e := parseSearchLogParams(r, body)
	if e != nil {
		return nil, e
	}
	return a.plan(p, region, a.now())
}

func invalid(format string, args ...any) *tcapi.Error {
	return tcapi.Errorf("InvalidParameter", format, args...)
}

func (a *API) plan(p *searchLogParams, region string, now time.Time) (*Plan, *tcapi.Error) {
	switch {
	case p.From == nil:
		return nil, tcapi.Errorf("MissingParameter", "The request is missing a required parameter `From`.")
	case p.To == nil:
		return nil, tcapi.Errorf("MissingParameter", "The request is missing a required parameter `To`.")
	case *p.From > *p.To:
		return nil, invalid("`From` must not be later than `To`: the window is [From, To).")
	case (p.TopicId != nil) == (p.Topics != nil):
		return nil, invalid("Name exactly one of `TopicId` and `Topics`.")
	case p.Query != nil && p.QueryString != nil:
		return nil, invalid("`Query` is deprecated for `QueryString`: send one of them, not both.")
	case p.Context != nil && p.Offset != nil:
		return nil, invalid("`Context` and `Offset` cannot be used together.")
	case p.Topics != nil && (len(p.Topics) == 0 || len(p.Topics) > maxTopics):
		return nil, invalid("`Topics` names 1 to %d topics.", maxTopics)
	case p.Topics != nil && (p.Offset != nil || p.Context != nil):
		return nil, invalid("`Offset` and `Context` apply to one topic; a multi-topic search pages with each topic's `Context` in `Topics`.")
	case p.SamplingRate != nil && !(*p.SamplingRate >= 0 && *p.SamplingRate <= 1):
		return nil, invalid("`SamplingRate` must be between 0 and 1.")
	}
	// Query and SyntaxRule default to Lucene, QueryString and QuerySyntax
	// to CQL (SDK models since 2026-04: "Query默认使用Lucene语法，QueryString
	// 默认使用CQL语法").
	query, syntax := "", uint64(1)
	switch {
	case p.QueryString != nil:
		query = *p.QueryString
		if p.QuerySyntax != nil {
			syntax = *p.QuerySyntax
		}
		if p.SyntaxRule != nil {
			return nil, invalid("`SyntaxRule` goes with `Query`; `QueryString` takes `QuerySyntax`.")
		}
	case p.Query != nil:
		query, syntax = *p.Query, 0
		if p.SyntaxRule != nil {
			syntax = *p.SyntaxRule
		}
		if p.QuerySyntax != nil {
			return nil, invalid("`QuerySyntax` goes with `QueryString`; `Query` takes `SyntaxRule`.")
		}
	}
	if syntax > 1 {
		return nil, invalid("The syntax rule must be 0 (Lucene) or 1 (CQL).")
	}
	if len(query) > maxStatementBytes {
		return nil, invalid("The statement is %d bytes; at most %d.", len(query), maxStatementBytes)
	}
	q := &Plan{limit: defaultSearchLimit, newAnalysis: p.UseNewAnalysis != nil && *p.UseNewAnalysis}
	q.win = window{lo: msToNs(float64(*p.From)), hi: msToNs(float64(*p.To)), now: invocations.Nanos(now)}
	if p.Sort == nil || *p.Sort == "desc" {
		q.desc = true
	} else if *p.Sort != "asc" {
		return nil, invalid("`Sort` must be asc or desc, not `%s`.", *p.Sort)
	}
	if p.Limit != nil {
		if *p.Limit < 1 || *p.Limit > maxSearchLimit {
			return nil, invalid("`Limit` must be between 1 and %d.", maxSearchLimit)
		}
		q.limit = int(*p.Limit)
	}
	if p.Offset != nil {
		if *p.Offset > maxKeep {
			return nil, tcapi.Errorf("LimitExceeded.SearchResources", "The search is out of memory: Offset %d.", *p.Offset)
		}
		q.offset = int(*p.Offset)
	}
	var names []string
	if p.TopicId != nil {
		names = []string{*p.TopicId}
	}
	for i, mt := range p.Topics {
		if mt.TopicId == nil {
			return nil, tcapi.Errorf("MissingParameter", "The request is missing a required parameter `Topics.%d.TopicId`.", i)
		}
		names = append(names, *mt.TopicId)
	}
	q.multi = p.Topics != nil
	for _, id := range names {
		t := a.topics[id]
		switch {
		case t == nil || t.Region != region:
			if !q.multi {
				return nil, tcapi.Errorf("ResourceNotFound.TopicNotExist", "The topic `%s` does not exist.", id)
			}
			q.missing = append(q.missing, id)
		case slices.Contains(q.topics, t):
			return nil, invalid("`Topics` names `%s` twice.", id)
		default:
			q.topics = append(q.topics, t)
		}
	}
	if len(q.topics) == 0 {
		return nil, tcapi.Errorf("ResourceNotFound.TopicNotExist", "None of the topics exists.")
	}
	ix := &q.topics[0].Index
	condText, sqlText, hasSQL := splitQuery(query)
	var err error
	if syntax == 1 {
		q.cond, err = parseCQL(condText, ix)
	} else {
		q.cond, err = parseLucene(condText, ix)
	}
	if err != nil {
		return nil, statementError(err)
	}
	q.cond = simplify(q.cond, ix)
	if hasSQL {
		if q.multi {
			// 614/90807: "仅支持检索原始日志，暂不支持使用 SQL 进行统计分析".
			return nil, tcapi.Errorf("FailedOperation.QueryError", "QueryError [a multi-topic search returns raw logs only; SQL is not supported]")
		}
		if q.sql, err = analysis.Parse(sqlText, logColumns, ix.Statistics); err != nil {
			return nil, statementError(err)
		}
		return q, nil // Context, Offset, Limit and Sort only apply to raw logs
	}
	for i, t := range q.topics {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%q\x00%d\x00%t\x00%d", t.ID, *p.From, *p.To, query, syntax, q.desc, q.limit)
		q.fingerprint = append(q.fingerprint, [8]byte(h.Sum(nil)))
		var tok *string
		if q.multi {
			tok = p.Topics[slices.IndexFunc(p.Topics, func(m multiTopic) bool { return *m.TopicId == t.ID })].Context
		} else {
			tok = p.Context
		}
		var c *cursor
		if tok != nil && *tok != "" {
			var ok bool
			if c, ok = a.openCursor(*tok, q.fingerprint[i], now); !ok {
				return nil, tcapi.Errorf("FailedOperation.InvalidContext", "The search cursor is invalid or has expired.")
			}
		}
		q.after = append(q.after, c)
	}
	return q, nil
}

func statementError(err error) *tcapi.Error {
	var se *analysis.SyntaxError
	var qe *analysis.QueryError
	switch {
	case errors.As(err, &se):
		return tcapi.Errorf("FailedOperation.SyntaxError", "%s", se.Msg)
	case errors.As(err, &qe):
		return tcapi.Errorf("FailedOperation.QueryError", "%s", qe.Msg)
	}
	return tcapi.Errorf("FailedOperation", "%v", err)
}

// Search runs a planned call; scanned is the records it examined.
func (a *API) Search(q *Plan) (resp *SearchLogResponse, scanned int64, e *tcapi.Error) {
	if q.sql != nil {
		return q.analyse()
	}
	now := a.now()
	resp = &SearchLogResponse{Results: []LogInfo{}, ColNames: []string{}, AnalysisResults: []LogItems{}, ListOver: true}
	type topicHits struct {
		t    *Topic
		hits []hit
	}
	var all []topicHits
	var merged []hit
	for i, t := range q.topics {
		k := q.offset + q.limit + 1
		if k > maxKeep {
			return nil, scanned, tcapi.Errorf("LimitExceeded.SearchResources", "The search is out of memory.")
		}
		var after *position
		if q.after[i] != nil && q.after[i].started {
			after = &q.after[i].last
		}
		hits, n := t.raw(q.cond, q.win, q.desc, after, k)
		scanned += n
		all = append(all, topicHits{t, hits})
		merged = append(merged, hits...)
	}
	cmpHits := order(q.desc)
	slices.SortStableFunc(merged, func(x, y hit) int { return cmpHits(&x, &y) })
	start := min(q.offset, len(merged))
	end := min(start+q.limit, len(merged))
	returned := 0
	if !q.multi && q.after[0] != nil {
		returned = q.after[0].returned
	}
	capped := false
	if returned+end-start >= MaxContextLogs && !q.multi {
		end, capped = start+MaxContextLogs-returned, true
	}
	page := merged[start:end]
	for i := range page {
		resp.Results = append(resp.Results, logInfo(q.topicOf(&page[i]), &page[i].rec))
	}
	resp.ListOver = end >= len(merged)
	if !q.multi {
		if !resp.ListOver && !capped && len(page) > 0 {
			c := &cursor{started: true, last: page[len(page)-1].pos, returned: returned + len(page)}
			resp.Context = a.sealCursor(c, q.fingerprint[0], now)
		}
		return resp, scanned, nil
	}
	// Each topic's Context resumes after its last log on this page, or
	// where it was if it gave none.
	resp.Topics = &SearchLogTopics{Errors: []SearchLogErrors{}, Infos: []SearchLogInfos{}}
	for _, id := range q.missing {
		resp.Topics.Errors = append(resp.Topics.Errors, SearchLogErrors{TopicId: id,
			ErrorMsg: "The topic does not exist.", ErrorCodeStr: "ResourceNotFound.TopicNotExist"})
	}
	for i, th := range all {
		c := q.after[i]
		if c == nil {
			c = &cursor{}
		}
		for j := range page {
			if q.topicOf(&page[j]) == th.t {
				c = &cursor{started: true, last: page[j].pos, returned: c.returned + 1}
			}
		}
		resp.Topics.Infos = append(resp.Topics.Infos, SearchLogInfos{TopicId: th.t.ID, Period: retentionDays,
			Context: a.sealCursor(c, q.fingerprint[i], now)})
	}
	return resp, scanned, nil
}

// topicOf is the topic a hit came from.
func (q *Plan) topicOf(h *hit) *Topic {
	for _, t := range q.topics {
		if slices.Contains(t.fns, h.rec.r.Model) {
			return t
		}
	}
	return q.topics[0]
}

func logInfo(t *Topic, c *record) LogInfo {
	return LogInfo{
		Time:       c.line.TimeNs / int64(time.Millisecond),
		TopicId:    t.ID,
		TopicName:  t.Name,
		PkgId:      strings.ToUpper(strconv.FormatUint(c.r.Model.Key()^uint64(c.r.Index), 16)) + "-" + strconv.FormatInt(c.r.Index, 16),
		PkgLogId:   strconv.Itoa(int(c.line.Kind)),
		HighLights: []HighLight{},
		LogJson:    c.logJSON(),
	}
}

// analyse runs the SQL of a single-topic call.
func (q *Plan) analyse() (*SearchLogResponse, int64, *tcapi.Error) {
	t := q.topics[0]
	var scanned int64
	res, err := q.sql.Run(func(yield func(analysis.Row) bool) {
		scanned = t.scan(q.cond, q.win, func(_ *record, x *evalCtx) bool { return yield(recordRow{x}) })
	})
	if err != nil {
		return nil, scanned, tcapi.Errorf("LimitExceeded.SearchResources", "The analysis is out of memory: %v.", err)
	}
	resp := &SearchLogResponse{Analysis: true, ListOver: true, Results: []LogInfo{}, SamplingRate: 1}
	cols := q.sql.Columns()
	if q.newAnalysis {
		resp.ColNames, resp.AnalysisResults = []string{}, []LogItems{}
		resp.AnalysisRecords, resp.Columns = res.Records(), []Column{}
		for _, c := range cols {
			resp.Columns = append(resp.Columns, Column{Name: c.Name, Type: string(c.Type)})
		}
		return resp, scanned, nil
	}
	resp.AnalysisRecords, resp.Columns = []string{}, []Column{}
	resp.ColNames, resp.AnalysisResults = []string{}, []LogItems{}
	for _, c := range cols {
		resp.ColNames = append(resp.ColNames, c.Name)
	}
	for _, row := range res.Cells() {
		items := LogItems{Data: []LogItem{}}
		for j, c := range cols {
			items.Data = append(items.Data, LogItem{Key: c.Name, Value: row[j]})
		}
		resp.AnalysisResults = append(resp.AnalysisResults, items)
	}
	return resp, scanned, nil
}

// cursor is the position a Context token resumes after.
type cursor struct {
	started  bool // false: nothing returned yet (a multi-topic search's topic)
	last     position
	returned int // raw logs served through the Context chain so far
}

const cursorBody = 1 + 8 + 8 + 1 + 8 + 8 + 1 + 1 + 8 + 4

// sealCursor encodes a cursor as an opaque token: fingerprint of the
// query, expiry, position, count, and a MAC over all of it.
func (a *API) sealCursor(c *cursor, fp [8]byte, now time.Time) string {
	b := make([]byte, 0, cursorBody+16)
	b = append(b, 2) // format version
	b = append(b, fp[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(now.Add(ContextTTL).Unix()))
	b = append(b, byte(boolInt(c.started)))
	b = binary.BigEndian.AppendUint64(b, uint64(c.last.timeNs))
	b = binary.BigEndian.AppendUint64(b, c.last.fnKey)
	b = append(b, byte(boolInt(c.last.provision)), byte(c.last.line))
	b = binary.BigEndian.AppendUint64(b, uint64(c.last.index))
	b = binary.BigEndian.AppendUint32(b, uint32(c.returned))
	m := hmac.New(sha256.New, a.ctxKey)
	m.Write(b)
	b = m.Sum(b)[:len(b)+16]
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *API) openCursor(tok string, fp [8]byte, now time.Time) (*cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != cursorBody+16 || b[0] != 2 {
		return nil, false
	}
	m := hmac.New(sha256.New, a.ctxKey)
	m.Write(b[:cursorBody])
	if !hmac.Equal(m.Sum(nil)[:16], b[cursorBody:]) || !bytes.Equal(b[1:9], fp[:]) {
		return nil, false
	}
	if now.Unix() > int64(binary.BigEndian.Uint64(b[9:17])) {
		return nil, false
	}
	c := &cursor{started: b[17] == 1}
	c.last.timeNs = int64(binary.BigEndian.Uint64(b[18:26]))
	c.last.fnKey = binary.BigEndian.Uint64(b[26:34])
	c.last.provision = b[34] == 1
	c.last.line = invocations.LineKind(b[35])
	c.last.index = int64(binary.BigEndian.Uint64(b[36:44]))
	c.returned = int(binary.BigEndian.Uint32(b[44:48]))
	return c, true
}
