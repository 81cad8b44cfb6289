// Package yamlconfig reads mudscf's configuration files: strictly (an
// unknown key is an error), from regular files of bounded size only, and
// with errors that name the key path a user wrote rather than a Go type.
//
// Every configuration in mudscf (proxy, exporter, simulator) is loaded
// through Load, and every validator reports a *KeyError, so that messages
// read the same everywhere: "config: jwt.algorithms: ...".
package yamlconfig
