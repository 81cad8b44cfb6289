package upstream

// service is one Tencent Cloud service at the API version mudscf speaks.
type service struct {
	name, version string
	// defaultEndpoint routes by the Region header.
	defaultEndpoint string
}

var (
	scfService = service{name: "scf", version: "2018-04-16", defaultEndpoint: DefaultEndpoint}
	clsService = service{name: "cls", version: "2020-10-16", defaultEndpoint: DefaultCLSEndpoint}
)

// The endpoints that route by the Region header.
const (
	DefaultEndpoint    = "scf.tencentcloudapi.com"
	DefaultCLSEndpoint = "cls.tencentcloudapi.com"
)

// API is one Tencent Cloud API action and the limits Tencent documents for
// it. Every call of every API goes through the same chain (see Caller);
// a new API is one value here and its adapter's wire types.
type API struct {
	service service
	Action  string
	// PerSecond is the documented limit of calls per second per account
	// (SecretId).
	PerSecond int
	// PerTopic is the documented limit of concurrent calls per CLS log
	// topic; 0 where the API has none.
	PerTopic int
}

// The APIs mudscf calls, with Tencent's documented limits.
var (
	// GetFunctionLogs: 5 requests per second (its API page). The proxy's
	// budget.requestsPerSecond may set it lower.
	GetFunctionLogs = API{service: scfService, Action: "GetFunctionLogs", PerSecond: 5}
	// GetRequestStatus: 20 requests per second.
	GetRequestStatus = API{service: scfService, Action: "GetRequestStatus", PerSecond: 20}
	// GetFunction: 100 requests per second.
	GetFunction = API{service: scfService, Action: "GetFunction", PerSecond: 100}
	// SearchLog: 15 concurrent queries per log topic (CLS's search and
	// analysis limits, shared with the console, dashboards and alarms).
	SearchLog = API{service: clsService, Action: "SearchLog", PerSecond: 10000, PerTopic: 15}
	// DescribeIndex: 20 requests per second (614/56443); mudscf check
	// reads a topic's index with it.
	DescribeIndex = API{service: clsService, Action: "DescribeIndex", PerSecond: 20}
)

// topicBudgetLabel labels the waits for a topic's concurrent queries, a
// budget of its own beside the account's rate of the same API.
func (a API) topicBudgetLabel() string { return a.Action + "-topic" }
