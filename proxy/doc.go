// Package proxy is mudscf's HTTP edge: it serves Mudbase's getLogs route
// (GET /api/functions/projects/{projectId}/functions/{functionId}/logs)
// with Echo, and owns everything between the client and the upstream
// sources — the configuration, token checks (through jwtauth), the request
// plan, the response cache and its Redis tier, the single flight per
// cache key, and the one mapping of upstream outcomes to HTTP statuses;
// and its admin listener (metrics, probes), behind prometheus/exporter-
// toolkit's web configuration.
//
// Which upstream calls a page or stats cost is internal/logsource's
// business; the calls themselves, and the budgets that keep them within
// Tencent's limits, are internal/upstream's.
package proxy
