package scf

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mudscf/mudscf/translate"
)

// FunctionRequest is the GetFunction call describing t's function (its
// configured qualifier's; none: $LATEST).
func FunctionRequest(t translate.Target) GetFunctionRequest {
	return GetFunctionRequest{FunctionName: t.FunctionName, Namespace: t.Namespace, Qualifier: t.Qualifier}
}

// Function is what mudscf needs of a function beyond its logs.
type Function struct {
	// MemoryBytes is its configured memory, which Tencent bills by; 0 when
	// not reported.
	MemoryBytes int64
	// Timeout bounds an invocation, and so when its last log line is
	// written; 0 when not reported.
	Timeout time.Duration
	// TopicID is the CLS topic its logs are delivered to; "" when none.
	TopicID string
}

// ReadFunction reads GetFunction's answer to FunctionRequest.
func ReadFunction(answer json.RawMessage) (Function, error) {
	var resp GetFunctionResponse
	if err := json.Unmarshal(answer, &resp); err != nil {
		return Function{}, fmt.Errorf("GetFunction answer: %w", err)
	}
	return Function{MemoryBytes: max(resp.MemorySize, 0) << 20, Timeout: time.Duration(max(resp.Timeout, 0)) * time.Second,
		TopicID: resp.ClsTopicId}, nil
}
