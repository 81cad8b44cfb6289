package tcapi

import "fmt"

// Error is an API error waiting to be written: Tencent's code and the
// English message (Messages has the Chinese ones).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf makes an Error with a formatted English message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// TypeError is InvalidParameter for a parameter of the wrong type, which
// Tencent reports by name.
func TypeError(name, want string) *Error {
	return Errorf("InvalidParameter", "Parameter `%s` type error, expected %s.", name, want)
}

// UnknownParameter refuses a parameter the action does not define.
func UnknownParameter(name string) *Error {
	return Errorf("UnknownParameter", "The parameter `%s` is not recognized.", name)
}

// ErrorResponse is the content of the "Response" object of a failed call.
type ErrorResponse struct {
	Error     APIError `json:"Error"`
	RequestId string   `json:"RequestId"`
}

// APIError is the "Error" object of a failed call.
type APIError struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}
