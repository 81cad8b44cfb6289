// Package logsource answers Mudbase's questions — a page of executions,
// the stats of a window — from Tencent Cloud, one LogSource per kind of
// project: GetFunctionLogs (with GetRequestStatus for a page asking for one
// request ID) or CLS. A source decides which calls a question costs and in
// which order; the adapters (translate/scf, translate/cls) build each call
// and read its answer, and internal/upstream makes it, within Tencent's
// limits. The same calls, made one at a time with Tencent's answer shown,
// are the rows of `mudscf check` (check.go).
package logsource
