// Package loadgen is the open-loop HTTP load generator behind BENCHMARKS.md.
//
// A closed-loop generator (each client sends its next request when the
// previous one answered) stops sending while the server stalls, so the
// stall shows up in one sample instead of in every request that should have
// been sent meanwhile: coordinated omission. loadgen schedules instead: each
// of Clients clients sends on a fixed schedule (Rate/Clients requests per
// second, phases staggered), and a request's latency is measured from its
// intended send time, so a client that fell behind reports the queueing it
// suffered. Latencies go into an HdrHistogram (1 µs to 1 min, 3 significant
// digits), merged over clients at the end.
//
// A run is bounded: nothing is scheduled after Duration, and each request
// has a timeout. It is meant for loopback targets only.
package loadgen
