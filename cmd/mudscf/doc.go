// Command mudscf serves the Mudbase functions logs API from Tencent Cloud
// SCF and exports the executions as metrics and traces.
//
// Each subcommand only turns flags and configuration into constructor
// calls; the behaviour lives in the packages.
//
//	mudscf simulate [--addr 127.0.0.1:9000] [--config FILE] ...
package main
