package logsource

import (
	"context"

	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/scf"
)

// Describe is what SCF's GetFunction says of t's function (one call, within
// GetFunction's own budget).
func Describe(ctx context.Context, caller Caller, t translate.Target) (scf.GetFunctionResponse, error) {
	var resp scf.GetFunctionResponse
	err := caller.Call(ctx, upstream.GetFunction, "", scf.FunctionRequest(t), &resp)
	return resp, err
}
