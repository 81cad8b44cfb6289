// Package witness is a test helper: it reads what a test suite produces
// (log lines, responses, metrics, error messages) and reports any of a set
// of known secret values found in it, in the clear or base64-encoded, so
// that a suite can fail when a secret leaked anywhere in it. A URL's
// password is watched in pieces too (WatchPieces): parsers quote a URL cut
// at '/', '?' and '#'.
package witness
