// Package proxy is mudscf's HTTP edge: it serves Mudbase's getLogs route
// (GET /api/functions/projects/{projectId}/functions/{functionId}/logs)
// with Echo, and owns everything between the client and the upstream
// sources — the configuration, token checks (through jwtauth), the request
// plan, the response cache and its Redis tier, the single flight per
// cache key, and the one mapping of upstream outcomes to HTTP statuses.
//
// The upstream calls themselves, and the budget that keeps them within
// Tencent's limits, are in package upstream.
package proxy
