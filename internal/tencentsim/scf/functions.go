package scf

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// The answers of GetFunction, ListFunctions and GetRequestStatus carry
// exactly the fields of the scf/v20180416 models of the official Go SDK
// v1.0.162 (GetRequestStatus, newer, those of the Node.js SDK's model), so
// both SDKs' typed models decode them strictly. Values the simulator has
// no model for (VPC, triggers, layers, ...) are the empty ones an
// unconfigured function has on Tencent.

// FunctionDetail is GetFunction's answer.
type FunctionDetail struct {
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
	VpcConfig         VpcConfig        `json:"VpcConfig"`
	UseGpu            string           `json:"UseGpu"`
	Environment       Environment      `json:"Environment"`
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
	Tags              []Tag            `json:"Tags"`
	EipConfig         EipOutConfig     `json:"EipConfig"`
	AccessInfo        AccessInfo       `json:"AccessInfo"`
	Type              string           `json:"Type"`
	L5Enable          string           `json:"L5Enable"`
	Layers            []struct{}       `json:"Layers"`
	DeadLetterConfig  DeadLetterConfig `json:"DeadLetterConfig"`
	AddTime           string           `json:"AddTime"`
	PublicNetConfig   PublicNetConfig  `json:"PublicNetConfig"`
	OnsEnable         string           `json:"OnsEnable"`
	CfsConfig         CfsConfig        `json:"CfsConfig"`
	AvailableStatus   string           `json:"AvailableStatus"`
	Qualifier         string           `json:"Qualifier"`
	InitTimeout       int64            `json:"InitTimeout"`
	StatusReasons     []StatusReason   `json:"StatusReasons"`
	RequestId         string           `json:"RequestId"`
}

type VpcConfig struct {
	VpcId    string `json:"VpcId"`
	SubnetId string `json:"SubnetId"`
}

type Environment struct {
	Variables []Tag `json:"Variables"` // Key/Value, as Tag
}

type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type EipOutConfig struct {
	EipFixed string   `json:"EipFixed"`
	Eips     []string `json:"Eips"`
}

type AccessInfo struct {
	Host string `json:"Host"`
	Vip  string `json:"Vip"`
}

type DeadLetterConfig struct {
	Type       string `json:"Type"`
	Name       string `json:"Name"`
	FilterType string `json:"FilterType"`
}

type PublicNetConfig struct {
	PublicNetStatus string `json:"PublicNetStatus"`
	EipConfig       struct {
		EipStatus  string   `json:"EipStatus"`
		EipAddress []string `json:"EipAddress"`
	} `json:"EipConfig"`
}

type CfsConfig struct {
	CfsInsList []struct{} `json:"CfsInsList"`
}

type StatusReason struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// FunctionSummary is one entry of ListFunctions.
type FunctionSummary struct {
	ModTime                        string         `json:"ModTime"`
	AddTime                        string         `json:"AddTime"`
	Runtime                        string         `json:"Runtime"`
	FunctionName                   string         `json:"FunctionName"`
	FunctionId                     string         `json:"FunctionId"`
	Namespace                      string         `json:"Namespace"`
	Status                         string         `json:"Status"`
	StatusDesc                     string         `json:"StatusDesc"`
	Description                    string         `json:"Description"`
	Tags                           []Tag          `json:"Tags"`
	Type                           string         `json:"Type"`
	StatusReasons                  []StatusReason `json:"StatusReasons"`
	TotalProvisionedConcurrencyMem uint64         `json:"TotalProvisionedConcurrencyMem"`
	ReservedConcurrencyMem         uint64         `json:"ReservedConcurrencyMem"`
}

type ListFunctionsResponse struct {
	Functions  []FunctionSummary `json:"Functions"`
	TotalCount int64             `json:"TotalCount"`
	RequestId  string            `json:"RequestId"`
}

// RequestStatus is one entry of GetRequestStatus. RetCode is 0 for
// success, 1 while running and -1 for any failure; MemUsage is in MB.
type RequestStatus struct {
	FunctionName string  `json:"FunctionName"`
	RetMsg       string  `json:"RetMsg"`
	RequestId    string  `json:"RequestId"`
	StartTime    string  `json:"StartTime"`
	RetCode      int64   `json:"RetCode"`
	Duration     float64 `json:"Duration"`
	MemUsage     float64 `json:"MemUsage"`
	RetryNum     int64   `json:"RetryNum"`
}

type GetRequestStatusResponse struct {
	TotalCount int64           `json:"TotalCount"`
	Data       []RequestStatus `json:"Data"`
	RequestId  string          `json:"RequestId"`
}

const (
	functionStatus = "Active"
	// GetFunction's Type: "HTTP" for a web function, else "Event".
	functionTypeEvent = "Event"
	functionTypeHTTP  = "HTTP"
	functionHandler   = "index.main_handler"
	// initTimeout is SCF's default initialisation timeout in seconds.
	initTimeout = 65
	// requestStatusWindow is GetRequestStatus's default look-back.
	requestStatusWindow = 15 * time.Minute
)

// addTime and modTime are fixed instants before origin, distinct per
// function so that ordering by them means something.
func addTime(f *invocations.Model, origin time.Time) time.Time {
	return origin.Add(-time.Duration(f.Key()%(30*24*3600)) * time.Second).Add(-24 * time.Hour)
}

func modTime(f *invocations.Model, origin time.Time) time.Time {
	add := addTime(f, origin)
	return add.Add(time.Duration((f.Key()>>32)%uint64(origin.Sub(add)/time.Second)) * time.Second)
}

// functionID is shaped like Tencent's: "lam-" and 8 lower-case alphanumerics.
func functionID(f *invocations.Model) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := []byte("lam-")
	for k := f.Key(); len(b) < 12; k /= 36 {
		b = append(b, digits[k%36])
	}
	return string(b)
}

func (a *API) getFunction(c *tcapi.Call) (any, *tcapi.Error) {
	p, e := tcapi.ReadParams(c, "FunctionName", "Qualifier", "Namespace", "ShowCode")
	if e != nil {
		return nil, e
	}
	name, ns, e := readFunction(p)
	if e != nil {
		return nil, e
	}
	qualifier, e := p.String("Qualifier")
	if e != nil {
		return nil, e
	}
	showCode, e := p.String("ShowCode")
	if e != nil {
		return nil, e
	}
	f, e := a.function(c.Region, ns, name)
	if e != nil {
		return nil, e
	}
	if qualifier == "" {
		qualifier = invocations.LatestQualifier
	}
	if qualifier != invocations.LatestQualifier && !slices.Contains(f.Qualifiers, qualifier) {
		return nil, tcapi.Errorf("ResourceNotFound.Version", "The version `%s` of function `%s` does not exist.", qualifier, name)
	}
	code := ""
	if strings.EqualFold(showCode, "TRUE") {
		code = "def main_handler(event, context):\n    return \"ok\"\n"
	}
	d := FunctionDetail{
		ModTime: a.timeText(modTime(f, a.origin)), CodeInfo: code, Description: f.Description,
		Triggers: []struct{}{}, Handler: functionHandler, CodeSize: 0,
		Timeout: (f.TimeoutMs + 999) / 1000, FunctionVersion: qualifier, MemorySize: f.MemorySizeMB,
		Runtime: f.Runtime, FunctionName: f.Name, UseGpu: "FALSE",
		Environment: Environment{Variables: []Tag{}}, CodeResult: "success", Namespace: f.Namespace,
		InstallDependency: "FALSE", Status: functionStatus, ClsLogsetId: f.ClsLogsetID,
		ClsTopicId: f.ClsTopicID, FunctionId: functionID(f), Tags: []Tag{},
		EipConfig: EipOutConfig{EipFixed: "FALSE", Eips: []string{}}, Type: functionType(f), L5Enable: "FALSE",
		Layers: []struct{}{}, AddTime: a.timeText(addTime(f, a.origin)), OnsEnable: "FALSE",
		CfsConfig: CfsConfig{CfsInsList: []struct{}{}}, AvailableStatus: "Available", Qualifier: qualifier,
		InitTimeout: initTimeout, StatusReasons: []StatusReason{}, RequestId: c.RequestID,
	}
	d.PublicNetConfig.PublicNetStatus = "ENABLE"
	d.PublicNetConfig.EipConfig.EipStatus = "DISABLE"
	d.PublicNetConfig.EipConfig.EipAddress = []string{}
	return d, nil
}

// function finds one function; the namespace must exist.
func (a *API) function(region, ns, name string) (*invocations.Model, *tcapi.Error) {
	fns, e := a.namespace(region, ns)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(fns, func(f *invocations.Model) bool { return f.Name == name })
	if i < 0 {
		return nil, errFunctionNotFound(name, ns)
	}
	return fns[i], nil
}

func (a *API) listFunctions(c *tcapi.Call) (any, *tcapi.Error) {
	p, e := tcapi.ReadParams(c, "Order", "Orderby", "Offset", "Limit", "SearchKey", "Namespace", "Description", "Filters")
	if e != nil {
		return nil, e
	}
	strs := map[string]string{}
	for _, k := range []string{"Order", "Orderby", "SearchKey", "Namespace", "Description"} {
		if strs[k], e = p.String(k); e != nil {
			return nil, e
		}
	}
	offset, limit := int64(0), int64(20)
	for k, dst := range map[string]*int64{"Offset": &offset, "Limit": &limit} {
		n, e := p.Int(k)
		if e != nil {
			return nil, e
		}
		if n != nil {
			if *n < 0 {
				return nil, tcapi.Errorf("InvalidParameterValue", "%s must not be negative.", k)
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
		return nil, tcapi.Errorf("InvalidParameterValue", "Order must be ASC or DESC, got `%s`.", strs["Order"])
	}
	by := strs["Orderby"]
	if by == "" {
		by = "AddTime"
	}
	if by != "AddTime" && by != "ModTime" && by != "FunctionName" {
		return nil, tcapi.Errorf("InvalidParameterValue", "Orderby must be AddTime, ModTime or FunctionName, got `%s`.", by)
	}
	filters, e := readFilters(p)
	if e != nil {
		return nil, e
	}
	ns := strs["Namespace"]
	if ns == "" {
		ns = invocations.DefaultNamespace
	}
	fns, known := a.byRegion[c.Region][ns]
	if !known && ns != invocations.DefaultNamespace {
		return nil, tcapi.Errorf("ResourceNotFound.Namespace", "The namespace `%s` does not exist.", ns)
	}
	var rows []FunctionSummary
	for _, f := range fns {
		if !containsFold(f.Name, strs["SearchKey"]) || !containsFold(f.Description, strs["Description"]) ||
			!filters.match(f) {
			continue
		}
		rows = append(rows, FunctionSummary{
			ModTime: a.timeText(modTime(f, a.origin)), AddTime: a.timeText(addTime(f, a.origin)),
			Runtime: f.Runtime, FunctionName: f.Name, FunctionId: functionID(f), Namespace: f.Namespace,
			Status: functionStatus, Description: f.Description, Tags: []Tag{}, Type: functionType(f),
			StatusReasons: []StatusReason{},
		})
	}
	// The time layout sorts like the instant; names break ties.
	slices.SortFunc(rows, func(a, b FunctionSummary) int {
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
	resp := ListFunctionsResponse{Functions: []FunctionSummary{}, TotalCount: int64(len(rows)), RequestId: c.RequestID}
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

func (ff functionFilters) match(f *invocations.Model) bool {
	for _, flt := range ff {
		var v string
		switch flt.name {
		case "Status":
			v = functionStatus
		case "Runtime":
			v = f.Runtime
		case "Type":
			v = functionType(f)
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

func (a *API) getRequestStatus(c *tcapi.Call) (any, *tcapi.Error) {
	p, e := tcapi.ReadParams(c, "FunctionName", "FunctionRequestId", "Namespace", "StartTime", "EndTime")
	if e != nil {
		return nil, e
	}
	name, ns, e := readFunction(p)
	if e != nil {
		return nil, e
	}
	reqID, e := p.String("FunctionRequestId")
	if e != nil {
		return nil, e
	}
	if reqID == "" {
		return nil, tcapi.Errorf("MissingParameter", "The request is missing a required parameter `FunctionRequestId`.")
	}
	start, e := p.String("StartTime")
	if e != nil {
		return nil, e
	}
	end, e := p.String("EndTime")
	if e != nil {
		return nil, e
	}
	now := a.now()
	lo, hi := now.Add(-requestStatusWindow), now
	switch {
	case start == "" && end != "":
		if hi, e = a.parseTime("EndTime", end); e != nil {
			return nil, e
		}
		lo = hi.Add(-requestStatusWindow)
	case start != "" && end == "":
		return nil, tcapi.Errorf("InvalidParameterValue.StartTimeOrEndTime", "EndTime is required with StartTime.")
	case start != "":
		if lo, e = a.parseTime("StartTime", start); e != nil {
			return nil, e
		}
		if hi, e = a.parseTime("EndTime", end); e != nil {
			return nil, e
		}
		// Tencent documents no maximum; the simulator borrows
		// GetFunctionLogs's one day to bound the work.
		if !hi.After(lo) || hi.Sub(lo) > 24*time.Hour {
			return nil, tcapi.Errorf("InvalidParameterValue.DateTime", "EndTime must be after StartTime and within one day of it.")
		}
	}
	f, e := a.function(c.Region, ns, name)
	if e != nil {
		return nil, e
	}
	resp := GetRequestStatusResponse{Data: []RequestStatus{}, RequestId: c.RequestID}
	if id, ok := invocations.ParseID(strings.ToLower(reqID)); ok {
		nowNs := invocations.Nanos(now)
		if r, found := f.Find(id, invocations.Nanos(lo), invocations.Nanos(hi.Add(time.Second)), nowNs); found {
			resp.Data = append(resp.Data, a.requestStatus(&r, nowNs))
			resp.TotalCount = 1
		}
	}
	return resp, nil
}

func (a *API) parseTime(name, v string) (time.Time, *tcapi.Error) {
	t, err := time.ParseInLocation(TimeLayout, v, a.loc)
	if err != nil {
		return t, tcapi.Errorf("InvalidParameterValue.DateTime", "%s must look like 2017-05-16 20:00:00.", name)
	}
	return t, nil
}

func (a *API) requestStatus(r *invocations.Record, now int64) RequestStatus {
	st := RequestStatus{
		FunctionName: r.Model.Name, RequestId: r.RequestID(),
		StartTime: a.timeText(time.Unix(0, r.StartNs)),
	}
	if r.StartNs+r.DurNs > now {
		st.RetCode = 1 // still running: no result, duration or memory yet
		return st
	}
	st.RetMsg, st.Duration, st.RetryNum = r.RetMsg(), r.DurMs, int64(r.Retries)
	st.MemUsage = float64(r.Mem) / (1 << 20) // exact: usage is whole 4 KiB pages
	if r.Outcome != invocations.Succeeded {
		st.RetCode = -1
	}
	return st
}

// readFunction reads the required FunctionName and the Namespace
// (default "default").
func readFunction(p *tcapi.Params) (name, ns string, e *tcapi.Error) {
	if name, e = p.String("FunctionName"); e != nil {
		return "", "", e
	}
	if name == "" {
		return "", "", tcapi.Errorf("MissingParameter", "The request is missing a required parameter `FunctionName`.")
	}
	if ns, e = p.String("Namespace"); e != nil {
		return "", "", e
	}
	return name, cmp.Or(ns, invocations.DefaultNamespace), nil
}

// readFilters reads Filters, as a JSON array or flattened
// (Filters.0.Name=..., Filters.0.Values.0=...).
func readFilters(p *tcapi.Params) (functionFilters, *tcapi.Error) {
	type filter struct {
		Name   string   `json:"Name"`
		Values []string `json:"Values"`
	}
	var list []filter
	if p.Form != nil {
		for i := 0; p.Form.Has("Filters." + strconv.Itoa(i) + ".Name"); i++ {
			prefix := "Filters." + strconv.Itoa(i) + "."
			f := filter{Name: p.Form.Get(prefix + "Name")}
			for j := 0; p.Form.Has(prefix + "Values." + strconv.Itoa(j)); j++ {
				f.Values = append(f.Values, p.Form.Get(prefix+"Values."+strconv.Itoa(j)))
			}
			list = append(list, f)
		}
	} else if raw, ok := p.JSON["Filters"]; ok && !tcapi.IsNull(raw) {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, tcapi.TypeError("Filters", "Array of Filter")
		}
	}
	if len(list) > 10 {
		return nil, tcapi.Errorf("InvalidParameterValue", "At most 10 Filters are allowed.")
	}
	var out functionFilters
	for _, f := range list {
		multi, known := filterNames[f.Name]
		switch {
		case !known && !strings.HasPrefix(f.Name, "tag-"):
			return nil, tcapi.Errorf("InvalidParameterValue", "Filters: unsupported Name `%s`.", f.Name)
		case len(f.Values) == 0 || (known && !multi && len(f.Values) > 1) || len(f.Values) > 20:
			return nil, tcapi.Errorf("InvalidParameterValue", "Filters: wrong number of Values for `%s`.", f.Name)
		}
		out = append(out, struct {
			name   string
			values []string
		}{f.Name, f.Values})
	}
	return out, nil
}

// functionType is GetFunction's and ListFunctions's Type of f.
func functionType(f *invocations.Model) string {
	if f.Type == invocations.TypeWeb {
		return functionTypeHTTP
	}
	return functionTypeEvent
}
