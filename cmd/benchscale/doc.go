// Command benchscale runs the exporter at scale, both sources side by
// side, and prints the result as JSON: one simulator (N functions in
// namespace "gfl", N in namespace "cls", every function of the region in
// its one shared CLS topic, one execution per function every 10 s, CLS
// queries taking a configured latency), one proxy serving them as two
// projects (one read by GetFunctionLogs, one by CLS), and one exporter per
// project, each a process of its own so that its CPU time and memory are
// its own. The functions stop after -run; the tool then waits (at most
// -settle) for each exporter's counts to reach the simulator's ground
// truth. Measured per source: lag, cursor age, upstream calls per second,
// the most concurrent queries on the topic, the exporter's CPU and RSS,
// and how many functions' counts equal the truth at the end.
//
// .ci/bench/scale.sh (make bench) drives it.
package main
