package yamlconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mudscf/mudscf/internal/secret"
)

// MaxFileBytes bounds a configuration file: the largest real one is a few
// KiB, and a path to /dev/zero must not grow the process without bound.
const MaxFileBytes = 4 << 20

// KeyError is a value that is wrong, named by its key path in the file.
type KeyError struct {
	Key    string // dotted path, e.g. "projects.p1.region"; empty for the whole file
	Reason string
}

func (e *KeyError) Error() string {
	if e.Key == "" {
		return e.Reason
	}
	return e.Key + ": " + e.Reason
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
		return &KeyError{Key: key, Reason: ke.Reason}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// Load reads the file at path into v, strictly. The file must be a regular
// file of at most MaxFileBytes: a FIFO or a device is refused at once
// instead of blocking or growing forever.
func Load(path string, v any) error {
	b, err := secret.ReadFile(path, MaxFileBytes)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	return Decode(b, v)
}

// Decode decodes YAML into v: unknown keys are errors, and a value of the
// wrong type is reported at its key path.
func Decode(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err := dec.Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("config: %s", withKeyPaths(err.Error(), b))
}

var lineRef = regexp.MustCompile(`line (\d+): `)

// withKeyPaths names the key path beside each "line N:" of a yaml.v3 error,
// which otherwise speaks only of Go types ("cannot unmarshal !!str into
// time.Duration") that a user never wrote. A line holding several values
// (flow style) is named by what they share.
func withKeyPaths(msg string, src []byte) string {
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return msg
	}
	onLine := map[int][]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				val := n.Content[i+1]
				onLine[val.Line] = append(onLine[val.Line], p)
				walk(val, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(&root, "")
	return lineRef.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m, "line "), ": "))
		if p := deepestShared(onLine[n]); p != "" {
			return p + " (line " + strconv.Itoa(n) + "): "
		}
		return m
	})
}

// deepestShared is the longest path when the others lead to it (a block
// and its first key share a line), else the longest path prefix they all
// share.
func deepestShared(paths []string) string {
	shared := ""
	for _, p := range paths {
		if len(p) > len(shared) {
			shared = p
		}
	}
	for _, p := range paths {
		for shared != "" && !onPath(p, shared) && !onPath(shared, p) {
			i := strings.LastIndexAny(shared, ".[")
			if i < 0 {
				return ""
			}
			shared = shared[:i]
		}
	}
	return shared
}

// onPath says whether prefix is path or one of its ancestors.
func onPath(prefix, path string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+".") || strings.HasPrefix(path, prefix+"[")
}
