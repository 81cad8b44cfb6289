// Package redisstore is the Redis connection mudscf's replicas share, and
// whether it works right now.
//
// Every operation is bounded by opTimeout and never retried. Failures mark
// Redis down (after a few in a row, or at once for a refused connection),
// and users of the store — the shared budget in upstream/budget and the
// shared cache in proxy — then act locally until a probe, at most one per
// second, finds it back. Each loss and each return is logged once.
package redisstore
