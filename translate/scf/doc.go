// Package scf is the adapter between mudscf's model (package translate)
// and Tencent Cloud SCF's API (version 2018-04-16): the wire types of the
// actions mudscf calls — GetFunctionLogs, GetRequestStatus and GetFunction
// — and the pure translation of a Mudbase query into their parameters and
// of their answers into executions, pages and stats.
//
// Like translate, everything here is pure: no I/O, no clocks. The calls
// themselves are made by internal/upstream, and orchestrated (which calls,
// in which order) by internal/logsource.
//
// Tencent's page calls GetFunctionLogs disused, its successors being
// GetRequestStatus (one invocation by request ID) and CLS (package
// translate/cls); it still documents it, its 5 requests per second,
// Offset+Limit <= 10000 and the one-day window.
package scf
