// Package budget keeps mudscf's promise to Tencent: at most the documented
// number of calls per account in any sliding second (5 for
// GetFunctionLogs), whatever the load, the network's delays or the number
// of replicas.
//
// A Limiter is one account's budget: local to one process, or shared
// through Redis among replicas (falling back to a local share of the
// account while Redis is unreachable). Both queue callers fairly: the
// projects waiting (WithProject) take turns in proportion to their
// Weights, and inside each, interactive clients go before the exporter's
// background traffic (Priority). They refuse at once a caller whose
// expected wait exceeds its deadline (a *RefusedError, which the HTTP edge
// turns into a 429 with Retry-After), pause the whole account after an
// upstream RequestLimitExceeded, and, drained at shutdown, refuse every
// waiter with ErrDraining. In Redis mode the turns are each replica's own:
// replicas do not share their queues.
package budget
