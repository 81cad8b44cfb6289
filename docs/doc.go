// Package docs holds mudscf's documentation beyond the README, one page per
// topic, and the test that keeps every page (the README included) true to
// the tree: its relative links resolve, and the Go names, configuration
// keys and repository paths it quotes exist. It has no code of its own.
package docs
