package yamlconfig

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v3"
)

// explain walks the YAML src beside the type of v, as the decoder does,
// and says in the user's terms what the decoder refused: the key path and
// line of each unknown key, repeated key and value of the wrong kind, and
// what would be allowed there. The decoder's own messages name Go types
// ("field pageTtl not found in type proxy.CacheConfig"), which a user never
// wrote.
func explain(src []byte, v any) []error {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return []error{syntaxError(err)}
	}
	var w walker
	w.walk(&root, reflect.TypeOf(v), "")
	return w.problems
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError is the parser's complaint, which names no type, with its
// line as a KeyError's.
func syntaxError(err error) error {
	m := syntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &KeyError{Reason: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	return &KeyError{Line: line, Reason: "not valid YAML: " + m[2]}
}

type walker struct{ problems []error }

func (w *walker) problem(path string, line int, reason string) {
	w.problems = append(w.problems, &KeyError{Key: path, Line: line, Reason: reason})
}

var durationType = reflect.TypeFor[time.Duration]()

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, t, path)
		}
		return
	case yaml.AliasNode:
		w.walk(n.Alias, t, path)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // the zero value, whatever the type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		w.scalar(n, t, path)
	case t.Kind() == reflect.Struct:
		w.structure(n, t, path)
	case t.Kind() == reflect.Map:
		w.mapping(n, t, path)
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		w.sequence(n, t, path)
	case t.Kind() == reflect.Interface:
	default:
		w.scalar(n, t, path)
	}
}

// field is one key a struct accepts.
type field struct {
	name string
	typ  reflect.Type
}

// fields are the keys of struct type t, in declaration order, as the
// decoder names them (the yaml tag, else the lower-cased field name).
func fields(t reflect.Type) []field {
	var out []field
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if slices.Contains(strings.Split(opts, ","), "inline") {
			out = append(out, fields(f.Type)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, field{name, f.Type})
	}
	return out
}

func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) {
	keys := fields(t)
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	if n.Kind != yaml.MappingNode {
		w.problem(path, n.Line, "expected a mapping with the keys "+strings.Join(names, ", ")+"; got "+nodeKind(n))
		return
	}
	w.pairs(n, path, func(key *yaml.Node, value *yaml.Node, p string) {
		i := slices.Index(names, key.Value)
		if i < 0 {
			w.problem(p, key.Line, unknownKey(key.Value, names))
			return
		}
		w.walk(value, keys[i].typ, p)
	}, func(merged *yaml.Node) { w.structure(merged, t, path) })
}

func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.problem(path, n.Line, "expected a mapping (name: value, one per line or in {}); got "+nodeKind(n))
		return
	}
	w.pairs(n, path, func(key *yaml.Node, value *yaml.Node, p string) {
		if key.Decode(reflect.New(t.Key()).Interface()) != nil {
			w.problem(p, key.Line, "the key must be "+describe(t.Key()))
			return
		}
		w.walk(value, t.Elem(), p)
	}, func(merged *yaml.Node) { w.mapping(merged, t, path) })
}

// pairs calls each for every key of the mapping n but repeated ones, which
// it reports, and merge for each mapping a merge key (<<) brings in.
func (w *walker) pairs(n *yaml.Node, path string, each func(key, value *yaml.Node, path string), merge func(*yaml.Node)) {
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.ShortTag() == "!!merge" {
			for _, m := range mergedMappings(value) {
				merge(m)
			}
			continue
		}
		p := joinKey(path, key.Value)
		if line, seen := first[key.Value]; seen {
			w.problem(p, key.Line, "given twice (first on line "+strconv.Itoa(line)+"): keep one")
			continue
		}
		first[key.Value] = key.Line
		each(key, value, p)
	}
}

// mergedMappings are the mappings a merge key's value stands for: one, an
// alias of one, or a list of those.
func mergedMappings(n *yaml.Node) []*yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.SequenceNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	for _, c := range n.Content {
		out = append(out, mergedMappings(c)...)
	}
	return out
}

func (w *walker) sequence(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		w.problem(path, n.Line, "expected a list ([a, b], or one '- item' per line); got "+nodeKind(n))
		return
	}
	for i, c := range n.Content {
		w.walk(c, t.Elem(), path+"["+strconv.Itoa(i)+"]")
	}
}

func (w *walker) scalar(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.problem(path, n.Line, "expected "+describe(t)+"; got "+nodeKind(n))
		return
	}
	if n.Decode(reflect.New(t).Interface()) == nil {
		return
	}
	if t == durationType && isDigits(n.Value) {
		w.problem(path, n.Line, n.Value+" is not a duration: give its unit, e.g. "+n.Value+"s")
		return
	}
	w.problem(path, n.Line, quote(n.Value)+" is not "+describe(t))
}

// describe says what a value of type t is written as.
func describe(t reflect.Type) string {
	if t == durationType {
		return "a duration: a number and a unit, e.g. 30s, 1m30s or 500ms"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a single value"
	}
	return "a value of another form"
}

// nodeKind names what the file wrote. A scalar is never quoted here: a
// value in the wrong place may be a secret.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

// quote shows a value that should have been a number, a duration or a
// boolean, cut short: the user needs to recognise it, not read it all.
func quote(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	return strconv.Quote(s)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// unknownKey says that key is not one of allowed, suggesting the ones the
// user most likely meant.
func unknownKey(key string, allowed []string) string {
	reason := "unknown key;"
	if s := suggest(key, allowed); len(s) > 0 {
		reason += " did you mean " + strings.Join(s, " or ") + "?"
	}
	return reason + " allowed: " + strings.Join(allowed, ", ")
}

// suggest picks the keys a mistyped key most likely stands for: the same
// but for case (pageTtl for pageTTL); else the nearest by edit distance
// when near enough (listn for listen); else the keys it begins (secretId
// for secretIdEnv and secretIdFile).
func suggest(key string, allowed []string) []string {
	lower := strings.ToLower(key)
	for _, a := range allowed {
		if strings.ToLower(a) == lower {
			return []string{a}
		}
	}
	var near []string
	best := max(1, len(key)/3) // a third of the key mistyped is still a typo
	for _, a := range allowed {
		switch d := levenshtein.ComputeDistance(lower, strings.ToLower(a)); {
		case d < best:
			best, near = d, []string{a}
		case d == best:
			near = append(near, a)
		}
	}
	if len(near) > 0 {
		return near
	}
	if len(key) >= 3 {
		for _, a := range allowed {
			if strings.HasPrefix(strings.ToLower(a), lower) {
				near = append(near, a)
			}
		}
	}
	return near
}
