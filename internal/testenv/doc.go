// Package testenv is the scaffolding test suites share: the real tools
// they run (one rule for a missing one: skip with the reason on a
// developer's machine, fail in CI, where .ci/run must have installed it),
// a real redis-server per test, and the SCF simulator over real HTTP.
//
// It is imported by tests only.
package testenv
