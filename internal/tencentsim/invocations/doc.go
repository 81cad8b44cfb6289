// Package invocations is the simulated world both services describe: the
// functions (Function, with their defaults) and their synthetic,
// deterministic executions. Execution i of a function is a pure function
// of (seed, region, namespace, name, i), so nothing is stored, any window
// is computed on demand (Window, Model.Find), and two simulators with the
// same configuration agree. An execution only becomes visible once it has
// finished, as on the real service.
//
// SCF's GetFunctionLogs and GetRequestStatus and CLS's SearchLog render
// the same Records in their own wire formats, and the simulator's ground
// truth (/_sim/executions) is the same Window again: that is why this
// package sits below both services and speaks neither's wire. Sort keys
// and filters are its own values, not SCF's parameter strings.
package invocations
