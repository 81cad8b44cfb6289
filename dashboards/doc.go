// Package dashboards holds mudscf's Grafana dashboards as JSON, and the
// test that runs every panel's query through a real Prometheus scraping a
// real mudscf demo. It has no code of its own.
package dashboards
