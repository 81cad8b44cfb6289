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

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// Service is CLS's TC3 credential-scope service, Version its API version
// and ActionSearchLog the one action served.
const (
	Service         = "cls"
	Version         = "2020-10-16"
	ActionSearchLog = "SearchLog"
)

// From the SearchLog page and the SDK models: Query at most 12 KB; Limit
// 100 by default, at most 1000; Context reaches at most MaxContextLogs raw
// logs and expires after ContextTTL.
const (
	maxQueryBytes      = 12 << 10
	defaultSearchLimit = 100
	maxSearchLimit     = 1000
	MaxContextLogs     = 10000
	ContextTTL         = time.Hour
)

// clsTopic is a function's log topic.
type clsTopic struct {
	id, name string
	fn       *invocations.Model
}

// API answers SearchLog on the topics the simulated functions deliver to.
type API struct {
	now    func() time.Time
	topics map[string]*clsTopic // by topic ID
	// ctxKey authenticates Context tokens, so a forged or altered cursor
	// is FailedOperation.InvalidContext rather than a wrong page.
	ctxKey []byte
}

// New serves the topics of fns (Function.ClsTopicID); seed keys the
// Context tokens, so simulators with the same seed accept each other's.
func New(fns []*invocations.Model, seed int64, now func() time.Time) *API {
	st := &API{now: now, topics: map[string]*clsTopic{}}
	for _, f := range fns {
		// SCF's default delivery names topics "SCF_logtopic...".
		st.topics[f.ClsTopicID] = &clsTopic{id: f.ClsTopicID, name: "SCF_logtopic_" + f.Namespace + "_" + f.Name, fn: f}
	}
	k := sha256.Sum256([]byte("mudscf cls context " + strconv.FormatInt(seed, 10)))
	st.ctxKey = k[:]
	return st
}

// searchLogParams are SearchLog's parameters as sent. Query/SyntaxRule are
// the deprecated pair (Lucene by default), QueryString/QuerySyntax their
// successors (CQL by default); both are accepted.
type searchLogParams struct {
	From           *int64       `json:"From"`
	To             *int64       `json:"To"`
	Query          *string      `json:"Query"`
	SyntaxRule     *uint64      `json:"SyntaxRule"`
	QueryString    *string      `json:"QueryString"`
	QuerySyntax    *uint64      `json:"QuerySyntax"`
	TopicId        string       `json:"TopicId"`
	Topics         []multiTopic `json:"Topics"`
	Sort           string       `json:"Sort"`
	Limit          *int64       `json:"Limit"`
	Offset         *int64       `json:"Offset"`
	Context        string       `json:"Context"`
	SamplingRate   *float64     `json:"SamplingRate"`
	UseNewAnalysis bool         `json:"UseNewAnalysis"`
	HighLight      bool         `json:"HighLight"`
}

type multiTopic struct {
	TopicId string `json:"TopicId"`
	Context string `json:"Context"`
}

// The answer, field for field the SDKs' SearchLogResponse and LogInfo:
// the simulator's own types, not its client's, so that a misspelt field
// cannot agree with itself across the wire.
type (
	// SearchLogResponse is the "Response" object of a successful SearchLog.
	SearchLogResponse struct {
		Context         string     `json:"Context"`
		ListOver        bool       `json:"ListOver"`
		Analysis        bool       `json:"Analysis"`
		Results         []LogInfo  `json:"Results"`
		ColNames        []string   `json:"ColNames"`
		AnalysisResults []LogItems `json:"AnalysisResults"`
		AnalysisRecords []string   `json:"AnalysisRecords"`
		Columns         []Column   `json:"Columns"`
		SamplingRate    float64    `json:"SamplingRate"`
		Topics          *struct{}  `json:"Topics"`
		RequestId       string     `json:"RequestId"`
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
)

// Plan reads and checks a SearchLog call for region: its parameters,
// its topic, its query and its Context.
func (a *API) Plan(r *http.Request, body []byte, region string) (*Plan, *tcapi.Error) {
	p, e := parseSearchLogParams(r, body)
	if e != nil {
		return nil, e
	}
	return a.plan(p, region, a.now())
}

func typeErrorOf(err error) *tcapi.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return tcapi.TypeError(te.Field, te.Type.Kind().String())
	}
	return tcapi.Errorf("InvalidParameter", "The request body is not a valid JSON object: %v.", err)
}

// parseSearchLogParams reads a JSON POST body or, for GET, the query
// string (scalars only; Topics needs a body).
func parseSearchLogParams(r *http.Request, body []byte) (*searchLogParams, *tcapi.Error) {
	p := &searchLogParams{}
	if r.Method == http.MethodPost {
		if !tcapi.IsContentType(r.Header.Get("Content-Type"), "application/json") {
			return nil, tcapi.Errorf("InvalidParameter", "Content-Type `%s` is not supported; use application/json.",
				r.Header.Get("Content-Type"))
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(p); err != nil {
			if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
				return nil, tcapi.UnknownParameter(strings.Trim(name, `"`))
			}
			return nil, typeErrorOf(err)
		}
		return p, nil
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, tcapi.Errorf("InvalidParameter", "The query string cannot be parsed: %v.", err)
	}
	ints := map[string]**int64{"From": &p.From, "To": &p.To, "Limit": &p.Limit, "Offset": &p.Offset}
	uints := map[string]**uint64{"SyntaxRule": &p.SyntaxRule, "QuerySyntax": &p.QuerySyntax}
	strs := map[string]*string{"TopicId": &p.TopicId, "Sort": &p.Sort, "Context": &p.Context}
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
			*strs[k] = v
		case k == "Query":
			p.Query = &v
		case k == "QueryString":
			p.QueryString = &v
		case k == "SamplingRate":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, tcapi.TypeError(k, "Float")
			}
			p.SamplingRate = &f
		case k == "UseNewAnalysis" || k == "HighLight":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, tcapi.TypeError(k, "Boolean")
			}
			if k == "HighLight" {
				p.HighLight = b
			} else {
				p.UseNewAnalysis = b
			}
		default:
			return nil, tcapi.UnknownParameter(k)
		}
	}
	return p, nil
}

// Plan is a checked SearchLog call, ready to run.
type Plan struct {
	topic        *clsTopic
	fromMs, toMs int64
	cond         cqlNode
	sql          *sqlStatement
	desc         bool
	limit        int
	offset       int
	after        *clsCursor // the position a Context resumes after
	fingerprint  [8]byte    // of every parameter but Context
	newAnalysis  bool
}

// TopicID is the topic the call searches, whose concurrency it uses.
func (q *Plan) TopicID() string { return q.topic.id }

// splitQuery cuts "condition | sql" at the first | outside quotes.
func splitQuery(q string) (cond, sql string, hasSQL bool) {
	var quote byte
	for i := 0; i < len(q); i++ {
		switch ch := q[i]; {
		case quote != 0:
			if ch == '\\' {
				i++
			} else if ch == quote {
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

func (st *API) plan(p *searchLogParams, region string, now time.Time) (*Plan, *tcapi.Error) {
	switch {
	case p.From == nil:
		return nil, tcapi.Errorf("MissingParameter", "The request is missing a required parameter `From`.")
	case p.To == nil:
		return nil, tcapi.Errorf("MissingParameter", "The request is missing a required parameter `To`.")
	case *p.From > *p.To:
		return nil, tcapi.Errorf("InvalidParameter", "`From` must not be later than `To`.")
	case len(p.Topics) > 0:
		// Multi-topic search (Topics, with per-topic Context) is not
		// simulated; every SCF function has its own topic here.
		return nil, tcapi.Errorf("InvalidParameter", "The simulator searches one topic per call: use `TopicId`, not `Topics`.")
	case p.TopicId == "":
		return nil, tcapi.Errorf("MissingParameter", "The request is missing a required parameter `TopicId`.")
	case p.Context != "" && p.Offset != nil:
		return nil, tcapi.Errorf("InvalidParameter", "`Context` and `Offset` cannot be used together.")
	case p.Offset != nil && *p.Offset < 0:
		return nil, tcapi.Errorf("InvalidParameter", "`Offset` must not be negative.")
	case p.SamplingRate != nil && !(*p.SamplingRate >= 0 && *p.SamplingRate <= 1):
		return nil, tcapi.Errorf("InvalidParameter", "`SamplingRate` must be between 0 and 1.")
	}
	query, syntax := "", uint64(0)
	switch {
	case p.QueryString != nil:
		query, syntax = *p.QueryString, 1
		if p.QuerySyntax != nil {
			syntax = *p.QuerySyntax
		}
	case p.Query != nil:
		query = *p.Query
		if p.SyntaxRule != nil {
			syntax = *p.SyntaxRule
		}
	}
	if syntax > 1 {
		return nil, tcapi.Errorf("InvalidParameter", "The syntax rule must be 0 (Lucene) or 1 (CQL).")
	}
	if len(query) > maxQueryBytes {
		return nil, tcapi.Errorf("InvalidParameter", "The query exceeds %d bytes.", maxQueryBytes)
	}
	q := &Plan{fromMs: *p.From, toMs: *p.To, limit: defaultSearchLimit, newAnalysis: p.UseNewAnalysis}
	switch p.Sort {
	case "", "desc":
		q.desc = true
	case "asc":
	default:
		return nil, tcapi.Errorf("InvalidParameter", "`Sort` must be asc or desc, not `%s`.", p.Sort)
	}
	if p.Limit != nil {
		if *p.Limit < 1 || *p.Limit > maxSearchLimit {
			return nil, tcapi.Errorf("InvalidParameter", "`Limit` must be between 1 and %d.", maxSearchLimit)
		}
		q.limit = int(*p.Limit)
	}
	if p.Offset != nil {
		q.offset = int(min(*p.Offset, 1<<40))
	}
	t := st.topics[p.TopicId]
	if t == nil || t.fn.Region != region {
		return nil, tcapi.Errorf("ResourceNotFound.TopicNotExist", "The topic `%s` does not exist.", p.TopicId)
	}
	q.topic = t
	condText, sqlText, hasSQL := splitQuery(query)
	var err error
	if q.cond, err = parseCQL(condText); err != nil {
		return nil, tcapi.Errorf("FailedOperation.SyntaxError", "Query syntax error: %v.", err)
	}
	if hasSQL {
		if q.sql, err = parseSQL(sqlText); err != nil {
			var qe *sqlQueryError
			if errors.As(err, &qe) {
				return nil, tcapi.Errorf("FailedOperation.QueryError", "The query failed: %v.", err)
			}
			return nil, tcapi.Errorf("FailedOperation.SyntaxError", "SQL syntax error: %v.", err)
		}
		return q, nil // Context, Offset, Limit and Sort only apply to raw logs
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00%s\x00%d\x00%t\x00%d\x00%v", t.id, q.fromMs, q.toMs, query, syntax, q.desc, q.limit, p.Offset)
	copy(q.fingerprint[:], h.Sum(nil))
	if p.Context != "" {
		c, ok := st.openCursor(p.Context, q.fingerprint, now)
		if !ok {
			return nil, tcapi.Errorf("FailedOperation.InvalidContext", "The search cursor is invalid or has expired.")
		}
		q.after = c
	}
	return q, nil
}

// records returns the topic's records in [from, to) ms that match the
// search condition, in ascending order.
func (q *Plan) records(now time.Time) []clsRecord {
	f := q.topic.fn
	lo, hi := q.fromMs*int64(time.Millisecond), q.toMs*int64(time.Millisecond)
	// A record is written at most a timeout after its invocation started.
	w := &invocations.Window{Lo: lo - f.TimeoutMs*int64(time.Millisecond) - 1, Hi: hi, Now: invocations.Nanos(now),
		Order: invocations.Order{By: invocations.ByStart}, Keep: -1}
	_, rows := w.Run([]*invocations.Model{f})
	var all, out []clsRecord
	for i := range rows {
		all = clsRecords(all[:0], &rows[i])
		for _, c := range all {
			if c.timeNs >= lo && c.timeNs < hi && q.cond.match(&c) {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b clsRecord) int { return cmpRecords(&a, &b) })
	return out
}

// Search runs a planned call.
func (st *API) Search(q *Plan) (*SearchLogResponse, *tcapi.Error) {
	now := st.now()
	recs := q.records(now)
	if q.sql != nil {
		return q.analyse(recs), nil
	}
	if q.desc {
		slices.Reverse(recs)
	}
	start, returned := q.offset, 0
	if q.after != nil {
		returned = q.after.returned
		start, _ = slices.BinarySearchFunc(recs, q.after.last, func(c clsRecord, last clsRecord) int {
			n := cmpRecords(&c, &last)
			if q.desc {
				n = -n
			}
			if n <= 0 {
				return -1 // at or before the last record served
			}
			return 1
		})
	}
	start = min(start, len(recs))
	end := min(start+q.limit, len(recs))
	capped := false
	if q.offset == 0 && returned+(end-start) >= MaxContextLogs {
		end, capped = start+MaxContextLogs-returned, true
	}
	resp := &SearchLogResponse{Results: []LogInfo{}, ListOver: end >= len(recs)}
	for i := start; i < end; i++ {
		resp.Results = append(resp.Results, q.topic.logInfo(&recs[i]))
	}
	if !resp.ListOver && !capped && end > start {
		resp.Context = st.sealCursor(&clsCursor{last: recs[end-1], returned: returned + end - start}, q.fingerprint, now)
	}
	return resp, nil
}

func (t *clsTopic) logInfo(c *clsRecord) LogInfo {
	return LogInfo{
		Time:       c.timeNs / int64(time.Millisecond),
		TopicId:    t.id,
		TopicName:  t.name,
		PkgId:      strings.ToUpper(strconv.FormatUint(t.fn.Key()^uint64(c.r.Index), 16)) + "-" + strconv.FormatInt(c.r.Index, 16),
		PkgLogId:   strconv.Itoa(int(c.line)),
		HighLights: []HighLight{},
		LogJson:    c.logJSON(),
	}
}

func (q *Plan) analyse(recs []clsRecord) *SearchLogResponse {
	rows := q.sql.run(recs)
	resp := &SearchLogResponse{Analysis: true, SamplingRate: 1}
	if q.newAnalysis {
		resp.AnalysisRecords = []string{}
		for _, it := range q.sql.items {
			resp.Columns = append(resp.Columns, Column{Name: it.name, Type: it.typ})
		}
		for _, row := range rows {
			var b strings.Builder
			b.WriteByte('{')
			for j, it := range q.sql.items {
				if j > 0 {
					b.WriteByte(',')
				}
				name, _ := json.Marshal(it.name)
				b.Write(name)
				b.WriteByte(':')
				b.WriteString(jsonCell(row[j], it.typ))
			}
			b.WriteByte('}')
			resp.AnalysisRecords = append(resp.AnalysisRecords, b.String())
		}
		return resp
	}
	resp.AnalysisResults = []LogItems{}
	for _, it := range q.sql.items {
		resp.ColNames = append(resp.ColNames, it.name)
	}
	for _, row := range rows {
		items := LogItems{Data: []LogItem{}}
		for j, it := range q.sql.items {
			v := row[j].text()
			if row[j].null {
				v = "null"
			}
			items.Data = append(items.Data, LogItem{Key: it.name, Value: v})
		}
		resp.AnalysisResults = append(resp.AnalysisResults, items)
	}
	return resp
}

// clsCursor is the position a Context token resumes after.
type clsCursor struct {
	last     clsRecord // only timeNs, r.Index and line are kept
	returned int       // raw logs served through the Context chain so far
}

// sealCursor encodes a cursor as an opaque token: fingerprint of the
// query, expiry, position, count, and a MAC over all of it.
func (st *API) sealCursor(c *clsCursor, fp [8]byte, now time.Time) string {
	b := make([]byte, 0, 64)
	b = append(b, 1) // format version
	b = append(b, fp[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(now.Add(ContextTTL).Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.last.timeNs))
	b = binary.BigEndian.AppendUint64(b, uint64(c.last.r.Index))
	b = append(b, byte(c.last.line))
	b = binary.BigEndian.AppendUint32(b, uint32(c.returned))
	m := hmac.New(sha256.New, st.ctxKey)
	m.Write(b)
	b = m.Sum(b)[:len(b)+16]
	return base64.RawURLEncoding.EncodeToString(b)
}

func (st *API) openCursor(tok string, fp [8]byte, now time.Time) (*clsCursor, bool) {
	const body = 1 + 8 + 8 + 8 + 8 + 1 + 4
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != body+16 || b[0] != 1 {
		return nil, false
	}
	m := hmac.New(sha256.New, st.ctxKey)
	m.Write(b[:body])
	if !hmac.Equal(m.Sum(nil)[:16], b[body:]) || !bytes.Equal(b[1:9], fp[:]) {
		return nil, false
	}
	if now.Unix() > int64(binary.BigEndian.Uint64(b[9:17])) {
		return nil, false
	}
	c := &clsCursor{returned: int(binary.BigEndian.Uint32(b[34:38]))}
	c.last.timeNs = int64(binary.BigEndian.Uint64(b[17:25]))
	c.last.r.Index = int64(binary.BigEndian.Uint64(b[25:33]))
	c.last.line = clsLine(b[33])
	return c, true
}
