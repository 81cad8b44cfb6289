// Package yamlconfig reads mudscf's configuration files: strictly (an
// unknown key is an error), from regular files of bounded size only, and
// with errors that name the key path and line a user wrote, what is wrong
// and what is allowed there, never a Go type.
//
// Every configuration in mudscf (proxy, exporter, simulator) is loaded
// through Load, and every validator reports a *KeyError, so that messages
// read the same everywhere: "jwt.algorithms (line 3): ...". Decode lists
// every problem of a file at once; Locate adds the line to a validator's
// KeyError.
package yamlconfig
