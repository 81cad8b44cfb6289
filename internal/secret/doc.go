// Package secret reads the secrets mudscf is configured with — the JWT
// secret, Tencent keys, a Redis URL — from the environment variable or the
// file a configuration names, in one way: bounded in size, regular files
// only, and with errors that name where a secret was looked for but never
// quote any of it.
package secret
