// Package redisstore is the Redis connection mudscf's replicas share, and
// whether it works right now.
//
// The connection is to one server, to the master Redis Sentinel names (a
// go-redis failover client, which follows the Sentinels' +switch-master),
// or to a Redis Cluster; its users see one client either way. A failover
// is a loss and a return like any other (below).
//
// Every operation is bounded by opTimeout and never retried. Failures mark
// Redis down (after a few in a row, or at once for a refused connection),
// and users of the store — the shared budget in upstream/budget and the
// shared cache in proxy — then act locally until a probe, at most one per
// second, finds it back. Each loss and each return is logged once.
//
// A crash and a restart are one loss and one return. go-redis remembers a
// dial error after many dials failed and hands it out until a background
// dial, once a second, gets through; so pipelines share the main pool (a
// pool of their own got through at another time and made Redis flap back
// and forth), and for a second after a return a refused connection counts
// like any other failure, three in a row, rather than at once.
package redisstore
