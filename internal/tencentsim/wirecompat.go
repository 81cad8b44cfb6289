package tencentsim

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
