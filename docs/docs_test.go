package docs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	mdast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
	"go.yaml.in/yaml/v3"

	"github.com/mudscf/mudscf/exporter"
	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/proxy"
)

// root is the repository's root, relative to this package.
const root = ".."

// module is the module's path.
const module = "github.com/mudscf/mudscf"

// maxReadmeLines keeps the README a front door: what mudscf is, the quick
// start and where to read on. Reference text belongs in docs/.
const maxReadmeLines = 250

// notKeys are the dotted words the pages quote in backticks that are
// neither configuration keys nor names the code or the tree has, each
// with why it is quoted. Everything else dotted and lower-case must be a
// key (TestConfigKeysExist says where else a word may come from).
var notKeys = map[string]string{
	"org.opencontainers.image.*": "docs/helm.md: the OCI annotation keys the Dockerfile labels the image with",
	"sts.cloud.tencent.com":      "docs/helm.md: the audience of TKE's service-account token, a value of the chart's, not a key",
	"cls_models.d.ts":            "docs/simulator.md: the Node.js SDK's CLS models, in testdata/nodesdk/node_modules once npm ci has run",
	"cls.tencentcloudapi.com":    "docs/configuration.md: CLS's endpoint, upstream.DefaultCLSEndpoint",
}

func TestReadmeIsAFrontDoor(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n >= maxReadmeLines {
		t.Errorf("README.md has %d lines; keep it under %d and move reference text to docs/", n, maxReadmeLines)
	}
}

// TestLinksResolve requires every relative link (and image) of every page
// to name an existing file or directory, and a link with a fragment into
// a markdown file to name one of its headings, as GitHub makes their
// anchors.
func TestLinksResolve(t *testing.T) {
	checked := 0
	for _, p := range loadPages(t) {
		inspect(p.doc, func(n mdast.Node) mdast.WalkStatus {
			var dest string
			switch n := n.(type) {
			case *mdast.Link:
				dest = string(n.Destination)
			case *mdast.Image:
				dest = string(n.Destination)
			default:
				return mdast.WalkContinue
			}
			checked++
			if err := checkLink(p, dest); err != nil {
				t.Errorf("%s: link %q: %v", p.path, dest, err)
			}
			return mdast.WalkContinue
		})
	}
	requireChecked(t, checked, "links")
}

// requireChecked fails a test that found nothing to check: a rule that
// matches nothing would pass whatever the pages say.
func requireChecked(t *testing.T, n int, what string) {
	t.Helper()
	if n == 0 {
		t.Fatalf("no %s found in the pages", what)
	}
	t.Logf("%d %s checked", n, what)
}

func checkLink(p *page, dest string) error {
	if strings.Contains(dest, "://") || strings.HasPrefix(dest, "mailto:") {
		return nil
	}
	file, frag, _ := strings.Cut(dest, "#")
	target := p.path
	if file != "" {
		target = path.Join(path.Dir(p.path), file)
	}
	if strings.HasPrefix(target, "../") {
		return fmt.Errorf("leaves the repository")
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err != nil {
		return fmt.Errorf("no such file or directory %s", target)
	}
	if frag == "" || !strings.HasSuffix(target, ".md") {
		return nil
	}
	anchors, err := anchorsOf(target)
	if err != nil {
		return err
	}
	if !anchors[frag] {
		return fmt.Errorf("%s has no heading whose anchor is #%s", target, frag)
	}
	return nil
}

// goName is how the pages quote a Go name so that it can be checked: a
// package name, a dot and an exported identifier, optionally a dot and an
// exported method or field of it, optionally a pointer's star before and
// call parentheses after ("translate.ParseQuery", "upstream.Caller.Call",
// "*upstream.APIError", "budget.ProjectOf(ctx)").
// Unqualified names ("NewExecution") are not checked: they do not say
// where to look.
var goName = regexp.MustCompile(`^\*?([a-z][a-z0-9]*)\.([A-Z][A-Za-z0-9_]*)(?:\.([A-Z][A-Za-z0-9_]*))?(?:\([^()]*\))?$`)

// TestGoNamesExist requires every qualified Go name a page quotes in
// backticks (goName) to be declared in a package of that name, or imported
// under that name by the module's code ("tchttp"), among the packages the
// module builds, its tests included, and their imports (the standard
// library and the SDKs too): a top-level declaration, or a method, struct
// field or interface method of a type declared there.
func TestGoNamesExist(t *testing.T) {
	pkgs := listPackages(t)
	dirsByName := pkgs.withImportNames(t)
	decls := map[string]map[string]bool{} // by package name
	checked := 0
	for _, p := range loadPages(t) {
		for _, span := range p.codeSpans {
			m := goName.FindStringSubmatch(span)
			if m == nil {
				continue
			}
			checked++
			pkg, name, member := m[1], m[2], m[3]
			dirs := dirsByName[pkg]
			if len(dirs) == 0 {
				t.Errorf("%s: `%s`: no package named %s in the module or its imports", p.path, span, pkg)
				continue
			}
			if decls[pkg] == nil {
				decls[pkg] = declarations(t, dirs)
			}
			want := name
			if member != "" {
				want += "." + member
			}
			if !decls[pkg][want] {
				t.Errorf("%s: `%s`: no %s declared in package %s (%s)", p.path, span, want, pkg, strings.Join(dirs, ", "))
			}
		}
	}
	requireChecked(t, checked, "Go names")
}

// dottedWord is a configuration key as the pages quote it: lower-case
// initial segments joined by dots, "*" standing for any key
// ("budget.maxWait", "redis.sentinel.masterName", "secret.keys.*").
// Words of that shape that are not keys (file names, host names, span
// attributes) must be accounted for as TestConfigKeysExist says.
var dottedWord = regexp.MustCompile(`^[a-z][A-Za-z0-9_-]*(?:\.(?:[a-z][A-Za-z0-9_-]*|\*))+$`)

// TestConfigKeysExist requires every dotted lower-case word a page quotes
// in backticks (dottedWord) to be a path of keys, from any depth, of the
// proxy's, the exporter's or the simulator's configuration (their yaml
// tags, by reflection from proxy.Config, exporter.Config and
// tencentsim.Config, a map's keys matching anything) or of the Helm
// chart's values (values.yaml and values.schema.json). A word that is not
// a key must be an OpenTelemetry semantic-convention attribute name (from
// the semconv package the module imports), a snake_case string literal of
// the module's Go code (a span attribute it sets: configuration keys are
// never snake_case, so no literal vouches for a key), the name of a file
// in the repository, or in notKeys.
func TestConfigKeysExist(t *testing.T) {
	keys := configKeys(t)
	var others map[string]bool
	checked := 0
	for _, p := range loadPages(t) {
		for _, span := range p.codeSpans {
			if !dottedWord.MatchString(span) {
				continue
			}
			checked++
			if keys.has(strings.Split(span, ".")) || notKeys[span] != "" {
				continue
			}
			if others == nil {
				others = knownWords(t)
			}
			if !others[span] {
				t.Errorf("%s: `%s` is no key of the proxy's, exporter's, simulator's or chart's configuration, nor a name the code or the tree has", p.path, span)
			}
		}
	}
	requireChecked(t, checked, "dotted words")
}

// repoPath is a path the pages quote in backticks ("internal/upstream/chain.go",
// "helm/mudscf/dashboards/", "dashboards/*.json", "upstream/budget/").
var repoPath = regexp.MustCompile(`^\.?[A-Za-z0-9_-]+(?:/[A-Za-z0-9_.*-]+)*/?$`)

// TestRepositoryPathsExist requires every path a page quotes in backticks
// (repoPath) to exist: one whose first element is a top-level entry of the
// repository from its root (a glob must match something); any other that
// names a file (an extension) or a directory (a final slash) at the end of
// some path in the repository ("upstream/budget/" for
// internal/upstream/budget). A file moved or deleted must take its
// mentions with it. Paths without either mark ("MicahParks/keyfunc",
// "http/protobuf") are not the repository's and are not checked.
func TestRepositoryPathsExist(t *testing.T) {
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	top := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() && e.Name() != ".git" {
			top[e.Name()] = true
		}
	}
	var tree []string
	checked := 0
	for _, p := range loadPages(t) {
		for _, span := range p.codeSpans {
			first, _, nested := strings.Cut(span, "/")
			if !nested || !repoPath.MatchString(span) {
				continue
			}
			if top[first] {
				checked++
				matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(span, "/"))))
				if err != nil || len(matches) == 0 {
					t.Errorf("%s: `%s`: no such file or directory in the repository", p.path, span)
				}
				continue
			}
			if !strings.HasSuffix(span, "/") && !strings.Contains(path.Base(span), ".") || strings.Contains(span, "*") {
				continue
			}
			checked++
			if tree == nil {
				tree = repositoryPaths(t)
			}
			suffix := "/" + strings.TrimSuffix(span, "/")
			if !slices.ContainsFunc(tree, func(p string) bool { return strings.HasSuffix(p, suffix) }) {
				t.Errorf("%s: `%s`: no path of the repository ends so", p.path, span)
			}
		}
	}
	requireChecked(t, checked, "repository paths")
}

// repositoryPaths are the paths of the repository's files and
// directories, from its root with a leading slash ("/internal/upstream").
func repositoryPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		paths = append(paths, "/"+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// A page is one markdown file: README.md or docs/*.md.
type page struct {
	path      string // slash-separated, from the repository's root
	src       []byte
	doc       mdast.Node
	codeSpans []string
}

var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

var (
	pagesOnce sync.Once
	pages     []*page
	pagesErr  error
)

func loadPages(t *testing.T) []*page {
	t.Helper()
	pagesOnce.Do(func() {
		names, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
		if err != nil {
			pagesErr = err
			return
		}
		paths := []string{"README.md"}
		for _, n := range names {
			paths = append(paths, "docs/"+filepath.Base(n))
		}
		for _, p := range paths {
			pg, err := parsePage(p)
			if err != nil {
				pagesErr = err
				return
			}
			pages = append(pages, pg)
		}
	})
	if pagesErr != nil {
		t.Fatal(pagesErr)
	}
	if len(pages) < 2 {
		t.Fatalf("found %d pages; want README.md and docs/*.md", len(pages))
	}
	return pages
}

func parsePage(p string) (*page, error) {
	src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	pg := &page{path: p, src: src, doc: markdown.Parser().Parse(text.NewReader(src))}
	inspect(pg.doc, func(n mdast.Node) mdast.WalkStatus {
		if cs, ok := n.(*mdast.CodeSpan); ok {
			pg.codeSpans = append(pg.codeSpans, strings.TrimSpace(plainText(cs, src)))
			return mdast.WalkSkipChildren
		}
		return mdast.WalkContinue
	})
	return pg, nil
}

// inspect calls visit on each node of the tree under n, depth first, as
// it enters the node. visit returns no error, so neither does mdast.Walk.
func inspect(n mdast.Node, visit func(mdast.Node) mdast.WalkStatus) {
	_ = mdast.Walk(n, func(n mdast.Node, entering bool) (mdast.WalkStatus, error) {
		if !entering {
			return mdast.WalkContinue, nil
		}
		return visit(n), nil
	})
}

// plainText is what n renders as text: its text and code, without markup.
func plainText(n mdast.Node, src []byte) string {
	var b strings.Builder
	inspect(n, func(n mdast.Node) mdast.WalkStatus {
		switch n := n.(type) {
		case *mdast.Text:
			b.Write(n.Value(src))
			if n.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *mdast.String:
			b.Write(n.Value)
		}
		return mdast.WalkContinue
	})
	return b.String()
}

var anchorCache sync.Map // page path → map[string]bool

// anchorsOf are the anchors GitHub gives the headings of the markdown file
// p: the heading's text in lower case, without punctuation, spaces made
// hyphens, and "-1", "-2"... after repeats.
func anchorsOf(p string) (map[string]bool, error) {
	if a, ok := anchorCache.Load(p); ok {
		return a.(map[string]bool), nil
	}
	pg, err := parsePage(p)
	if err != nil {
		return nil, err
	}
	anchors := map[string]bool{}
	seen := map[string]int{}
	inspect(pg.doc, func(n mdast.Node) mdast.WalkStatus {
		h, ok := n.(*mdast.Heading)
		if !ok {
			return mdast.WalkContinue
		}
		s := slug(plainText(h, pg.src))
		if k := seen[s]; k > 0 {
			anchors[s+"-"+strconv.Itoa(k)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
		return mdast.WalkSkipChildren
	})
	anchorCache.Store(p, anchors)
	return anchors, nil
}

func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r), unicode.Is(unicode.Pc, r), r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// packageIndex is where the packages the module builds, its tests
// included, and everything they import are, as the go command lists them
// (offline: the module cache has them once the tests compile).
type packageIndex struct {
	dirsByName map[string][]string
	importPath map[string]string // dir → import path
}

var (
	packagesOnce sync.Once
	packages     packageIndex
	packagesErr  error
)

func listPackages(t *testing.T) packageIndex {
	t.Helper()
	packagesOnce.Do(func() {
		cmd := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}\t{{.Name}}\t{{.Dir}}", "./...")
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				stderr = exit.Stderr
			}
			packagesErr = fmt.Errorf("go list: %w\n%s", err, stderr)
			return
		}
		pkgs := packageIndex{dirsByName: map[string][]string{}, importPath: map[string]string{}}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Split(sc.Text(), "\t")
			if len(f) != 3 || f[2] == "" || f[1] == "main" || strings.HasSuffix(f[1], "_test") {
				continue
			}
			importPath, _, _ := strings.Cut(f[0], " ") // "p [p.test]": the test variant
			if _, ok := pkgs.importPath[f[2]]; ok {
				continue
			}
			pkgs.importPath[f[2]] = importPath
			pkgs.dirsByName[f[1]] = append(pkgs.dirsByName[f[1]], f[2])
		}
		packages = pkgs
	})
	if packagesErr != nil {
		t.Fatal(packagesErr)
	}
	return packages
}

// withImportNames adds to the packages' own names the names the module's
// code imports them under.
func (pkgs packageIndex) withImportNames(t *testing.T) map[string][]string {
	t.Helper()
	dirOf := map[string]string{}
	for dir, importPath := range pkgs.importPath {
		dirOf[importPath] = dir
	}
	byName := maps.Clone(pkgs.dirsByName)
	for dir, importPath := range pkgs.importPath {
		if !strings.HasPrefix(importPath, module) {
			continue
		}
		for _, f := range goFiles(t, dir) {
			for _, imp := range f.Imports {
				path, err := strconv.Unquote(imp.Path.Value)
				if imp.Name == nil || imp.Name.Name == "_" || imp.Name.Name == "." || err != nil || dirOf[path] == "" {
					continue
				}
				if !slices.Contains(byName[imp.Name.Name], dirOf[path]) {
					byName[imp.Name.Name] = append(byName[imp.Name.Name], dirOf[path])
				}
			}
		}
	}
	return byName
}

// goFiles parses the non-test Go files of dir.
func goFiles(t *testing.T, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// declarations are the names declared in the non-test files of dirs:
// top-level names, and Type.Member for methods, struct fields and
// interface methods.
func declarations(t *testing.T, dirs []string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, dir := range dirs {
		for _, f := range goFiles(t, dir) {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil {
						names[d.Name.Name] = true
						continue
					}
					recv := d.Recv.List[0].Type
					for {
						switch r := recv.(type) {
						case *ast.StarExpr:
							recv = r.X
							continue
						case *ast.IndexExpr:
							recv = r.X
							continue
						case *ast.IndexListExpr:
							recv = r.X
							continue
						}
						break
					}
					if id, ok := recv.(*ast.Ident); ok {
						names[id.Name+"."+d.Name.Name] = true
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.ValueSpec:
							for _, n := range s.Names {
								names[n.Name] = true
							}
						case *ast.TypeSpec:
							names[s.Name.Name] = true
							for _, m := range members(s.Type) {
								names[s.Name.Name+"."+m] = true
							}
						}
					}
				}
			}
		}
	}
	return names
}

// members are the fields of a struct type and the methods of an interface
// type, embedded ones by their type's name.
func members(typ ast.Expr) []string {
	var list *ast.FieldList
	switch t := typ.(type) {
	case *ast.StructType:
		list = t.Fields
	case *ast.InterfaceType:
		list = t.Methods
	default:
		return nil
	}
	var names []string
	for _, f := range list.List {
		for _, n := range f.Names {
			names = append(names, n.Name)
		}
		if len(f.Names) == 0 {
			typ := f.Type
			if s, ok := typ.(*ast.StarExpr); ok {
				typ = s.X
			}
			switch e := typ.(type) {
			case *ast.Ident:
				names = append(names, e.Name)
			case *ast.SelectorExpr:
				names = append(names, e.Sel.Name)
			}
		}
	}
	return names
}

// keyPaths are paths of configuration keys, "*" for a map's keys.
type keyPaths [][]string

// has says whether word (a dotted key, "*" matching any one key) is a run
// of consecutive keys of some path, from any depth but starting at a key
// by its name, not at a map's key: a page quotes "readers.subjects" for
// projects.*.readers.subjects.
func (k keyPaths) has(word []string) bool {
	for _, p := range k {
	offsets:
		for o := 0; o+len(word) <= len(p); o++ {
			if p[o] == "*" {
				continue
			}
			for i, w := range word {
				if w != "*" && p[o+i] != "*" && p[o+i] != w {
					continue offsets
				}
			}
			return true
		}
	}
	return false
}

func configKeys(t *testing.T) keyPaths {
	t.Helper()
	var keys keyPaths
	for _, c := range []any{proxy.Config{}, exporter.Config{}, tencentsim.Config{}} {
		yamlKeys(reflect.TypeOf(c), nil, &keys, map[reflect.Type]bool{})
	}
	var values any
	b, err := os.ReadFile(filepath.Join(root, "helm", "mudscf", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &values); err != nil {
		t.Fatal(err)
	}
	valueKeys(values, nil, &keys)
	var schema map[string]any
	b, err = os.ReadFile(filepath.Join(root, "helm", "mudscf", "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	defs, _ := schema["definitions"].(map[string]any)
	schemaKeys(schema, defs, nil, &keys)
	// The chart's proxy.config and exporter.config are the proxy's and the
	// exporter's own files, whose keys come from their Go types above: the
	// schema's copy must not vouch for a key the code no longer has.
	keys = slices.DeleteFunc(keys, func(p []string) bool {
		return len(p) > 2 && (p[0] == "proxy" || p[0] == "exporter") && p[1] == "config"
	})
	if len(keys) < 100 {
		t.Fatalf("found %d configuration keys; the reflection or the chart's files went wrong", len(keys))
	}
	return keys
}

// yamlKeys adds the key paths of a type decoded from YAML: its fields'
// yaml tags (inline ones at the same level), a map's elements under "*",
// a list's elements at the list's own path.
func yamlKeys(typ reflect.Type, prefix []string, keys *keyPaths, seen map[reflect.Type]bool) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Map:
		yamlKeys(typ.Elem(), appendKey(prefix, "*", keys), keys, seen)
	case reflect.Slice, reflect.Array:
		yamlKeys(typ.Elem(), prefix, keys, seen)
	case reflect.Struct:
		if seen[typ] {
			return
		}
		seen[typ] = true
		defer delete(seen, typ)
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case name == "-":
				continue
			case strings.Contains(opts, "inline"):
				yamlKeys(f.Type, prefix, keys, seen)
				continue
			case name == "":
				name = strings.ToLower(f.Name)
			}
			yamlKeys(f.Type, appendKey(prefix, name, keys), keys, seen)
		}
	}
}

func appendKey(prefix []string, key string, keys *keyPaths) []string {
	p := append(slices.Clone(prefix), key)
	*keys = append(*keys, p)
	return p
}

func valueKeys(v any, prefix []string, keys *keyPaths) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			valueKeys(e, appendKey(prefix, k, keys), keys)
		}
	case []any:
		for _, e := range v {
			valueKeys(e, prefix, keys)
		}
	}
}

func schemaKeys(s map[string]any, defs map[string]any, prefix []string, keys *keyPaths) {
	if ref, ok := s["$ref"].(string); ok {
		if d, ok := defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any); ok {
			schemaKeys(d, defs, prefix, keys)
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for k, e := range props {
			if e, ok := e.(map[string]any); ok {
				schemaKeys(e, defs, appendKey(prefix, k, keys), keys)
			}
		}
	}
	if e, ok := s["additionalProperties"].(map[string]any); ok {
		schemaKeys(e, defs, appendKey(prefix, "*", keys), keys)
	}
	if e, ok := s["items"].(map[string]any); ok {
		schemaKeys(e, defs, prefix, keys)
	}
	for _, of := range []string{"oneOf", "anyOf", "allOf"} {
		list, _ := s[of].([]any)
		for _, e := range list {
			if e, ok := e.(map[string]any); ok {
				schemaKeys(e, defs, prefix, keys)
			}
		}
	}
}

// knownWords are the dotted words that are names without being keys: the
// snake_case string literals of the module's non-test Go code, the string
// literals of the OpenTelemetry semantic-convention packages it imports
// (attribute names), and the names of the repository's files.
func knownWords(t *testing.T) map[string]bool {
	t.Helper()
	words := map[string]bool{}
	pkgs := listPackages(t)
	for dir, importPath := range pkgs.importPath {
		if !strings.HasPrefix(importPath, module) && !strings.HasPrefix(importPath, "go.opentelemetry.io/otel/semconv/") {
			continue
		}
		ours := strings.HasPrefix(importPath, module)
		for _, f := range goFiles(t, dir) {
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && (!ours || strings.Contains(s, "_")) {
						words[s] = true
					}
				}
				return true
			})
		}
	}
	for _, p := range repositoryPaths(t) {
		words[path.Base(p)] = true
	}
	return words
}
