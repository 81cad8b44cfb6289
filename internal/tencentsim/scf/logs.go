package scf

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
	"github.com/mudscf/mudscf/internal/tencentsim/tcapi"
)

// The wire types of GetFunctionLogs, field for field Tencent's
// documentation and the SDKs' models. They are the simulator's own, not
// its client's: a type shared by both ends of the wire would make a
// misspelt field agree with itself.

// FunctionLog is one execution record as GetFunctionLogs returns it.
type FunctionLog struct {
	FunctionName   string  `json:"FunctionName"`
	RetMsg         string  `json:"RetMsg"`
	RequestId      string  `json:"RequestId"`
	StartTime      string  `json:"StartTime"`
	RetCode        int64   `json:"RetCode"`
	InvokeFinished int64   `json:"InvokeFinished"`
	Duration       float64 `json:"Duration"`
	BillDuration   int64   `json:"BillDuration"`
	MemUsage       int64   `json:"MemUsage"`
	Log            string  `json:"Log"`
	Level          string  `json:"Level"`
	Source         string  `json:"Source"`
	RetryNum       int64   `json:"RetryNum"`
}

// Succeeded applies Tencent's field definitions: RetCode 0 means the
// function returned normally, InvokeFinished 1 that it ran to its end.
// It is the simulator's own reading, so a test that picks executions by
// outcome from the ground truth does not borrow the client's.
func (l FunctionLog) Succeeded() bool { return l.RetCode == 0 && l.InvokeFinished == 1 }

// LogSearchContext is Tencent's (disused) LogSearchContext.
type LogSearchContext struct {
	Offset  string `json:"Offset"`
	Limit   int64  `json:"Limit"`
	Keyword string `json:"Keyword"`
	Type    string `json:"Type"`
}

// GetFunctionLogsResponse is the "Response" object of a successful
// GetFunctionLogs call.
type GetFunctionLogsResponse struct {
	TotalCount    int64             `json:"TotalCount"`
	Data          []FunctionLog     `json:"Data"`
	SearchContext *LogSearchContext `json:"SearchContext,omitempty"`
	RequestId     string            `json:"RequestId"`
}

// AppendJSON writes the answer as encoding/json would: a page is up to
// 10,000 records (tcapi.Appender).
func (r *GetFunctionLogsResponse) AppendJSON(b []byte) []byte {
	b = append(b, `{"TotalCount":`...)
	b = strconv.AppendInt(b, r.TotalCount, 10)
	b = append(b, `,"Data":`...)
	if r.Data == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Data {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.Data[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if c := r.SearchContext; c != nil {
		b = append(b, `,"SearchContext":{"Offset":`...)
		b = tcapi.AppendString(b, c.Offset)
		b = append(b, `,"Limit":`...)
		b = strconv.AppendInt(b, c.Limit, 10)
		b = append(b, `,"Keyword":`...)
		b = tcapi.AppendString(b, c.Keyword)
		b = append(b, `,"Type":`...)
		b = tcapi.AppendString(b, c.Type)
		b = append(b, '}')
	}
	b = append(b, `,"RequestId":`...)
	b = tcapi.AppendString(b, r.RequestId)
	return append(b, '}')
}

func (l *FunctionLog) appendJSON(b []byte) []byte {
	str := func(name, v string) {
		b = append(b, name...)
		b = tcapi.AppendString(b, v)
	}
	num := func(name string, v int64) {
		b = append(b, name...)
		b = strconv.AppendInt(b, v, 10)
	}
	str(`{"FunctionName":`, l.FunctionName)
	str(`,"RetMsg":`, l.RetMsg)
	str(`,"RequestId":`, l.RequestId)
	str(`,"StartTime":`, l.StartTime)
	num(`,"RetCode":`, l.RetCode)
	num(`,"InvokeFinished":`, l.InvokeFinished)
	b = append(b, `,"Duration":`...)
	b = tcapi.AppendFloat(b, l.Duration)
	num(`,"BillDuration":`, l.BillDuration)
	num(`,"MemUsage":`, l.MemUsage)
	str(`,"Log":`, l.Log)
	str(`,"Level":`, l.Level)
	str(`,"Source":`, l.Source)
	num(`,"RetryNum":`, l.RetryNum)
	return append(b, '}')
}

// billGranularityMs is the unit BillDuration is rounded up to.
const billGranularityMs = 100

func (a *API) getFunctionLogs(c *tcapi.Call) (any, *tcapi.Error) {
	var p *rawParams
	var perr *tcapi.Error
	if c.JSON != nil {
		p, perr = parseJSONParams(c.JSON)
	} else {
		p, perr = parseQueryParams(c.Form)
	}
	if perr != nil {
		return nil, perr
	}
	now := a.now()
	q, e := validate(p, now, a.loc)
	if e != nil {
		return nil, e
	}
	fns, e := a.namespace(c.Region, q.namespace)
	if e != nil {
		return nil, e
	}
	if q.functionName != "" {
		i := slices.IndexFunc(fns, func(f *invocations.Model) bool { return f.Name == q.functionName })
		if i < 0 {
			return nil, errFunctionNotFound(q.functionName, q.namespace)
		}
		fns = fns[i : i+1]
	}
	w := &invocations.Window{Lo: q.lo, Hi: q.hi, Now: invocations.Nanos(now), Filter: q.filter,
		Order: q.order, Keep: int(q.offset + q.limit)}
	return a.page(w, fns, int(q.offset), c.RequestID), nil
}

// NewestLogs is the GetFunctionLogs answer for fn's newest executions of
// the last 24 h (the defaults of a call naming only the function), the
// limit after offset.
func (a *API) NewestLogs(fn *invocations.Model, offset, limit int, reqID string) *GetFunctionLogsResponse {
	now := a.now()
	w := &invocations.Window{Lo: invocations.Nanos(now.Add(-24 * time.Hour)), Hi: invocations.Nanos(now) + 1,
		Now: invocations.Nanos(now), Order: invocations.Order{By: invocations.ByStart, Desc: true}, Keep: offset + limit}
	return a.page(w, []*invocations.Model{fn}, offset, reqID)
}

// page runs the window over fns and answers the records after offset.
func (a *API) page(w *invocations.Window, fns []*invocations.Model, offset int, reqID string) *GetFunctionLogsResponse {
	total, rows := w.Run(fns)
	data := []FunctionLog{}
	if len(rows) > offset {
		for i := range rows[offset:] {
			data = append(data, a.FunctionLog(&rows[offset+i]))
		}
	}
	return &GetFunctionLogsResponse{
		TotalCount:    total,
		Data:          data,
		SearchContext: &LogSearchContext{},
		RequestId:     reqID,
	}
}

// FunctionLog renders an execution as GetFunctionLogs returns it.
func (a *API) FunctionLog(r *invocations.Record) FunctionLog {
	id := r.RequestID()
	// Billed time is the duration rounded up to the next 100 ms, as the
	// seed's example and both SDKs' model comments say; a timeout bills
	// the whole timeout.
	dur := r.DurMs
	if r.Outcome == invocations.TimedOut {
		dur = float64(r.Model.TimeoutMs)
	}
	bill := max(billGranularityMs, int64(math.Ceil(dur/billGranularityMs))*billGranularityMs)
	msg := r.RetMsg()
	return FunctionLog{
		FunctionName:   r.Model.Name,
		RetMsg:         msg,
		RequestId:      id,
		StartTime:      a.timeText(time.Unix(0, r.StartNs)),
		RetCode:        r.RetCode(),
		InvokeFinished: 1,
		Duration:       r.DurMs,
		BillDuration:   bill,
		MemUsage:       r.Mem,
		Log:            r.LogText(),
		RetryNum:       int64(r.Retries),
	}
}
