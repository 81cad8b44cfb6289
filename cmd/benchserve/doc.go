// Command benchserve is a benchmark fixture: the ceiling of mudscf's stack.
// It serves one file's bytes on the Mudbase logs route from a bare Echo
// handler, with the headers a mudscf cache hit carries, and nothing else:
// no authentication, no cache, no logging, no metrics. .ci/bench/cachehit.sh
// measures mudscf's cache-hit path against it over loopback.
package main
