package yamlconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/mudscf/mudscf/internal/secret"
)

// MaxFileBytes bounds a configuration file: the largest real one is a few
// KiB, and a path to /dev/zero must not grow the process without bound.
const MaxFileBytes = 4 << 20

// KeyError is a value that is wrong, named by its key path in the file.
type KeyError struct {
	Key    string // dotted path, e.g. "projects.p1.region"; empty for the whole file
	Line   int    // where the key is written; 0 when unknown or not written
	Reason string
}

func (e *KeyError) Error() string {
	where := e.Key
	switch {
	case where == "" && e.Line > 0:
		where = "line " + strconv.Itoa(e.Line)
	case e.Line > 0:
		where += " (line " + strconv.Itoa(e.Line) + ")"
	}
	if where == "" {
		return e.Reason
	}
	return where + ": " + e.Reason
}

// Errorf is a KeyError for key.
func Errorf(key, format string, args ...any) error {
	return &KeyError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// Nest places err, from a validator of the block under prefix, at its key
// path in the whole file. Errors that are not a *KeyError are wrapped with
// the prefix.
func Nest(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var ke *KeyError
	if errors.As(err, &ke) {
		key := prefix
		if ke.Key != "" {
			key += "." + ke.Key
		}
		return &KeyError{Key: key, Line: ke.Line, Reason: ke.Reason}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// KeyErrors lists the *KeyError values in err's tree (errors.Join and %w
// wrapping), in order: what a command prints, one line each.
func KeyErrors(err error) []*KeyError {
	var out []*KeyError
	var visit func(error)
	visit = func(e error) {
		switch e := e.(type) { //nolint:errorlint // this walks the tree errors.As would, collecting every match
		case *KeyError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, c := range e.Unwrap() {
				visit(c)
			}
		case interface{ Unwrap() error }:
			visit(e.Unwrap())
		}
	}
	if err != nil {
		visit(err)
	}
	return out
}

// ReadFile reads a configuration file. It must be a regular file of at
// most MaxFileBytes: a FIFO or a device is refused at once instead of
// blocking or growing forever.
func ReadFile(path string) ([]byte, error) {
	b, err := secret.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return b, nil
}

// Load reads the file at path into v, strictly (see Decode).
func Load(path string, v any) error {
	b, err := ReadFile(path)
	if err != nil {
		return err
	}
	return Decode(b, v)
}

// Decode decodes YAML into v, a pointer to a configuration struct: an
// unknown key is an error, and so is a value of the wrong type. When it
// fails, the error joins one *KeyError per problem in the file, each with
// the key path and line the user wrote, what is wrong and what is allowed,
// in words rather than Go types.
func Decode(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	// The decoder is the judge of what is accepted; explain only says why
	// it refused, so it runs on failures alone.
	if problems := explain(b, v); len(problems) > 0 {
		return fmt.Errorf("config: %w", errors.Join(problems...))
	}
	return fmt.Errorf("config: %w", err)
}

// Locate returns the *KeyError values in err, joined, each with the line
// where src writes its key when it had none: validators name key paths but
// never see the file. A key the file does not write (a default, a missing
// key) gets no line. The text wrapped around them ("config: ") is dropped,
// as a KeyError says all; an err without any is returned as it is.
func Locate(src []byte, err error) error {
	kes := KeyErrors(err)
	if len(kes) == 0 {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return err
	}
	lines := map[string]int{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := joinKey(path, n.Content[i].Value)
				if _, ok := lines[p]; !ok {
					lines[p] = n.Content[i].Line
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				lines[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(&root, "")
	located := make([]error, len(kes))
	for i, ke := range kes {
		c := *ke
		if c.Line == 0 {
			c.Line = lines[c.Key]
		}
		located[i] = &c
	}
	return errors.Join(located...)
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
