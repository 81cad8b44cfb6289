package tcapi

import (
	"encoding/json"
	"net/http"
)

// envelope is the outer object of every answer, success or error.
type envelope struct {
	Response any `json:"Response"`
}

// WriteResponse writes v as the "Response" of a call, with HTTP 200 as
// the API answers even its errors.
func WriteResponse(w http.ResponseWriter, reqID string, v any) {
	WriteResponseStatus(w, http.StatusOK, reqID, v)
}

// WriteResponseStatus writes the envelope with another HTTP status, for
// routes beside the API that answer in its envelope.
func WriteResponseStatus(w http.ResponseWriter, status int, reqID string, v any) {
	var b []byte
	var err error
	if a, ok := v.(Appender); ok {
		b = append(a.AppendJSON(append(make([]byte, 0, 1<<12), `{"Response":`...)), '}')
	} else {
		b, err = json.Marshal(envelope{v})
	}
	if err != nil {
		b, _ = json.Marshal(envelope{ErrorResponse{
			Error:     APIError{Code: "InternalError", Message: "Response encoding failed."},
			RequestId: reqID,
		}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-TC-RequestId", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteError writes an error answer with its message already in the
// caller's language.
func WriteError(w http.ResponseWriter, status int, reqID, code, message string) {
	WriteResponseStatus(w, status, reqID, ErrorResponse{Error: APIError{Code: code, Message: message}, RequestId: reqID})
}
