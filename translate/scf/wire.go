package scf

// The Tencent Cloud API 3.0 wire types of the SCF actions mudscf calls
// (version 2018-04-16), named as Tencent's API pages and the SDKs' models
// name them. Optional request fields are omitted when empty so that "not
// given" and "zero" stay distinguishable on the wire.

// Values of GetFunctionLogs's Order, OrderBy and Filter.RetCode.
const (
	OrderAsc  = "asc"
	OrderDesc = "desc"

	OrderByFunctionName = "function_name"
	OrderByDuration     = "duration"
	OrderByMemUsage     = "mem_usage"
	OrderByStartTime    = "start_time"

	RetCodeSucceeded = "is0"
	RetCodeFailed    = "not0"
)

// TimeLayout is the format of StartTime and EndTime, in requests and in
// answers. It carries no zone: the upstream speaks its own local time
// (Asia/Shanghai for Tencent Cloud).
const TimeLayout = "2006-01-02 15:04:05"

// LogFilter is Tencent's LogFilter.
type LogFilter struct {
	RetCode string `json:"RetCode,omitempty"`
}

// LogSearchContext is Tencent's (disused) LogSearchContext.
type LogSearchContext struct {
	Offset  string `json:"Offset"`
	Limit   int64  `json:"Limit"`
	Keyword string `json:"Keyword"`
	Type    string `json:"Type"`
}

// GetFunctionLogsRequest holds the action parameters of GetFunctionLogs.
// Offset and Limit are pointers because Tencent distinguishes an absent
// Limit (its default page size) from an explicit one.
type GetFunctionLogsRequest struct {
	FunctionName      string            `json:"FunctionName,omitempty"`
	Offset            *int64            `json:"Offset,omitempty"`
	Limit             *int64            `json:"Limit,omitempty"`
	Order             string            `json:"Order,omitempty"`
	OrderBy           string            `json:"OrderBy,omitempty"`
	Filter            *LogFilter        `json:"Filter,omitempty"`
	Namespace         string            `json:"Namespace,omitempty"`
	Qualifier         string            `json:"Qualifier,omitempty"`
	FunctionRequestId string            `json:"FunctionRequestId,omitempty"`
	StartTime         string            `json:"StartTime,omitempty"`
	EndTime           string            `json:"EndTime,omitempty"`
	SearchContext     *LogSearchContext `json:"SearchContext,omitempty"`
}

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

// GetFunctionLogsResponse is the content of the "Response" object of a
// successful GetFunctionLogs call.
type GetFunctionLogsResponse struct {
	TotalCount    int64             `json:"TotalCount"`
	Data          []FunctionLog     `json:"Data"`
	SearchContext *LogSearchContext `json:"SearchContext,omitempty"`
	RequestId     string            `json:"RequestId"`
}

// GetRequestStatusRequest looks one function's invocation up by request
// ID, among those that started in [StartTime, EndTime] (the upstream's
// zone, whole seconds, as GetFunctionLogs).
type GetRequestStatusRequest struct {
	FunctionName      string `json:"FunctionName"`
	FunctionRequestId string `json:"FunctionRequestId"`
	Namespace         string `json:"Namespace,omitempty"`
	StartTime         string `json:"StartTime,omitempty"`
	EndTime           string `json:"EndTime,omitempty"`
}

// RequestStatus is one entry of GetRequestStatus's answer. Its RetCode is
// 0 for success, 1 while running and -1 for any failure; MemUsage is in MB.
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

// GetRequestStatusResponse is the content of GetRequestStatus's Response.
type GetRequestStatusResponse struct {
	TotalCount int64           `json:"TotalCount"`
	Data       []RequestStatus `json:"Data"`
	RequestId  string          `json:"RequestId"`
}

// GetFunctionRequest describes one function.
type GetFunctionRequest struct {
	FunctionName string `json:"FunctionName"`
	Namespace    string `json:"Namespace,omitempty"`
	Qualifier    string `json:"Qualifier,omitempty"`
}

// GetFunctionResponse is what mudscf reads of GetFunction's Response: the
// memory size Tencent bills by, the timeout that bounds an invocation's
// last log line, and the CLS topic its logs go to.
type GetFunctionResponse struct {
	FunctionName string `json:"FunctionName"`
	Namespace    string `json:"Namespace"`
	MemorySize   int64  `json:"MemorySize"` // MB
	Timeout      int64  `json:"Timeout"`    // s
	ClsLogsetId  string `json:"ClsLogsetId"`
	ClsTopicId   string `json:"ClsTopicId"`
	RequestId    string `json:"RequestId"`
}
