package scf

import "github.com/mudscf/mudscf/translate"

// FunctionRequest is the GetFunction call describing t's function (its
// configured qualifier's; none: $LATEST).
func FunctionRequest(t translate.Target) GetFunctionRequest {
	return GetFunctionRequest{FunctionName: t.FunctionName, Namespace: t.Namespace, Qualifier: t.Qualifier}
}
