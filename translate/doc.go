// Package translate is mudscf's model, which is Mudbase's: the query a
// client asks (Query, parsed and validated from getLogs's query string by
// ParseQuery), the executions, pages and stats it is answered with, and the
// envelopes and error codes of Mudbase's wire.
//
// Each Tencent API is an adapter beside it, with its own wire types,
// translating to and from this model: translate/scf (GetFunctionLogs,
// GetRequestStatus, GetFunction) and translate/cls (CLS SearchLog). Every
// source builds executions through NewExecution and stats through
// NewStats, so Mudbase's rules (what success is, how a result or an error
// is written, the success rate as a percent) are applied in one place.
//
// Everything here is pure: no I/O, no clocks, no global state. Callers pass
// the current time and the upstream time zone in, which keeps every
// function deterministic and cheap to fuzz.
package translate
