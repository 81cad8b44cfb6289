package translate

// LogsResponse is Mudbase's success envelope for getLogs.
type LogsResponse struct {
	Success bool     `json:"success"`
	Data    LogsData `json:"data"`
}

// LogsData is the "data" object of LogsResponse.
type LogsData struct {
	Executions []Execution `json:"executions"`
	Stats      Stats       `json:"stats"`
}

// NewLogsResponse wraps a page and its stats. A nil page becomes [] so that
// clients iterating over executions never meet null.
func NewLogsResponse(executions []Execution, stats Stats) LogsResponse {
	if executions == nil {
		executions = []Execution{}
	}
	return LogsResponse{Success: true, Data: LogsData{Executions: executions, Stats: stats}}
}

// ErrorBody is Mudbase's error envelope. UpstreamCode and RequestID are
// extras for operators: the Tencent error code and RequestId when the
// failure came from upstream.
type ErrorBody struct {
	Success      bool   `json:"success"`
	Error        string `json:"error"`
	Code         string `json:"code"`
	UpstreamCode string `json:"upstreamCode,omitempty"`
	RequestID    string `json:"requestId,omitempty"`
}
