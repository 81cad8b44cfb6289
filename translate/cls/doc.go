// Package cls is the adapter between mudscf's model (package translate)
// and Tencent Cloud CLS (Cloud Log Service, version 2020-10-16), where SCF
// has delivered every function's logs since 2021: the wire types of
// SearchLog, the pure building of the queries a Mudbase page or stats
// take, and the pure reading of their answers into executions and stats.
//
// An invocation is its report line (status, duration, memory, retries);
// its return value or error is on its response line. A page is SQL over
// report lines, ordered by start time; its return values are CQL searches
// for the response lines of the page's request IDs.
//
// Like translate, everything here is pure: no I/O, no clocks. The calls
// are made by internal/upstream and orchestrated by internal/logsource.
package cls
