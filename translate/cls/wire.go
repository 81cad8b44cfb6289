package cls

// The wire types of CLS SearchLog (service cls, version 2020-10-16), the
// fields mudscf sends and reads, named as Tencent's API page and the
// SDKs' models name them.

// SearchLog's documented limits (API 614/56447, limits 614/86845): at
// most 1000 raw logs per call, a statement of at most 12 KB (12,000
// characters by the limits page: the smaller is kept), and SQL results of
// at most 10,000 rows.
const (
	SearchLogMaxLimit = 1000
	maxQueryBytes     = 12000
	// SyntaxCQL is SyntaxRule 1: CLS Query Language.
	SyntaxCQL = 1
)

// SearchLogRequest holds the parameters of one SearchLog call.
type SearchLogRequest struct {
	TopicId    string `json:"TopicId"`
	From       int64  `json:"From"` // ms, inclusive
	To         int64  `json:"To"`   // ms, exclusive
	Query      string `json:"Query"`
	SyntaxRule uint64 `json:"SyntaxRule"`
	Limit      int64  `json:"Limit,omitempty"`
	Sort       string `json:"Sort,omitempty"`
	Context    string `json:"Context,omitempty"`
	// UseNewAnalysis asks for SQL results as AnalysisRecords (one JSON
	// object per row, typed by Columns).
	UseNewAnalysis bool `json:"UseNewAnalysis,omitempty"`
}

// SearchLogResponse is the content of the "Response" object of a
// successful SearchLog call.
type SearchLogResponse struct {
	Context         string    `json:"Context"`
	ListOver        bool      `json:"ListOver"`
	Analysis        bool      `json:"Analysis"`
	Results         []LogInfo `json:"Results"`
	AnalysisRecords []string  `json:"AnalysisRecords"`
	RequestId       string    `json:"RequestId"`
}

// LogInfo is one raw log; LogJson holds its keys, every value a string.
type LogInfo struct {
	Time    int64  `json:"Time"`
	TopicId string `json:"TopicId"`
	LogJson string `json:"LogJson"`
}
