// Package budget keeps mudscf's promise to Tencent: at most the documented
// number of calls per account in any sliding second (5 for
// GetFunctionLogs), whatever the load, the network's delays or the number
// of replicas.
//
// A Limiter is one account's budget: local to one process, or shared
// through Redis among replicas (falling back to a local share of the
// account while Redis is unreachable). Both queue callers by Priority —
// interactive clients before the exporter's background traffic — refuse
// at once a caller whose expected wait exceeds its deadline (a
// *RefusedError, which the HTTP edge turns into a 429 with Retry-After),
// and pause the whole account after an upstream RequestLimitExceeded.
package budget
