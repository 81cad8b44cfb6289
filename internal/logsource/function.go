package logsource

import (
	"context"

	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/scf"
)

// Describe is what SCF's GetFunction says of t's function (one call, within
// GetFunction's own budget).
func Describe(ctx context.Context, caller Caller, t translate.Target) (scf.Function, error) {
	answer, err := caller.Call(ctx, upstream.GetFunction, "", scf.FunctionRequest(t))
	if err != nil {
		return scf.Function{}, err
	}
	f, err := scf.ReadFunction(answer)
	return f, badResponse(err)
}
