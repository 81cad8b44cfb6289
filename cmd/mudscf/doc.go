// Command mudscf serves the Mudbase functions logs API from Tencent Cloud
// SCF and exports the executions as metrics and traces.
//
// Each subcommand only turns flags and configuration into constructor
// calls; the behaviour lives in the packages.
//
//	mudscf check --config proxy.yaml [--exporter-config exporter.yaml] [--offline]
//	mudscf proxy --config proxy.yaml
//	mudscf simulate [--addr 127.0.0.1:8083] [--config FILE] ...
package main
