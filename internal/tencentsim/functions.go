package tencentsim

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/translate/scf"
)

// The answers of GetFunction, ListFunctions and GetRequestStatus carry
// exactly the fields of the scf/v20180416 models of the official Go SDK
// v1.0.162 (GetRequestStatus, newer, those of the Node.js SDK's model), so
// both SDKs' typed models decode them strictly. Values the simulator has
// no model for (VPC, triggers, layers, ...) are the empty ones an
// unconfigured function has on Tencent.

// functionDetail is GetFunction's answer.
type functionDetail struct {
	ModTime           string           `json:"ModTime"`
	CodeInfo          string           `json:"CodeInfo"`
	Description       string           `json:"Description"`
	Triggers          []struct{}       `json:"Triggers"`
	Handler           string           `json:"Handler"`
	CodeSize          int64            `json:"CodeSize"`
	Timeout           int64            `json:"Timeout"`
	FunctionVersion   string           `json:"FunctionVersion"`
	MemorySize        int64            `json:"MemorySize"`
	Runtime           string           `json:"Runtime"`
	FunctionName      string           `json:"FunctionName"`
	VpcConfig         vpcConfig        `json:"VpcConfig"`
	UseGpu            string           `json:"UseGpu"`
	Environment       environment      `json:"Environment"`
	CodeResult        string           `json:"CodeResult"`
	CodeError         string           `json:"CodeError"`
	ErrNo             int64            `json:"ErrNo"`
	Namespace         string           `json:"Namespace"`
	Role              string           `json:"Role"`
	InstallDependency string           `json:"InstallDependency"`
	Status            string           `json:"Status"`
	StatusDesc        string           `json:"StatusDesc"`
	ClsLogsetId       string           `json:"ClsLogsetId"`
	ClsTopicId        string           `json:"ClsTopicId"`
	FunctionId        string           `json:"FunctionId"`
	Tags              []tag            `json:"Tags"`
	EipConfig         eipOutConfig     `json:"EipConfig"`
	AccessInfo        accessInfo       `json:"AccessInfo"`
	Type              string           `json:"Type"`
	L5Enable          string           `json:"L5Enable"`
	Layers            []struct{}       `json:"Layers"`
	DeadLetterConfig  deadLetterConfig `json:"DeadLetterConfig"`
	AddTime           string           `json:"AddTime"`
	PublicNetConfig   publicNetConfig  `json:"PublicNetConfig"`
	OnsEnable         string           `json:"OnsEnable"`
	CfsConfig         cfsConfig        `json:"CfsConfig"`
	AvailableStatus   string           `json:"AvailableStatus"`
	Qualifier         string           `json:"Qualifier"`
	InitTimeout       int64            `json:"InitTimeout"`
	StatusReasons     []statusReason   `json:"StatusReasons"`
	RequestId         string           `json:"RequestId"`
}

type vpcConfig struct {
	VpcId    string `json:"VpcId"`
	SubnetId string `json:"SubnetId"`
}

type environment struct {
	Variables []tag `json:"Variables"` // Key/Value, as Tag
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type eipOutConfig struct {
	EipFixed string   `json:"EipFixed"`
	Eips     []string `json:"Eips"`
}

type accessInfo struct {
	Host string `json:"Host"`
	Vip  string `json:"Vip"`
}

type deadLetterConfig struct {
	Type       string `json:"Type"`
	Name       string `json:"Name"`
	FilterType string `json:"FilterType"`
}

type publicNetConfig struct {
	PublicNetStatus string `json:"PublicNetStatus"`
	EipConfig       struct {
		EipStatus  string   `json:"EipStatus"`
		EipAddress []string `json:"EipAddress"`
	} `json:"EipConfig"`
}

type cfsConfig struct {
	CfsInsList []struct{} `json:"CfsInsList"`
}

type statusReason struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// functionSummary is one entry of ListFunctions.
type functionSummary struct {
	ModTime                        string         `json:"ModTime"`
	AddTime                        string         `json:"AddTime"`
	Runtime                        string         `json:"Runtime"`
	FunctionName                   string         `json:"FunctionName"`
	FunctionId                     string         `json:"FunctionId"`
	Namespace                      string         `json:"Namespace"`
	Status                         string         `json:"Status"`
	StatusDesc                     string         `json:"StatusDesc"`
	Description                    string         `json:"Description"`
	Tags                           []tag          `json:"Tags"`
	Type                           string         `json:"Type"`
	StatusReasons                  []statusReason `json:"StatusReasons"`
	TotalProvisionedConcurrencyMem uint64         `json:"TotalProvisionedConcurrencyMem"`
	ReservedConcurrencyMem         uint64         `json:"ReservedConcurrencyMem"`
}

type listFunctionsResponse struct {
	Functions  []functionSummary `json:"Functions"`
	TotalCount int64             `json:"TotalCount"`
	RequestId  string            `json:"RequestId"`
}

// requestStatus is one entry of GetRequestStatus. RetCode is 0 for
// success, 1 while running and -1 for any failure; MemUsage is in MB.
type requestStatus struct {
	FunctionName string  `json:"FunctionName"`
	RetMsg       string  `json:"RetMsg"`
	RequestId    string  `json:"RequestId"`
	StartTime    string  `json:"StartTime"`
	RetCode      int64   `json:"RetCode"`
	Duration     float64 `json:"Duration"`
	MemUsage     float64 `json:"MemUsage"`
	RetryNum     int64   `json:"RetryNum"`
}

type getRequestStatusResponse struct {
	TotalCount int64           `json:"TotalCount"`
	Data       []requestStatus `json:"Data"`
	RequestId  string          `json:"RequestId"`
}

const (
	functionStatus  = "Active"
	functionType    = "Event"
	functionHandler = "index.main_handler"
	// initTimeout is SCF's default initialisation timeout in seconds.
	initTimeout = 65
	// requestStatusWindow is GetRequestStatus's default look-back.
	requestStatusWindow = 15 * time.Minute
)

// addTime and modTime are fixed instants before Origin, distinct per
// function so that ordering by them means something.
func (f *fnModel) addTime(origin time.Time) time.Time {
	return origin.Add(-time.Duration(f.key%(30*24*3600)) * time.Second).Add(-24 * time.Hour)
}

func (f *fnModel) modTime(origin time.Time) time.Time {
	add := f.addTime(origin)
	return add.Add(time.Duration((f.key>>32)%uint64(origin.Sub(add)/time.Second)) * time.Second)
}

// functionID is shaped like Tencent's: "lam-" and 8 lower-case alphanumerics.
func (f *fnModel) functionID() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := []byte("lam-")
	for k := f.key; len(b) < 12; k /= 36 {
		b = append(b, digits[k%36])
	}
	return string(b)
}

func (s *Simulator) timeText(t time.Time) string {
	return t.In(s.loc).Format(scf.TimeLayout)
}

func (s *Simulator) getFunction(c *apiCall) (any, *apiError) {
	p, e := readParams(c, "FunctionName", "Qualifier", "Namespace", "ShowCode")
	if e != nil {
		return nil, e
	}
	name, ns, e := p.function()
	if e != nil {
		return nil, e
	}
	qualifier, e := p.str("Qualifier")
	if e != nil {
		return nil, e
	}
	showCode, e := p.str("ShowCode")
	if e != nil {
		return nil, e
	}
	f, e := s.function(c.region, ns, name)
	if e != nil {
		return nil, e
	}
	if qualifier == "" {
		qualifier = defaultQualifier
	}
	if qualifier != defaultQualifier && !slices.Contains(f.Qualifiers, qualifier) {
		return nil, errf("ResourceNotFound.Version", "The version `%s` of function `%s` does not exist.", qualifier, name)
	}
	code := ""
	if strings.EqualFold(showCode, "TRUE") {
		code = "def main_handler(event, context):\n    return \"ok\"\n"
	}
	d := functionDetail{
		ModTime: s.timeText(f.modTime(s.cfg.Origin)), CodeInfo: code, Description: f.Description,
		Triggers: []struct{}{}, Handler: functionHandler, CodeSize: 0,
		Timeout: (f.TimeoutMs + 999) / 1000, FunctionVersion: qualifier, MemorySize: f.MemorySizeMB,
		Runtime: f.Runtime, FunctionName: f.Name, UseGpu: "FALSE",
		Environment: environment{Variables: []tag{}}, CodeResult: "success", Namespace: f.Namespace,
		InstallDependency: "FALSE", Status: functionStatus, ClsLogsetId: f.ClsLogsetID,
		ClsTopicId: f.ClsTopicID, FunctionId: f.functionID(), Tags: []tag{},
		EipConfig: eipOutConfig{EipFixed: "FALSE", Eips: []string{}}, Type: functionType, L5Enable: "FALSE",
		Layers: []struct{}{}, AddTime: s.timeText(f.addTime(s.cfg.Origin)), OnsEnable: "FALSE",
		CfsConfig: cfsConfig{CfsInsList: []struct{}{}}, AvailableStatus: "Available", Qualifier: qualifier,
		InitTimeout: initTimeout, StatusReasons: []statusReason{}, RequestId: c.reqID,
	}
	d.PublicNetConfig.PublicNetStatus = "ENABLE"
	d.PublicNetConfig.EipConfig.EipStatus = "DISABLE"
	d.PublicNetConfig.EipConfig.EipAddress = []string{}
	return d, nil
}

// function finds one function; the namespace must exist.
func (s *Simulator) function(region, ns, name string) (*fnModel, *apiError) {
	fns, e := s.namespace(region, ns)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(fns, func(f *fnModel) bool { return f.Name == name })
	if i < 0 {
		return nil, errFunctionNotFound(name, ns)
	}
	return fns[i], nil
}

func (s *Simulator) listFunctions(c *apiCall) (any, *apiError) {
	p, e := readParams(c, "Order", "Orderby", "Offset", "Limit", "SearchKey", "Namespace", "Description", "Filters")
	if e != nil {
		return nil, e
	}
	strs := map[string]string{}
	for _, k := range []string{"Order", "Orderby", "SearchKey", "Namespace", "Description"} {
		if strs[k], e = p.str(k); e != nil {
			return nil, e
		}
	}
	offset, limit := int64(0), int64(20)
	for k, dst := range map[string]*int64{"Offset": &offset, "Limit": &limit} {
		n, e := p.int(k)
		if e != nil {
			return nil, e
		}
		if n != nil {
			if *n < 0 {
				return nil, errf("InvalidParameterValue", "%s must not be negative.", k)
			}
			*dst = *n
		}
	}
	desc := true // newest first unless asked otherwise (Tencent documents no default)
	switch strings.ToUpper(strs["Order"]) {
	case "", "DESC":
	case "ASC":
		desc = false
	default:
		return nil, errf("InvalidParameterValue", "Order must be ASC or DESC, got `%s`.", strs["Order"])
	}
	by := strs["Orderby"]
	if by == "" {
		by = "AddTime"
	}
	if by != "AddTime" && by != "ModTime" && by != "FunctionName" {
		return nil, errf("InvalidParameterValue", "Orderby must be AddTime, ModTime or FunctionName, got `%s`.", by)
	}
	filters, e := p.filters()
	if e != nil {
		return nil, e
	}
	ns := strs["Namespace"]
	if ns == "" {
		ns = defaultNamespace
	}
	fns, known := s.byRegion[c.region][ns]
	if !known && ns != defaultNamespace {
		return nil, errf("ResourceNotFound.Namespace", "The namespace `%s` does not exist.", ns)
	}
	var rows []functionSummary
	for _, f := range fns {
		if !containsFold(f.Name, strs["SearchKey"]) || !containsFold(f.Description, strs["Description"]) ||
			!filters.match(f) {
			continue
		}
		rows = append(rows, functionSummary{
			ModTime: s.timeText(f.modTime(s.cfg.Origin)), AddTime: s.timeText(f.addTime(s.cfg.Origin)),
			Runtime: f.Runtime, FunctionName: f.Name, FunctionId: f.functionID(), Namespace: f.Namespace,
			Status: functionStatus, Description: f.Description, Tags: []tag{}, Type: functionType,
			StatusReasons: []statusReason{},
		})
	}
	// The time layout sorts like the instant; names break ties.
	slices.SortFunc(rows, func(a, b functionSummary) int {
		c := 0
		switch by {
		case "AddTime":
			c = strings.Compare(a.AddTime, b.AddTime)
		case "ModTime":
			c = strings.Compare(a.ModTime, b.ModTime)
		}
		if c == 0 {
			c = strings.Compare(a.FunctionName, b.FunctionName)
		}
		if desc {
			return -c
		}
		return c
	})
	resp := listFunctionsResponse{Functions: []functionSummary{}, TotalCount: int64(len(rows)), RequestId: c.reqID}
	if offset < int64(len(rows)) {
		resp.Functions = rows[offset:min(int64(len(rows)), offset+limit)]
	}
	return resp, nil
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// functionFilters are ListFunctions' Filters: every filter must match one
// of its values.
type functionFilters []struct {
	name   string
	values []string
}

func (ff functionFilters) match(f *fnModel) bool {
	for _, flt := range ff {
		var v string
		switch flt.name {
		case "Status":
			v = functionStatus
		case "Runtime":
			v = f.Runtime
		case "Type":
			v = functionType
		case "ClsTopicId":
			v = f.ClsTopicID
		case "ClsLogsetId":
			v = f.ClsLogsetID
		default: // tag-<key>: simulated functions have no tags
			return false
		}
		if !slices.Contains(flt.values, v) {
			return false
		}
	}
	return true
}

// filterNames are the Filters names the simulator evaluates, with whether
// Tencent allows several values for them.
var filterNames = map[string]bool{
	"Status": true, "Runtime": true, "Type": true, "ClsTopicId": false, "ClsLogsetId": false,
}

func (s *Simulator) getRequestStatus(c *apiCall) (any, *apiError) {
	p, e := readParams(c, "FunctionName", "FunctionRequestId", "Namespace", "StartTime", "EndTime")
	if e != nil {
		return nil, e
	}
	name, ns, e := p.function()
	if e != nil {
		return nil, e
	}
	reqID, e := p.str("FunctionRequestId")
	if e != nil {
		return nil, e
	}
	if reqID == "" {
		return nil, errf("MissingParameter", "The request is missing a required parameter `FunctionRequestId`.")
	}
	start, e := p.str("StartTime")
	if e != nil {
		return nil, e
	}
	end, e := p.str("EndTime")
	if e != nil {
		return nil, e
	}
	now := s.now()
	lo, hi := now.Add(-requestStatusWindow), now
	switch {
	case start == "" && end != "":
		if hi, e = s.parseTime("EndTime", end); e != nil {
			return nil, e
		}
		lo = hi.Add(-requestStatusWindow)
	case start != "" && end == "":
		return nil, errf("InvalidParameterValue.StartTimeOrEndTime", "EndTime is required with StartTime.")
	case start != "":
		if lo, e = s.parseTime("StartTime", start); e != nil {
			return nil, e
		}
		if hi, e = s.parseTime("EndTime", end); e != nil {
			return nil, e
		}
		// Tencent documents no maximum; the simulator borrows
		// GetFunctionLogs's one day to bound the work.
		if !hi.After(lo) || hi.Sub(lo) > 24*time.Hour {
			return nil, errf("InvalidParameterValue.DateTime", "EndTime must be after StartTime and within one day of it.")
		}
	}
	f, e := s.function(c.region, ns, name)
	if e != nil {
		return nil, e
	}
	resp := getRequestStatusResponse{Data: []requestStatus{}, RequestId: c.reqID}
	if id, ok := parseID(strings.ToLower(reqID)); ok {
		if r, found := f.find(id, nanos(lo), nanos(hi.Add(time.Second)), nanos(now)); found {
			resp.Data = append(resp.Data, s.requestStatus(&r, nanos(now)))
			resp.TotalCount = 1
		}
	}
	return resp, nil
}

func (s *Simulator) parseTime(name, v string) (time.Time, *apiError) {
	t, err := time.ParseInLocation(scf.TimeLayout, v, s.loc)
	if err != nil {
		return t, errf("InvalidParameterValue.DateTime", "%s must look like 2017-05-16 20:00:00.", name)
	}
	return t, nil
}

// find looks for the execution with id among those that started in
// [lo, hi) and by now, finished or not.
func (f *fnModel) find(id [16]byte, lo, hi, now int64) (rec, bool) {
	first := max(floorDiv(lo-f.firstNs+f.periodNs-1, f.periodNs), 0)
	last := min(floorDiv(min(hi-1, now)-f.firstNs, f.periodNs), f.lastIdx)
	for i := first; i <= last; i++ {
		if r := f.exec(i); r.id == id {
			return r, true
		}
	}
	return rec{}, false
}

func (s *Simulator) requestStatus(r *rec, now int64) requestStatus {
	st := requestStatus{
		FunctionName: r.fn.Name, RequestId: formatID(r.id),
		StartTime: s.timeText(time.Unix(0, r.startNs)),
	}
	if r.startNs+r.durNs > now {
		st.RetCode = 1 // still running: no result, duration or memory yet
		return st
	}
	st.RetMsg, st.Duration, st.RetryNum = r.retMsg(), r.durMs, int64(r.retry)
	st.MemUsage = float64(r.mem) / (1 << 20) // exact: usage is whole 4 KiB pages
	if r.kind != kindSuccess {
		st.RetCode = -1
	}
	return st
}

// params reads the action parameters of GetFunction, ListFunctions and
// GetRequestStatus from a JSON body or a flattened form.
type params struct {
	json map[string]json.RawMessage
	form url.Values
}

// readParams refuses parameters other than known (in a form, common
// parameters and flattened Filters.N.* aside).
func readParams(c *apiCall, known ...string) (*params, *apiError) {
	p := &params{form: c.form}
	if c.form != nil {
		for k := range c.form {
			base, _, _ := strings.Cut(k, ".")
			if !commonQueryParams[k] && !(slices.Contains(known, base) && (base == k || base == "Filters")) {
				return nil, unknownParam(k)
			}
		}
		return p, nil
	}
	var e *apiError
	if p.json, e = jsonObject(c.json); e != nil {
		return nil, e
	}
	for _, k := range slices.Sorted(maps.Keys(p.json)) {
		if !slices.Contains(known, k) {
			return nil, unknownParam(k)
		}
	}
	return p, nil
}

func (p *params) str(name string) (string, *apiError) {
	if p.form != nil {
		return p.form.Get(name), nil
	}
	raw, ok := p.json[name]
	if !ok || isNull(raw) {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", typeError(name, "String")
	}
	return v, nil
}

func (p *params) int(name string) (*int64, *apiError) {
	if p.form != nil {
		if !p.form.Has(name) {
			return nil, nil
		}
		n, err := strconv.ParseInt(p.form.Get(name), 10, 64)
		if err != nil {
			return nil, typeError(name, "Integer")
		}
		return &n, nil
	}
	raw, ok := p.json[name]
	if !ok || isNull(raw) {
		return nil, nil
	}
	n, ok := jsonInt(raw)
	if !ok {
		return nil, typeError(name, "Integer")
	}
	return &n, nil
}

// function reads the required FunctionName and the Namespace (default
// "default").
func (p *params) function() (name, ns string, e *apiError) {
	if name, e = p.str("FunctionName"); e != nil {
		return "", "", e
	}
	if name == "" {
		return "", "", errf("MissingParameter", "The request is missing a required parameter `FunctionName`.")
	}
	if ns, e = p.str("Namespace"); e != nil {
		return "", "", e
	}
	return name, cmp.Or(ns, defaultNamespace), nil
}

// filters reads Filters, as a JSON array or flattened
// (Filters.0.Name=..., Filters.0.Values.0=...).
func (p *params) filters() (functionFilters, *apiError) {
	type filter struct {
		Name   string   `json:"Name"`
		Values []string `json:"Values"`
	}
	var list []filter
	if p.form != nil {
		for i := 0; p.form.Has("Filters." + strconv.Itoa(i) + ".Name"); i++ {
			prefix := "Filters." + strconv.Itoa(i) + "."
			f := filter{Name: p.form.Get(prefix + "Name")}
			for j := 0; p.form.Has(prefix + "Values." + strconv.Itoa(j)); j++ {
				f.Values = append(f.Values, p.form.Get(prefix+"Values."+strconv.Itoa(j)))
			}
			list = append(list, f)
		}
	} else if raw, ok := p.json["Filters"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, typeError("Filters", "Array of Filter")
		}
	}
	if len(list) > 10 {
		return nil, errf("InvalidParameterValue", "At most 10 Filters are allowed.")
	}
	var out functionFilters
	for _, f := range list {
		multi, known := filterNames[f.Name]
		switch {
		case !known && !strings.HasPrefix(f.Name, "tag-"):
			return nil, errf("InvalidParameterValue", "Filters: unsupported Name `%s`.", f.Name)
		case len(f.Values) == 0 || (known && !multi && len(f.Values) > 1) || len(f.Values) > 20:
			return nil, errf("InvalidParameterValue", "Filters: wrong number of Values for `%s`.", f.Name)
		}
		out = append(out, struct {
			name   string
			values []string
		}{f.Name, f.Values})
	}
	return out, nil
}
