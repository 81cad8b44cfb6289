package scf

import (
	"slices"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// Service is SCF's TC3 credential-scope service and Version the API
// version of every action here.
const (
	Service = "scf"
	Version = "2018-04-16"
)

// The SCF actions the simulator serves.
const (
	ActionGetFunctionLogs  = "GetFunctionLogs"
	ActionGetFunction      = "GetFunction"
	ActionListFunctions    = "ListFunctions"
	ActionGetRequestStatus = "GetRequestStatus"
)

// TimeLayout is the format of StartTime and EndTime, in requests and
// answers alike. It carries no zone: SCF speaks its own local time
// (Asia/Shanghai).
const TimeLayout = "2006-01-02 15:04:05"

// API answers SCF's actions over the simulated functions.
type API struct {
	now    func() time.Time
	loc    *time.Location
	origin time.Time
	// byRegion maps region -> namespace -> functions sorted by name.
	byRegion map[string]map[string][]*invocations.Model
}

// New serves fns, whose executions began at origin; loc is the zone of
// SCF's times and now the clock.
func New(fns []*invocations.Model, origin time.Time, loc *time.Location, now func() time.Time) *API {
	a := &API{now: now, loc: loc, origin: origin, byRegion: map[string]map[string][]*invocations.Model{}}
	for _, f := range fns {
		ns := a.byRegion[f.Region]
		if ns == nil {
			ns = map[string][]*invocations.Model{}
			a.byRegion[f.Region] = ns
		}
		ns[f.Namespace] = append(ns[f.Namespace], f)
	}
	for _, nss := range a.byRegion {
		for _, fns := range nss {
			slices.SortFunc(fns, func(a, b *invocations.Model) int { return strings.Compare(a.Name, b.Name) })
		}
	}
	return a
}

// Action answers a call that passed authentication, the region check and
// its rate limit.
type Action func(c *tcapi.Call) (any, *tcapi.Error)

var actions = map[string]func(*API, *tcapi.Call) (any, *tcapi.Error){
	ActionGetFunctionLogs:  (*API).getFunctionLogs,
	ActionGetFunction:      (*API).getFunction,
	ActionListFunctions:    (*API).listFunctions,
	ActionGetRequestStatus: (*API).getRequestStatus,
}

// Action returns the action called name, if SCF has it here.
func (a *API) Action(name string) (Action, bool) {
	act, ok := actions[name]
	if !ok {
		return nil, false
	}
	return func(c *tcapi.Call) (any, *tcapi.Error) { return act(a, c) }, true
}

// namespace returns the functions of a namespace. The default namespace
// exists in every region even when it has no functions.
func (a *API) namespace(region, ns string) ([]*invocations.Model, *tcapi.Error) {
	fns, known := a.byRegion[region][ns]
	if !known && ns != invocations.DefaultNamespace {
		return nil, tcapi.Errorf("ResourceNotFound.Function", "The namespace `%s` does not exist.", ns)
	}
	return fns, nil
}

func errFunctionNotFound(name, ns string) *tcapi.Error {
	return tcapi.Errorf("ResourceNotFound.Function", "The function `%s` does not exist in namespace `%s`.", name, ns)
}

func (a *API) timeText(t time.Time) string {
	return t.In(a.loc).Format(TimeLayout)
}

// ChineseMessages are the zh-CN messages of the error codes only SCF
// answers here, worded after Tencent's Chinese error-code pages.
func ChineseMessages() map[string]string {
	return map[string]string{
		"InvalidParameterValue.DateTime":           "DateTime 传入错误。",
		"InvalidParameterValue.Offset":             "Offset 传入错误。",
		"InvalidParameterValue.Order":              "Order 传入错误。",
		"InvalidParameterValue.OrderBy":            "OrderBy 传入错误。",
		"InvalidParameterValue.RetCode":            "RetCode 传入错误。",
		"InvalidParameterValue.StartTimeOrEndTime": "StartTime 或 EndTime 传入错误。",
		"LimitExceeded.Offset":                     "Offset 超出限制。",
		"ResourceNotFound.Function":                "函数不存在。",
		"ResourceNotFound.Namespace":               "命名空间不存在。",
		"ResourceNotFound.Version":                 "版本不存在。",
	}
}
