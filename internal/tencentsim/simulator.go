package tencentsim

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mudscf/mudscf/internal/tencentsim/cls"
	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/scf"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// sideListCap caps the rows of GET /_sim/executions (the count stays exact).
const sideListCap = 10000

// Simulator is an http.Handler speaking Tencent Cloud API 3.0 for SCF's
// GetFunctionLogs, GetFunction, ListFunctions and GetRequestStatus and
// CLS's SearchLog, plus the /_sim/ side endpoints.
type Simulator struct {
	cfg      Config
	now      func() time.Time
	loc      *time.Location
	verifier *tcapi.Verifier
	messages tcapi.Messages
	regions  map[string]bool
	fns      []*invocations.Model
	scf      *scf.API
	cls      *cls.API

	faultsMu sync.RWMutex
	faults   Faults

	ledger       *ledger
	searchLimits *clsLimits
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
		cfg:          cfg,
		now:          cfg.Now,
		loc:          cfg.Location,
		messages:     tcapi.NewMessages(tcapi.ChineseMessages(), scf.ChineseMessages()),
		regions:      map[string]bool{},
		faults:       cfg.Faults,
		ledger:       newLedger(cfg.Now, cfg.rateLimits()),
		searchLimits: newCLSLimits(cfg.CLS),
		listCap:      sideListCap,
	}
	keys := map[string]tcapi.Key{}
	for _, a := range cfg.Accounts {
		keys[a.SecretID] = tcapi.Key(a)
	}
	s.verifier = &tcapi.Verifier{Keys: keys, Now: cfg.Now, MaxClockSkew: cfg.MaxClockSkew,
		Services: []string{scf.Service, cls.Service},
		Failed:   func(secretID string) { s.ledger.record(secretID, outAuthFailed) }}
	for _, r := range cfg.Regions {
		s.regions[r] = true
	}
	noStats := map[string]bool{}
	for _, id := range cfg.CLS.NoStatistics {
		noStats[id] = true
	}
	for _, f := range cfg.Functions {
		if f.ClsTopicID == "" {
			f.ClsTopicID = DefaultClsTopicID(f.Region, f.Namespace, f.Name)
			if cfg.CLS.TopicPerFunction {
				f.ClsTopicID = FunctionClsTopicID(f.Region, f.Namespace, f.Name)
			}
		}
		s.fns = append(s.fns, invocations.NewModel(f, cfg.Seed, cfg.Origin))
	}
	s.scf = scf.New(s.fns, cfg.Origin, cfg.Location, cfg.Now)
	s.cls = cls.New(s.fns, cls.Config{Seed: cfg.Seed, Now: cfg.Now, NoStatistics: noStats,
		IndexCreated: cfg.Origin.Add(-30 * 24 * time.Hour)})
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
	t.SearchLog, t.APIs[cls.ActionSearchLog] = s.searchLimits.truth()
	return t
}

// Executions returns the ground truth: executions that started in
// [from, to] (inclusive, exact instants) and had finished at Now(), sorted
// by start. Empty region, namespace or function match any. Note the API
// compares at second precision: its StartTime S and EndTime E match
// Executions(S, E.Add(time.Second-1)).
func (s *Simulator) Executions(region, namespace, function string, from, to time.Time) []Execution {
	_, res := s.executions(region, namespace, function, from, to, -1)
	return res
}

// Execution is the ground truth of one synthetic execution.
type Execution struct {
	// Log is the execution as GetFunctionLogs returns it.
	Log scf.FunctionLog `json:"log"`
	// Start is exact; Log.StartTime only has the second precision
	// Tencent returns.
	Start     time.Time `json:"start"`
	Qualifier string    `json:"qualifier"`
	Region    string    `json:"region"`
	Namespace string    `json:"namespace"`
}

// executions counts the executions that started in [from, to] and had
// finished at Now(), and lists the first keep of them by start (all for
// -1).
func (s *Simulator) executions(region, namespace, function string, from, to time.Time, keep int) (int64, []Execution) {
	w := &invocations.Window{Lo: invocations.Nanos(from), Hi: invocations.Nanos(to) + 1,
		Now: invocations.Nanos(s.now()), Order: invocations.Order{By: invocations.ByStart}, Keep: keep}
	count, rows := w.Run(s.matching(region, namespace, function))
	res := make([]Execution, len(rows))
	for i := range rows {
		r := &rows[i]
		res[i] = Execution{
			Log:       s.scf.FunctionLog(r),
			Start:     time.Unix(0, r.StartNs).In(s.loc),
			Qualifier: r.Qualifier(),
			Region:    r.Model.Region,
			Namespace: r.Model.Namespace,
		}
	}
	return count, res
}

// matching returns the functions a ground-truth query selects; empty
// arguments match anything.
func (s *Simulator) matching(region, namespace, function string) []*invocations.Model {
	var fns []*invocations.Model
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

// serveAPI answers the API: the gateway's checks (protocol, size,
// signature), then the service the credential scope names.
func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	reqID := uuid.NewString()
	lang := r.Header.Get("X-TC-Language")
	body, e := tcapi.ReadBody(r)
	if e != nil {
		s.fail(w, reqID, lang, e)
		return
	}
	var signed *tcapi.Signed
	c := &tcapi.Call{RequestID: reqID}
	if form, v1 := tcapi.V1Params(r, body); v1 {
		lang = form.Get("Language")
		c.Form = form
		signed, e = s.verifier.V1(r, form)
	} else {
		signed, e = s.verifier.TC3(r, body)
	}
	if e != nil {
		s.fail(w, reqID, lang, e)
		return
	}
	if signed.Service == cls.Service {
		s.serveCLS(w, r, body, signed, reqID, lang)
		return
	}
	c.SecretID, c.Action, c.Region = signed.SecretID, signed.Action, signed.Region
	s.serveSCF(w, r, body, c, signed.Version, lang)
}

// serveSCF answers an authenticated SCF call (signature v1 reaches SCF
// only): action, version and region, then faults, then the action's rate
// limit, then its parameters.
func (s *Simulator) serveSCF(w http.ResponseWriter, r *http.Request, body []byte, c *tcapi.Call, version, lang string) {
	fail := func(e *tcapi.Error) { s.fail(w, c.RequestID, lang, e) }
	act, ok := s.scf.Action(c.Action)
	if !ok {
		fail(tcapi.Errorf("InvalidAction", "The request `Action` is invalid or not found: `%s`.", c.Action))
		return
	}
	if version != scf.Version {
		fail(tcapi.Errorf("NoSuchVersion", "The requested version `%s` of service `%s` does not exist.", version, scf.Service))
		return
	}
	if !s.regions[c.Region] {
		// Tencent answers an unknown region as a bad parameter value.
		fail(tcapi.Errorf("InvalidParameterValue", "The value `%s` of parameter `Region` is invalid: no such region.", c.Region))
		return
	}

	if s.applyFaults(w, r, c.RequestID, c.SecretID) {
		return
	}
	if !s.ledger.admit(c.Action, c.SecretID) {
		fail(rateLimited(s.ledger.limit(c.Action)))
		return
	}
	if e := c.LocateParams(r, body); e != nil {
		fail(e)
		return
	}
	resp, e := act(c)
	if e != nil {
		fail(e)
		return
	}
	tcapi.WriteResponse(w, c.RequestID, resp)
}

// serveCLS answers an authenticated call whose credential scope names
// CLS. SearchLog's rate limit counts a call when it arrives and comes
// after the parameters, because the topics whose concurrency the call
// takes are among them; DescribeIndex is limited per second like SCF's
// actions.
func (s *Simulator) serveCLS(w http.ResponseWriter, r *http.Request, body []byte, signed *tcapi.Signed, reqID, lang string) {
	arrived := s.now()
	fail := func(e *tcapi.Error) { s.fail(w, reqID, lang, e) }
	if signed.Action != cls.ActionSearchLog && signed.Action != cls.ActionDescribeIndex {
		fail(tcapi.Errorf("InvalidAction", "The request `Action` is invalid or not found: `%s`.", signed.Action))
		return
	}
	if signed.Version != cls.Version {
		fail(tcapi.Errorf("NoSuchVersion", "The requested version `%s` of service `%s` does not exist.", signed.Version, cls.Service))
		return
	}
	if !s.regions[signed.Region] {
		fail(tcapi.Errorf("InvalidParameterValue", "The value `%s` of parameter `Region` is not supported.", signed.Region))
		return
	}
	if signed.Action == cls.ActionDescribeIndex {
		if s.applyFaults(w, r, reqID, signed.SecretID) {
			return
		}
		if !s.ledger.admit(signed.Action, signed.SecretID) {
			fail(rateLimited(s.ledger.limit(signed.Action)))
			return
		}
		resp, e := s.cls.DescribeIndex(r, body, signed.Region)
		if e != nil {
			fail(e)
			return
		}
		resp.RequestId = reqID
		tcapi.WriteResponse(w, reqID, resp)
		return
	}
	q, e := s.cls.Plan(r, body, signed.Region)
	if e != nil {
		fail(e)
		return
	}
	topics := q.TopicIDs()
	switch s.searchLimits.admit(signed.SecretID, topics, arrived) {
	case refusedRate:
		fail(rateLimited(s.searchLimits.rate))
		return
	case refusedConcurrency:
		fail(tcapi.Errorf("LimitExceeded.LogSearch",
			"The number of concurrent queries exceeds the limit, which is %d per topic.", s.searchLimits.conc))
		return
	}
	var scanned int64
	defer func() { s.searchLimits.release(topics, scanned) }()
	// Injected latency runs while the query holds its slot: a slow
	// upstream is one whose topic stays busy, which makes the concurrency
	// limit observable.
	if s.applyFaults(w, r, reqID, signed.SecretID) {
		return
	}
	resp, scanned, e := s.cls.Search(q)
	if e != nil {
		fail(e)
		return
	}
	// The latency model holds the slot too, for the time a query of this
	// many records takes.
	if !wait(r, s.cfg.CLS.Latency.of(scanned)) {
		return // the caller gave up: nobody reads an answer
	}
	resp.RequestId = reqID
	tcapi.WriteResponse(w, reqID, resp)
}

// rateLimited is Tencent's answer to a call over an action's limit.
func rateLimited(limit int) *tcapi.Error {
	return tcapi.Errorf("RequestLimitExceeded",
		"Your current request times exceeds the frequency limit `%d` for a second. Please reduce the frequency of calls.", limit)
}

// wait waits d unless the request is cancelled first, and reports whether
// it waited.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// fail writes e in the language the call asked for.
func (s *Simulator) fail(w http.ResponseWriter, reqID, lang string, e *tcapi.Error) {
	tcapi.WriteError(w, http.StatusOK, reqID, e.Code, s.messages.Text(e, lang))
}

// applyFaults runs the fault switches in their documented order and
// reports whether the call has been answered (or dropped) by one.
func (s *Simulator) applyFaults(w http.ResponseWriter, r *http.Request, reqID, secretID string) bool {
	f := s.Faults()
	if !wait(r, f.Latency) {
		// The caller gave up: nobody reads an answer.
		s.ledger.record(secretID, outFaulted)
		return true
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
		// A failed write means the caller hung up; a fault has nobody else to tell.
		_, _ = io.WriteString(w, `{"Response":{"TotalCount":3,"Data":[{"FunctionName":"APITest","RetMsg":"{\"processed\":`)
		return true
	case f.ErrorCode != "":
		s.ledger.record(secretID, outFaulted)
		s.fail(w, reqID, r.Header.Get("X-TC-Language"), &tcapi.Error{Code: f.ErrorCode, Message: faultMessage(f.ErrorCode)})
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
