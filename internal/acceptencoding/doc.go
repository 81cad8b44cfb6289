// Package acceptencoding reads a request's Accept-Encoding: whether a
// client takes gzip, for the proxy's cached answers and the exporter's
// /metrics alike.
package acceptencoding
