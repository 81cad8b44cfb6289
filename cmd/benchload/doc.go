// Command benchload runs one bounded open-loop load (internal/loadgen)
// against loopback targets and prints the result as JSON: requests sent
// and answered, status codes, X-Cache states, per-class status codes and
// latency percentiles measured from each request's intended send time.
// The request mix is a JSON file, a list of loadgen.Class:
//
//	[{"name": "hit", "weight": 84, "urls": ["http://127.0.0.1:8080/..."],
//	  "header": {"Authorization": "Bearer ..."}, "varyWindow": false}]
//
// The .ci/bench scripts (make bench, make soak) drive it.
package main
