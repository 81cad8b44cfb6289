// Package exporter turns function executions into Prometheus metrics and
// OpenTelemetry spans. It is a client of the Mudbase logs API: in a pod it
// polls the proxy beside it (so its calls share the proxy's cache and
// budget, at background priority), and it works against any
// Mudbase-compatible endpoint.
//
// Each execution is counted and traced exactly once: executions are
// de-duplicated by requestId (by a content hash where an endpoint gives
// none) within a bounded overlap window, and a checkpoint carries the
// cursor, the recently seen IDs and the counter totals across restarts.
package exporter
