package tencentsim

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
)

// CLS (Cloud Log Service), API version 2020-10-16: the simulator answers
// SearchLog over the logs SCF delivers for every simulated function.
// Calls reach it through the same endpoint and TC3 checks as SCF; the
// credential scope's service ("cls" or "scf") picks the API, as Tencent's
// per-service endpoints do.
const (
	clsService    = "cls"
	clsAPIVersion = "2020-10-16"
	clsSearchLog  = "SearchLog"

	// From the SearchLog page and the SDK models: Query at most 12 KB;
	// Limit 100 by default, at most 1000; Context reaches at most 10,000
	// raw logs and expires after an hour.
	maxQueryBytes      = 12 << 10
	defaultSearchLimit = 100
	maxSearchLimit     = 1000
	maxContextLogs     = 10000
	contextTTL         = time.Hour
)

// clsTopic is a function's log topic.
type clsTopic struct {
	id, name string
	fn       *fnModel
}

// clsState is the CLS side of a Simulator.
type clsState struct {
	topics map[string]*clsTopic // by topic ID
	limits *clsLimits
	// ctxKey authenticates Context tokens, so a forged or altered cursor
	// is FailedOperation.InvalidContext rather than a wrong page.
	ctxKey []byte
}

func newCLSState(cfg *Config, fns []*fnModel) (*clsState, error) {
	if cfg.CLS.RateLimit < 0 || cfg.CLS.TopicConcurrency < 0 {
		return nil, errors.New("tencentsim: cls: rateLimit and topicConcurrency must not be negative")
	}
	st := &clsState{topics: map[string]*clsTopic{}, limits: newCLSLimits(cfg.CLS)}
	for _, f := range fns {
		// SCF's default delivery names topics "SCF_logtopic...".
		st.topics[f.ClsTopicID] = &clsTopic{id: f.ClsTopicID, name: "SCF_logtopic_" + f.Namespace + "_" + f.Name, fn: f}
	}
	k := sha256.Sum256([]byte("mudscf cls context " + strconv.FormatInt(cfg.Seed, 10)))
	st.ctxKey = k[:]
	return st, nil
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

// The answer, field for field the SDKs' SearchLogResponse and LogInfo.
type (
	searchLogResponse struct {
		Context         string        `json:"Context"`
		ListOver        bool          `json:"ListOver"`
		Analysis        bool          `json:"Analysis"`
		Results         []clsLogInfo  `json:"Results"`
		ColNames        []string      `json:"ColNames"`
		AnalysisResults []clsLogItems `json:"AnalysisResults"`
		AnalysisRecords []string      `json:"AnalysisRecords"`
		Columns         []clsColumn   `json:"Columns"`
		SamplingRate    float64       `json:"SamplingRate"`
		Topics          *struct{}     `json:"Topics"`
		RequestId       string        `json:"RequestId"`
	}
	clsLogInfo struct {
		Time        int64          `json:"Time"`
		TopicId     string         `json:"TopicId"`
		TopicName   string         `json:"TopicName"`
		Source      string         `json:"Source"`
		FileName    string         `json:"FileName"`
		PkgId       string         `json:"PkgId"`
		PkgLogId    string         `json:"PkgLogId"`
		HighLights  []clsHighLight `json:"HighLights"`
		LogJson     string         `json:"LogJson"`
		HostName    string         `json:"HostName"`
		RawLog      string         `json:"RawLog"`
		IndexStatus string         `json:"IndexStatus"`
	}
	clsHighLight struct {
		Key    string   `json:"Key"`
		Values []string `json:"Values"`
	}
	clsLogItems struct {
		Data []clsLogItem `json:"Data"`
	}
	clsLogItem struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
	clsColumn struct {
		Name string `json:"Name"`
		Type string `json:"Type"`
	}
)

// serveCLS answers a call whose credential scope names service cls; the
// caller has authenticated it.
func (s *Simulator) serveCLS(w http.ResponseWriter, r *http.Request, body []byte, secretID, reqID, lang string) {
	// The rate limit counts a call when it arrives, before its
	// parameters are read or an injected delay has passed.
	arrived := s.now()
	fail := func(e *apiError) { writeError(w, reqID, lang, e) }
	if action := r.Header.Get("X-TC-Action"); action != clsSearchLog {
		fail(errf("InvalidAction", "The request `Action` is invalid or not found: `%s`.", action))
		return
	}
	if v := r.Header.Get("X-TC-Version"); v != clsAPIVersion {
		fail(errf("NoSuchVersion", "The requested version `%s` of service `%s` does not exist.", v, clsService))
		return
	}
	region := r.Header.Get("X-TC-Region")
	if !s.regions[region] {
		fail(errf("InvalidParameterValue", "The value `%s` of parameter `Region` is not supported.", region))
		return
	}
	p, perr := parseSearchLogParams(r, body)
	if perr != nil {
		fail(perr)
		return
	}
	q, perr := s.cls.plan(p, region, s.now())
	if perr != nil {
		fail(perr)
		return
	}
	switch s.cls.limits.admit(secretID, q.topic.id, arrived) {
	case refusedRate:
		fail(errf("RequestLimitExceeded",
			"Your current request times exceeds the frequency limit `%d` for a second. Please reduce the frequency of calls.",
			s.cls.limits.rate))
		return
	case refusedConcurrency:
		fail(errf("LimitExceeded.LogSearch",
			"The number of concurrent queries on topic `%s` exceeds the limit of %d.", q.topic.id, s.cls.limits.conc))
		return
	}
	defer s.cls.limits.release(q.topic.id)
	// Injected latency runs while the query holds its slot: a slow
	// upstream is one whose topic stays busy, which makes the concurrency
	// limit observable.
	if s.applyFaults(w, r, reqID, secretID) {
		return
	}
	resp, perr := s.cls.search(q, s.now())
	if perr != nil {
		fail(perr)
		return
	}
	resp.RequestId = reqID
	writeResponse(w, reqID, resp)
}

func typeErrorOf(err error) *apiError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return typeError(te.Field, te.Type.Kind().String())
	}
	return errf("InvalidParameter", "The request body is not a valid JSON object: %v.", err)
}

// parseSearchLogParams reads a JSON POST body or, for GET, the query
// string (scalars only; Topics needs a body).
func parseSearchLogParams(r *http.Request, body []byte) (*searchLogParams, *apiError) {
	p := &searchLogParams{}
	if r.Method == http.MethodPost {
		if !isContentType(r.Header.Get("Content-Type"), "application/json") {
			return nil, errf("InvalidParameter", "Content-Type `%s` is not supported; use application/json.",
				r.Header.Get("Content-Type"))
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(p); err != nil {
			if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
				return nil, unknownParam(strings.Trim(name, `"`))
			}
			return nil, typeErrorOf(err)
		}
		return p, nil
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errf("InvalidParameter", "The query string cannot be parsed: %v.", err)
	}
	ints := map[string]**int64{"From": &p.From, "To": &p.To, "Limit": &p.Limit, "Offset": &p.Offset}
	uints := map[string]**uint64{"SyntaxRule": &p.SyntaxRule, "QuerySyntax": &p.QuerySyntax}
	strs := map[string]*string{"TopicId": &p.TopicId, "Sort": &p.Sort, "Context": &p.Context}
	for k, vs := range vals {
		v := vs[0]
		switch {
		case commonQueryParams[k]:
		case ints[k] != nil:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, typeError(k, "Integer")
			}
			*ints[k] = &n
		case uints[k] != nil:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, typeError(k, "Integer")
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
				return nil, typeError(k, "Float")
			}
			p.SamplingRate = &f
		case k == "UseNewAnalysis" || k == "HighLight":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, typeError(k, "Boolean")
			}
			if k == "HighLight" {
				p.HighLight = b
			} else {
				p.UseNewAnalysis = b
			}
		default:
			return nil, unknownParam(k)
		}
	}
	return p, nil
}

// searchPlan is a validated SearchLog call.
type searchPlan struct {
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

func (st *clsState) plan(p *searchLogParams, region string, now time.Time) (*searchPlan, *apiError) {
	switch {
	case p.From == nil:
		return nil, errf("MissingParameter", "The request is missing a required parameter `From`.")
	case p.To == nil:
		return nil, errf("MissingParameter", "The request is missing a required parameter `To`.")
	case *p.From > *p.To:
		return nil, errf("InvalidParameter", "`From` must not be later than `To`.")
	case len(p.Topics) > 0:
		// Multi-topic search (Topics, with per-topic Context) is not
		// simulated; every SCF function has its own topic here.
		return nil, errf("InvalidParameter", "The simulator searches one topic per call: use `TopicId`, not `Topics`.")
	case p.TopicId == "":
		return nil, errf("MissingParameter", "The request is missing a required parameter `TopicId`.")
	case p.Context != "" && p.Offset != nil:
		return nil, errf("InvalidParameter", "`Context` and `Offset` cannot be used together.")
	case p.Offset != nil && *p.Offset < 0:
		return nil, errf("InvalidParameter", "`Offset` must not be negative.")
	case p.SamplingRate != nil && !(*p.SamplingRate >= 0 && *p.SamplingRate <= 1):
		return nil, errf("InvalidParameter", "`SamplingRate` must be between 0 and 1.")
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
		return nil, errf("InvalidParameter", "The syntax rule must be 0 (Lucene) or 1 (CQL).")
	}
	if len(query) > maxQueryBytes {
		return nil, errf("InvalidParameter", "The query exceeds %d bytes.", maxQueryBytes)
	}
	q := &searchPlan{fromMs: *p.From, toMs: *p.To, limit: defaultSearchLimit, newAnalysis: p.UseNewAnalysis}
	switch p.Sort {
	case "", "desc":
		q.desc = true
	case "asc":
	default:
		return nil, errf("InvalidParameter", "`Sort` must be asc or desc, not `%s`.", p.Sort)
	}
	if p.Limit != nil {
		if *p.Limit < 1 || *p.Limit > maxSearchLimit {
			return nil, errf("InvalidParameter", "`Limit` must be between 1 and %d.", maxSearchLimit)
		}
		q.limit = int(*p.Limit)
	}
	if p.Offset != nil {
		q.offset = int(min(*p.Offset, 1<<40))
	}
	t := st.topics[p.TopicId]
	if t == nil || t.fn.Region != region {
		return nil, errf("ResourceNotFound.TopicNotExist", "The topic `%s` does not exist.", p.TopicId)
	}
	q.topic = t
	condText, sqlText, hasSQL := splitQuery(query)
	var err error
	if q.cond, err = parseCQL(condText); err != nil {
		return nil, errf("FailedOperation.SyntaxError", "Query syntax error: %v.", err)
	}
	if hasSQL {
		if q.sql, err = parseSQL(sqlText); err != nil {
			var qe *sqlQueryError
			if errors.As(err, &qe) {
				return nil, errf("FailedOperation.QueryError", "The query failed: %v.", err)
			}
			return nil, errf("FailedOperation.SyntaxError", "SQL syntax error: %v.", err)
		}
		return q, nil // Context, Offset, Limit and Sort only apply to raw logs
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00%s\x00%d\x00%t\x00%d\x00%v", t.id, q.fromMs, q.toMs, query, syntax, q.desc, q.limit, p.Offset)
	copy(q.fingerprint[:], h.Sum(nil))
	if p.Context != "" {
		c, ok := st.openCursor(p.Context, q.fingerprint, now)
		if !ok {
			return nil, errf("FailedOperation.InvalidContext", "The search cursor is invalid or has expired.")
		}
		q.after = c
	}
	return q, nil
}

// records returns the topic's records in [from, to) ms that match the
// search condition, in ascending order.
func (q *searchPlan) records(now time.Time) []clsRecord {
	f := q.topic.fn
	lo, hi := q.fromMs*int64(time.Millisecond), q.toMs*int64(time.Millisecond)
	// A record is written at most a timeout after its invocation started.
	w := &window{lo: lo - f.TimeoutMs*int64(time.Millisecond) - 1, hi: hi, now: nanos(now), order: byStartAsc, keep: -1}
	_, rows := w.run([]*fnModel{f})
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

func (st *clsState) search(q *searchPlan, now time.Time) (*searchLogResponse, *apiError) {
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
	if q.offset == 0 && returned+(end-start) >= maxContextLogs {
		end, capped = start+maxContextLogs-returned, true
	}
	resp := &searchLogResponse{Results: []clsLogInfo{}, ListOver: end >= len(recs)}
	for i := start; i < end; i++ {
		resp.Results = append(resp.Results, q.topic.logInfo(&recs[i]))
	}
	if !resp.ListOver && !capped && end > start {
		resp.Context = st.sealCursor(&clsCursor{last: recs[end-1], returned: returned + end - start}, q.fingerprint, now)
	}
	return resp, nil
}

func (t *clsTopic) logInfo(c *clsRecord) clsLogInfo {
	return clsLogInfo{
		Time:       c.timeNs / int64(time.Millisecond),
		TopicId:    t.id,
		TopicName:  t.name,
		PkgId:      strings.ToUpper(strconv.FormatUint(t.fn.key^uint64(c.r.i), 16)) + "-" + strconv.FormatInt(c.r.i, 16),
		PkgLogId:   strconv.Itoa(int(c.line)),
		HighLights: []clsHighLight{},
		LogJson:    c.logJSON(),
	}
}

func (q *searchPlan) analyse(recs []clsRecord) *searchLogResponse {
	rows := q.sql.run(recs)
	resp := &searchLogResponse{Analysis: true, SamplingRate: 1}
	if q.newAnalysis {
		resp.AnalysisRecords = []string{}
		for _, it := range q.sql.items {
			resp.Columns = append(resp.Columns, clsColumn{Name: it.name, Type: it.typ})
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
	resp.AnalysisResults = []clsLogItems{}
	for _, it := range q.sql.items {
		resp.ColNames = append(resp.ColNames, it.name)
	}
	for _, row := range rows {
		items := clsLogItems{Data: []clsLogItem{}}
		for j, it := range q.sql.items {
			v := row[j].text()
			if row[j].null {
				v = "null"
			}
			items.Data = append(items.Data, clsLogItem{Key: it.name, Value: v})
		}
		resp.AnalysisResults = append(resp.AnalysisResults, items)
	}
	return resp
}

// clsCursor is the position a Context token resumes after.
type clsCursor struct {
	last     clsRecord // only timeNs, r.i and line are kept
	returned int       // raw logs served through the Context chain so far
}

// sealCursor encodes a cursor as an opaque token: fingerprint of the
// query, expiry, position, count, and a MAC over all of it.
func (st *clsState) sealCursor(c *clsCursor, fp [8]byte, now time.Time) string {
	b := make([]byte, 0, 64)
	b = append(b, 1) // format version
	b = append(b, fp[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(now.Add(contextTTL).Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.last.timeNs))
	b = binary.BigEndian.AppendUint64(b, uint64(c.last.r.i))
	b = append(b, byte(c.last.line))
	b = binary.BigEndian.AppendUint32(b, uint32(c.returned))
	m := hmac.New(sha256.New, st.ctxKey)
	m.Write(b)
	b = m.Sum(b)[:len(b)+16]
	return base64.RawURLEncoding.EncodeToString(b)
}

func (st *clsState) openCursor(tok string, fp [8]byte, now time.Time) (*clsCursor, bool) {
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
	c.last.r.i = int64(binary.BigEndian.Uint64(b[25:33]))
	c.last.line = clsLine(b[33])
	return c, true
}
