// Package translate converts between the Mudbase functions API and Tencent
// Cloud SCF's GetFunctionLogs API.
//
// Everything here is pure: no I/O, no clocks, no global state. Callers pass
// the current time and the upstream time zone in, which keeps every function
// deterministic and cheap to fuzz.
//
// Directions:
//
//   - ParseQuery turns a Mudbase query string into a validated Query, and
//     Query.Upstream turns that into GetFunctionLogs parameters.
//   - Executions turns FunctionLog records into Mudbase executions.
//   - ComputeStats turns upstream totals into Mudbase's stats object.
//   - ClassifyUpstream maps a Tencent error code to an HTTP status and the
//     Mudbase error envelope.
package translate
