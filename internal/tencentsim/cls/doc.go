// Package cls answers CLS (Cloud Log Service, API version 2020-10-16)
// SearchLog on the log topics the simulated SCF functions deliver to: the
// records SCF writes for each invocation (START, the handler's lines, the
// Response line, END, the Report line, with the 14 SCF_* keys), derived
// from the same executions GetFunctionLogs serves (package invocations),
// searched with the CQL subset a log reader needs, aggregated with the SQL
// subset a stats query needs, and paged with signed Context cursors.
//
// Its wire types are its own, field for field the SDKs' models, and not
// mudscf's client types, so a misspelt field cannot agree with itself.
// The request rate and per-topic concurrency limits are the simulator
// server's, which runs a call in two steps for them: Plan (parameters,
// topic and query checked; the topic known) and Search.
package cls
