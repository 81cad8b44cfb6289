package translate

// The Tencent Cloud API 3.0 wire types of SCF GetFunctionLogs (version
// 2018-04-16). Field names and JSON types follow Tencent's documentation;
// optional request fields are omitted when empty so that "not given" and
// "zero" stay distinguishable on the wire.

// Values of the upstream's Order, OrderBy and Filter.RetCode parameters.
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

// UpstreamTimeLayout is the format of StartTime and EndTime, both in the
// request and in FunctionLog.StartTime. It carries no zone: the upstream
// speaks its own local time (Asia/Shanghai for Tencent Cloud).
const UpstreamTimeLayout = "2006-01-02 15:04:05"

// MaxOffsetPlusLimit is Tencent's cap on Offset+Limit.
const MaxOffsetPlusLimit = 10000

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

// FunctionLog is one execution record as Tencent returns it.
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

// APIError is the "Error" object of a failed Tencent API 3.0 call.
type APIError struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// ErrorResponse is the content of the "Response" object of a failed call.
type ErrorResponse struct {
	Error     APIError `json:"Error"`
	RequestId string   `json:"RequestId"`
}
