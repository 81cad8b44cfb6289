package cls

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
)

// A search condition (the part of a statement before "|"), compiled from
// CQL (cql.go) or Lucene (lucene.go) into the same tree. Text is matched
// token by token, with the topic index's delimiters and case rule
// (Index). Nodes decide a record with three values, so that a condition
// that is already false on what a function or a request alone determines
// skips it without rendering its lines (scan.go).

type tri uint8

const (
	no tri = iota
	yes
	unknown
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

type cond interface {
	eval(x *evalCtx) tri
}

type (
	condAll struct{}
	condAnd []cond
	condOr  []cond
	condNot struct{ c cond }
	// condText matches a field's tokens (all fields for full text, f < 0)
	// against a term: one token, several (each anywhere, the CQL rule for
	// a keyword holding delimiters), or a phrase (in sequence).
	condText struct {
		f      int
		toks   []termToken
		phrase bool
		// plain: no token holds a digit, '-' or a wildcard, so none can
		// equal a request ID or a number (see Index.templates).
		plain bool
	}
	// termToken is a token of a term, and whether it holds wildcards.
	termToken struct {
		s    string
		b    []byte
		wild bool
	}
	// condTokens is an OR of single-token terms on one field, compiled to
	// a set (a list of request IDs is the common case).
	condTokens struct {
		f   field
		set map[string]bool
	}
	condExists struct{ f field } // key:*
	condEmpty  struct{ f field } // key:""
	// condRange compares a numeric field: lo <= v < hi, each end open or
	// closed by loIn/hiIn.
	condRange struct {
		f          field
		lo, hi     float64
		loIn, hiIn bool
	}
)

const fullText = -1

func (condAll) eval(*evalCtx) tri { return yes }

func (c condAnd) eval(x *evalCtx) tri { return decide(c, x, no) }
func (c condOr) eval(x *evalCtx) tri  { return decide(c, x, yes) }

// decide evaluates kids until one gives the decisive value (no for AND,
// yes for OR); otherwise the result is the other value, or unknown if a
// kid was.
func decide(kids []cond, x *evalCtx, decisive tri) tri {
	out := no + yes - decisive
	for _, k := range kids {
		switch k.eval(x) {
		case decisive:
			return decisive
		case unknown:
			out = unknown
		}
	}
	return out
}

func (c condNot) eval(x *evalCtx) tri {
	switch c.c.eval(x) {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

func (c *condText) eval(x *evalCtx) tri {
	if c.f == fullText {
		if x.lvl < levelLine {
			return unknown
		}
		for f := range numFields {
			if c.matchTokens(x.tokens(f), x) {
				return yes
			}
		}
		return no
	}
	f := field(c.f)
	if f == fMessage && x.lvl == levelKind && c.plain {
		if toks := x.idx.templates()[x.rec.line.Kind]; toks != nil {
			return triOf(c.matchTokens(toks, x))
		}
	}
	if !x.knows(f) {
		return unknown
	}
	return triOf(c.matchTokens(x.tokens(f), x))
}

func (c *condText) matchTokens(have [][]byte, x *evalCtx) bool {
	if !c.phrase {
		for _, w := range c.toks {
			if !slices.ContainsFunc(have, func(h []byte) bool { return x.idx.tokenMatch(w, h) }) {
				return false
			}
		}
		return true
	}
	for i := 0; i+len(c.toks) <= len(have); i++ {
		ok := true
		for j, w := range c.toks {
			if !x.idx.tokenMatch(w, have[i+j]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (c *condTokens) eval(x *evalCtx) tri {
	if !x.knows(c.f) {
		return unknown
	}
	for _, h := range x.tokens(c.f) {
		if !x.idx.CaseSensitive {
			h = bytes.ToLower(h)
		}
		if c.set[string(h)] {
			return yes
		}
	}
	return no
}

// Every SCF key is present on every record of the default format; a
// text key may be empty (SCF_Alias), a numeric one never is.
func (c condExists) eval(*evalCtx) tri { return yes }

func (c condEmpty) eval(x *evalCtx) tri {
	if scfFields[c.f].typ != fieldText {
		return no // long/double: "等价于 NOT key:*"
	}
	if !x.knows(c.f) {
		return unknown
	}
	return triOf(len(x.tokens(c.f)) == 0)
}

func (c condRange) eval(x *evalCtx) tri {
	if !x.knows(c.f) {
		return unknown
	}
	v := x.rec.number(c.f)
	return triOf((v > c.lo || c.loIn && v == c.lo) && (v < c.hi || c.hiIn && v == c.hi))
}

// evalCtx is what is known of the record being decided, and its fields'
// text and tokens, computed once per record.
type evalCtx struct {
	rec     *record
	lvl     level
	idx     *Index
	buf     [numFields][]byte
	toks    [numFields][][]byte
	hasText [numFields]bool
	hasToks [numFields]bool
}

func (x *evalCtx) knows(f field) bool { return f.level() <= x.lvl }

// reset starts on another record (or the same one, known better).
func (x *evalCtx) reset(rec *record, lvl level) {
	x.rec, x.lvl = rec, lvl
	x.hasText, x.hasToks = [numFields]bool{}, [numFields]bool{}
}

func (x *evalCtx) text(f field) []byte {
	if !x.hasText[f] {
		x.buf[f] = x.rec.appendText(x.buf[f][:0], f)
		x.hasText[f] = true
	}
	return x.buf[f]
}

func (x *evalCtx) tokens(f field) [][]byte {
	if !x.hasToks[f] {
		x.toks[f] = x.idx.tokenize(x.toks[f][:0], x.text(f))
		x.hasToks[f] = true
	}
	return x.toks[f]
}

// Index is a topic's index configuration as DescribeIndex reports it and
// searches apply it.
type Index struct {
	// CaseSensitive applies to full text and key-value search alike.
	CaseSensitive bool
	// Delimiters split text into tokens.
	Delimiters string
	// Statistics is SqlFlag, the same for every key: SQL needs it.
	Statistics bool
	// ModifyTime is when the index was last changed.
	ModifyTime time.Time

	once     sync.Once
	table    [256]bool
	tmplOnce sync.Once
	templ    [invocations.LineProvisionedReport + 1][][]byte
}

// templates are the tokens of the messages SCF writes without free text
// (START, END, the report lines), by line kind: their other tokens are a
// request ID (with '-') or numbers (with digits), replaced by a
// placeholder no plain token equals, so a plain term is decided on the
// kind alone, without rendering the line.
func (ix *Index) templates() *[invocations.LineProvisionedReport + 1][][]byte {
	ix.tmplOnce.Do(func() {
		m := invocations.NewModel(invocations.Function{Name: "x", Type: invocations.TypeWeb}.WithDefaults(), 1, time.Unix(0, 0))
		r := m.Exec(0)
		for _, k := range []invocations.LineKind{invocations.LineStart, invocations.LineInitReport, invocations.LineEnd,
			invocations.LineReport, invocations.LineProvisionedReport} {
			var toks [][]byte
			for _, t := range ix.tokenize(nil, r.AppendMessage(nil, invocations.Line{Kind: k})) {
				if bytes.ContainsAny(t, "0123456789-") {
					t = []byte{0}
				}
				toks = append(toks, t)
			}
			ix.templ[k] = toks
		}
	})
	return &ix.templ
}

// scfDelimiters are those of the SCF-style topics Tencent's own tooling
// creates (serverless-tencent/tencent-component-toolkit, cls tests): the
// only Tencent source naming them for SCF logs. '_' is one, so request
// IDs "X" and "X_" have the same tokens.
const scfDelimiters = "!@#%^&*()_=\"', <>/?|\\;:\n\t\r[]{}"

// delimiters is a byte table of ix.Delimiters, built on first use.
func (ix *Index) delimiters() *[256]bool {
	ix.once.Do(func() {
		for i := range len(ix.Delimiters) {
			ix.table[ix.Delimiters[i]] = true
		}
		for _, b := range []byte{' ', '\t', '\n', '\v', '\f', '\r'} {
			ix.table[b] = true
		}
	})
	return &ix.table
}

// tokenize appends the tokens of s, which alias it. Delimiters are ASCII
// (the index's, and white space); other white space splits too.
func (ix *Index) tokenize(dst [][]byte, str []byte) [][]byte {
	table := ix.delimiters()
	start := -1
	for i := 0; i < len(str); {
		c := str[i]
		delim, size := table[c], 1
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRune(str[i:])
			delim = unicode.IsSpace(r)
		}
		if delim {
			if start >= 0 {
				dst = append(dst, str[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, str[start:])
	}
	return dst
}

// tokenMatch compares a term's token (wildStar and wildOne for unescaped
// wildcards) with a log's token, by the index's case rule.
func (ix *Index) tokenMatch(want termToken, have []byte) bool {
	if !want.wild {
		if ix.CaseSensitive {
			return string(have) == want.s
		}
		return bytes.EqualFold(want.b, have)
	}
	w, h := want.s, string(have)
	if !ix.CaseSensitive {
		w, h = strings.ToLower(w), strings.ToLower(h)
	}
	return glob(w, h)
}

// Unescaped wildcards travel inside a term's tokens as private-use runes,
// so that an escaped '*' stays a literal star (and a delimiter).
const (
	wildStar = '\uE000' // any run of characters
	wildOne  = '\uE001' // one character (Lucene's ?)
)

func hasWildcard(s string) bool { return strings.ContainsAny(s, string([]rune{wildStar, wildOne})) }

// glob matches s against a pattern of literal runes, wildStar and
// wildOne, iteratively so that no pattern can blow up.
func glob(pat, s string) bool {
	p, r := []rune(pat), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(r) {
		switch {
		case pi < len(p) && (p[pi] == wildOne || p[pi] == r[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == wildStar:
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == wildStar {
		pi++
	}
	return pi == len(p)
}

// startBounds is a range of SCF_StartTime (ms) outside which the
// condition is certainly false: a scan only needs the requests that
// started in it.
func startBounds(c cond) (lo, hi float64) {
	switch c := c.(type) {
	case condAnd:
		lo, hi = math.Inf(-1), math.Inf(1)
		for _, k := range c {
			l, h := startBounds(k)
			lo, hi = max(lo, l), min(hi, h)
		}
		return lo, hi
	case condOr:
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, k := range c {
			l, h := startBounds(k)
			lo, hi = min(lo, l), max(hi, h)
		}
		return lo, hi
	case condRange:
		if c.f == fStartTime {
			return c.lo, c.hi
		}
	}
	return math.Inf(-1), math.Inf(1)
}

// simplify compiles ORs of single-token terms on one key into a set.
func simplify(c cond, ix *Index) cond {
	switch c := c.(type) {
	case condAnd:
		for i := range c {
			c[i] = simplify(c[i], ix)
		}
		return c
	case condNot:
		return condNot{simplify(c.c, ix)}
	case condOr:
		for i := range c {
			c[i] = simplify(c[i], ix)
		}
		set := condTokens{f: 0, set: map[string]bool{}}
		for i, k := range c {
			t, ok := k.(*condText)
			if !ok || t.f == fullText || len(t.toks) != 1 || t.toks[0].wild ||
				(i > 0 && field(t.f) != set.f) {
				return c
			}
			set.f = field(t.f)
			w := t.toks[0].s
			if !ix.CaseSensitive {
				w = strings.ToLower(w)
			}
			set.set[w] = true
		}
		return &set
	}
	return c
}
