// Package cls answers CLS (Cloud Log Service, API version 2020-10-16)
// SearchLog and DescribeIndex on the log topics the simulated SCF functions
// deliver to, as strictly as Tencent's documentation allows: the records
// SCF writes for each request (one per line of its log, with the 14 SCF_*
// keys, the lines invocations.Record.Lines gives GetFunctionLogs too),
// searched with CQL (cql.go) or Lucene (lucene.go) exactly as Tencent's
// syntax page documents them, analysed with the documented SQL (package
// analysis, fed this package's records as rows of the topic's keys), and
// paged with signed Context cursors. A form the pages do not document is
// refused with Tencent's codes; where they are silent the stricter reading
// is taken. conformance_test.go holds the table of every form, its page
// and its verdict, and writes docs/cls-conformance.md from it.
//
// A topic holds the records of every function that delivers to it (SCF's
// default delivery: one topic per region). Records are never stored: a
// request's start is arithmetic in its index, so a window's requests are
// computed on demand, and a condition is decided per function and per
// request before any line is rendered (scan.go).
//
// Its wire types are its own, field for field the SDKs' models, and not
// mudscf's client types, so a misspelt field cannot agree with itself.
// The request rate and per-topic concurrency limits are the simulator
// server's, which runs a call in two steps for them: Plan (parameters,
// topics and statement checked; the topics known) and Search.
package cls
