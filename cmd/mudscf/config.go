package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/mudscf/mudscf/exporter"
	"github.com/mudscf/mudscf/internal/yamlconfig"
	"github.com/mudscf/mudscf/proxy"
)

// configError is a configuration file that cannot be used: its problems,
// one per line, each with its key path and line. check prints the lines as
// they are, and so do proxy and exporter when they refuse to start.
type configError struct {
	path     string
	problems []string
}

func (e *configError) Error() string {
	return "config " + e.path + ": " + strings.Join(e.problems, "\n")
}

// loadProxyConfig and loadExporterConfig load a file as the proxy and the
// exporter do, and as check does for them.
func loadProxyConfig(path string) (proxy.Config, error) {
	cfg, err := proxy.LoadConfig(path)
	return cfg, fileProblems(path, err)
}

func loadExporterConfig(path string) (exporter.Config, error) {
	cfg, err := exporter.LoadConfig(path)
	return cfg, fileProblems(path, err)
}

// fileProblems turns what a LoadConfig found wrong in the file at path
// into a configError, with the line of each key the validators named. An
// error that is not about the file's content (it cannot be read) is
// returned as it is.
func fileProblems(path string, err error) error {
	if len(yamlconfig.KeyErrors(err)) == 0 {
		return err
	}
	if src, readErr := yamlconfig.ReadFile(path); readErr == nil {
		err = yamlconfig.Locate(src, err)
	}
	ce := &configError{path: path}
	for _, ke := range yamlconfig.KeyErrors(err) {
		ce.problems = append(ce.problems, ke.Error())
	}
	return ce
}

// overridden validates a configuration again once flags and variables
// have changed it: its problems are theirs, not the file's.
func overridden(validate func() error) error {
	if err := validate(); err != nil {
		return fmt.Errorf("with the flags and MUDSCF_* variables applied: %w", err)
	}
	return nil
}

// listen listens on addr, and names what set the address when it cannot:
// "--admin-addr 127.0.0.1:9090: address already in use".
func listen(setBy, addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return nil, fmt.Errorf("%s %s: %w", setBy, addr, err)
	}
	return l, nil
}

// address is an address to listen on and the flag or key that set it.
type address struct{ setBy, addr string }

// listenAll listens on every address, or on none of them.
func listenAll(addrs ...address) ([]net.Listener, error) {
	var ls []net.Listener
	for _, a := range addrs {
		l, err := listen(a.setBy, a.addr)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}
