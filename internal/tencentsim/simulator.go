package tencentsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mudscf/mudscf/translate/scf"
)

const (
	apiVersion = "2018-04-16"
	// Tencent accepts TC3 POST bodies up to 10 MB; GET requests up to 32 KB.
	maxPostBody = 10 << 20
	maxGetSize  = 32 << 10
	// sideListCap caps the rows of GET /_sim/executions (the count stays exact).
	sideListCap = 10000
)

// Simulator is an http.Handler speaking Tencent Cloud API 3.0 for SCF's
// GetFunctionLogs, GetFunction, ListFunctions and GetRequestStatus, plus
// the /_sim/ side endpoints.
type Simulator struct {
	cfg      Config
	now      func() time.Time
	loc      *time.Location
	accounts map[string]Account
	regions  map[string]bool
	fns      []*fnModel
	// byRegion maps region -> namespace -> functions sorted by name.
	byRegion map[string]map[string][]*fnModel

	faultsMu sync.RWMutex
	faults   Faults

	ledger *ledger
	cls    *clsState
	// listCap is sideListCap; a field so tests can lower it.
	listCap int
}

// New validates cfg, fills its defaults and returns a ready Simulator.
func New(cfg Config) (*Simulator, error) {
	cfg.fill()
	cfg.resolveClock()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Simulator{
		cfg:      cfg,
		now:      cfg.Now,
		loc:      cfg.Location,
		accounts: map[string]Account{},
		regions:  map[string]bool{},
		byRegion: map[string]map[string][]*fnModel{},
		faults:   cfg.Faults,
		ledger:   newLedger(cfg.Now, cfg.rateLimits()),
		listCap:  sideListCap,
	}
	for _, a := range cfg.Accounts {
		s.accounts[a.SecretID] = a
	}
	for _, r := range cfg.Regions {
		s.regions[r] = true
	}
	for _, f := range cfg.Functions {
		m := newFnModel(f, cfg.Seed, cfg.Origin)
		s.fns = append(s.fns, m)
		ns := s.byRegion[f.Region]
		if ns == nil {
			ns = map[string][]*fnModel{}
			s.byRegion[f.Region] = ns
		}
		ns[f.Namespace] = append(ns[f.Namespace], m)
	}
	cls, err := newCLSState(&cfg, s.fns)
	if err != nil {
		return nil, err
	}
	s.cls = cls
	for _, nss := range s.byRegion {
		for _, fns := range nss {
			slices.SortFunc(fns, func(a, b *fnModel) int { return strings.Compare(a.Name, b.Name) })
		}
	}
	return s, nil
}

// SetFaults replaces the active faults. An out-of-range HTTPStatus is
// ignored when answering rather than panicking inside net/http.
func (s *Simulator) SetFaults(f Faults) {
	s.faultsMu.Lock()
	s.faults = f
	s.faultsMu.Unlock()
}

// Faults returns the active faults.
func (s *Simulator) Faults() Faults {
	s.faultsMu.RLock()
	defer s.faultsMu.RUnlock()
	return s.faults
}

// Truth returns a snapshot of what the simulator observed.
func (s *Simulator) Truth() Truth {
	t := s.ledger.truth()
	t.SearchLog, t.APIs[clsSearchLog] = s.cls.limits.truth()
	return t
}

// Executions returns the ground truth: executions that started in
// [from, to] (inclusive, exact instants) and had finished at Now(), sorted
// by start. Empty region, namespace or function match any. Note the API
// compares at second precision: its StartTime S and EndTime E match
// Executions(S, E.Add(time.Second-1)).
func (s *Simulator) Executions(region, namespace, function string, from, to time.Time) []Execution {
	w := &window{lo: nanos(from), hi: nanos(to) + 1, now: nanos(s.now()), order: byStartAsc, keep: -1}
	_, rows := w.run(s.matching(region, namespace, function))
	res := make([]Execution, len(rows))
	for i := range rows {
		res[i] = rows[i].execution(s.loc)
	}
	return res
}

// matching returns the functions a ground-truth query selects; empty
// arguments match anything.
func (s *Simulator) matching(region, namespace, function string) []*fnModel {
	var fns []*fnModel
	for _, f := range s.fns {
		if (region == "" || f.Region == region) && (namespace == "" || f.Namespace == namespace) &&
			(function == "" || f.Name == function) {
			fns = append(fns, f)
		}
	}
	return fns
}

// ServeHTTP serves the Tencent API on every path except /_sim/.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveSide(w, r)
		return
	}
	s.serveAPI(w, r)
}

func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	lang := r.Header.Get("X-TC-Language")
	fail := func(e *apiError) { writeError(w, reqID, lang, e) }

	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		fail(errf("UnsupportedProtocol", "HTTP(S) request protocol error; only GET and POST requests are supported."))
		return
	}
	limit := int64(maxPostBody)
	if r.Method == http.MethodGet {
		limit = maxGetSize
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		fail(errf("InvalidParameter.Payload", "The request body cannot be read."))
		return
	}
	if int64(len(body)) > limit || (r.Method == http.MethodGet && len(r.URL.RawQuery) > maxGetSize) {
		fail(errf("RequestSizeLimitExceeded", "The request size exceeds the limit."))
		return
	}

	var signed *signedCall
	var e *apiError
	c := &apiCall{reqID: reqID}
	if form, v1 := v1Params(r, body); v1 {
		lang = form.Get("Language")
		c.form = form
		signed, e = s.authV1(r, form)
	} else {
		signed, e = s.authTC3(r, body)
	}
	if e != nil {
		fail(e)
		return
	}
	if signed.service == clsService {
		s.serveCLS(w, r, body, signed.secretID, reqID, lang)
		return
	}
	c.secretID, c.action, c.region = signed.secretID, signed.action, signed.region

	act, ok := scfActions[signed.action]
	if !ok {
		fail(errf("InvalidAction", "The request `Action` is invalid or not found: `%s`.", signed.action))
		return
	}
	if signed.version != apiVersion {
		fail(errf("NoSuchVersion", "The requested version `%s` of service `%s` does not exist.", signed.version, serviceName))
		return
	}
	if !s.regions[signed.region] {
		// Tencent answers an unknown region as a bad parameter value.
		fail(errf("InvalidParameterValue", "The value `%s` of parameter `Region` is invalid: no such region.", signed.region))
		return
	}

	if s.applyFaults(w, r, reqID, signed.secretID) {
		return
	}
	if !s.ledger.admit(signed.action, signed.secretID) {
		fail(errf("RequestLimitExceeded",
			"Your current request times exceeds the frequency limit `%d` for a second. Please reduce the frequency of calls.",
			s.ledger.limit(signed.action)))
		return
	}

	if c.form == nil {
		switch {
		case r.Method == http.MethodGet:
			c.form, err = url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				fail(errf("InvalidParameter", "The query string cannot be parsed: %v.", err))
				return
			}
		case !isContentType(r.Header.Get("Content-Type"), "application/json"):
			fail(errf("InvalidParameter", "Content-Type `%s` is not supported; use application/json.",
				r.Header.Get("Content-Type")))
			return
		default:
			c.json = body
		}
	}
	resp, e := act(s, c)
	if e != nil {
		fail(e)
		return
	}
	writeResponse(w, reqID, resp)
}

// applyFaults runs the fault switches in their documented order and
// reports whether the call has been answered (or dropped) by one.
func (s *Simulator) applyFaults(w http.ResponseWriter, r *http.Request, reqID, secretID string) bool {
	f := s.Faults()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			// The caller gave up: nobody reads an answer.
			s.ledger.record(secretID, outFaulted)
			return true
		}
	}
	switch {
	case f.ResetConnection:
		s.ledger.record(secretID, outFaulted)
		resetConnection(w)
		return true
	case f.HTTPStatus >= 200 && f.HTTPStatus <= 599:
		s.ledger.record(secretID, outFaulted)
		text := http.StatusText(f.HTTPStatus)
		if text == "" {
			text = "Error"
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.HTTPStatus)
		fmt.Fprintf(w, "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n",
			f.HTTPStatus, text, f.HTTPStatus, text)
		return true
	case f.MalformedJSON:
		s.ledger.record(secretID, outFaulted)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-TC-RequestId", reqID)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"Response":{"TotalCount":3,"Data":[{"FunctionName":"APITest","RetMsg":"{\"processed\":`)
		return true
	case f.ErrorCode != "":
		s.ledger.record(secretID, outFaulted)
		writeError(w, reqID, r.Header.Get("X-TC-Language"), &apiError{code: f.ErrorCode, msg: faultMessage(f.ErrorCode)})
		return true
	}
	return false
}

func faultMessage(code string) string {
	switch code {
	case "InternalError":
		return "An internal error has occurred. Retry your request, but if the problem persists, contact us."
	case "RequestLimitExceeded":
		return "Your current request times exceeds the frequency limit. Please reduce the frequency of calls."
	case "ResourceUnavailable":
		return "The resource is unavailable."
	case "FailedOperation":
		return "Operation failed."
	}
	return "Injected fault " + code + "."
}

// resetConnection drops the connection with SO_LINGER 0, so the kernel
// sends RST and the client sees "connection reset by peer" rather than a
// clean EOF.
func resetConnection(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		// HTTP/2 cannot hijack; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	nc := conn
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = u.NetConn() // TLS: linger the underlying TCP connection
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func (s *Simulator) getFunctionLogs(c *apiCall) (any, *apiError) {
	var p *rawParams
	var perr *apiError
	if c.json != nil {
		p, perr = parseJSONParams(c.json)
	} else {
		p, perr = parseQueryParams(c.form)
	}
	if perr != nil {
		return nil, perr
	}
	now := s.now()
	q, e := validate(p, now, s.loc)
	if e != nil {
		return nil, e
	}
	fns, e := s.namespace(c.region, q.namespace)
	if e != nil {
		return nil, e
	}
	if q.functionName != "" {
		i := slices.IndexFunc(fns, func(f *fnModel) bool { return f.Name == q.functionName })
		if i < 0 {
			return nil, errFunctionNotFound(q.functionName, q.namespace)
		}
		fns = fns[i : i+1]
	}
	w := &window{lo: q.lo, hi: q.hi, now: nanos(now), flt: q.filter,
		order: ordering{by: q.orderBy, desc: q.desc}, keep: int(q.offset + q.limit)}
	return s.page(w, fns, int(q.offset), c.reqID), nil
}

// namespace returns the functions of a namespace. The default namespace
// exists in every region even when it has no functions.
func (s *Simulator) namespace(region, ns string) ([]*fnModel, *apiError) {
	fns, known := s.byRegion[region][ns]
	if !known && ns != defaultNamespace {
		return nil, errf("ResourceNotFound.Function", "The namespace `%s` does not exist.", ns)
	}
	return fns, nil
}

func errFunctionNotFound(name, ns string) *apiError {
	return errf("ResourceNotFound.Function", "The function `%s` does not exist in namespace `%s`.", name, ns)
}

// page runs the window over fns and answers the records after offset.
func (s *Simulator) page(w *window, fns []*fnModel, offset int, reqID string) *scf.GetFunctionLogsResponse {
	total, rows := w.run(fns)
	data := []scf.FunctionLog{}
	if len(rows) > offset {
		for _, r := range rows[offset:] {
			data = append(data, r.functionLog(s.loc))
		}
	}
	return &scf.GetFunctionLogsResponse{
		TotalCount:    total,
		Data:          data,
		SearchContext: &scf.LogSearchContext{},
		RequestId:     reqID,
	}
}

type envelope struct {
	Response any `json:"Response"`
}

func writeResponse(w http.ResponseWriter, reqID string, v any) {
	writeResponseStatus(w, http.StatusOK, reqID, v)
}

// writeResponseStatus writes the API envelope with an HTTP status: the API
// itself always answers 200, the pass-through route does not.
func writeResponseStatus(w http.ResponseWriter, status int, reqID string, v any) {
	b, err := json.Marshal(envelope{v})
	if err != nil {
		b, _ = json.Marshal(envelope{ErrorResponse{
			Error:     APIError{Code: "InternalError", Message: "Response encoding failed."},
			RequestId: reqID,
		}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-TC-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes e in the language the call asked for.
func writeError(w http.ResponseWriter, reqID, lang string, e *apiError) {
	writeResponse(w, reqID, ErrorResponse{
		Error:     APIError{Code: e.code, Message: e.message(lang)},
		RequestId: reqID,
	})
}
