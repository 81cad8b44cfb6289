package cls

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mudscf/mudscf/internal/tencentsim/cls/analysis"
)

// CQL (SyntaxRule/QuerySyntax 1), exactly as Tencent's syntax page
// documents it (614/47044, "检索条件语法规则（CQL）"): key:value, full-text
// values, "phrases" and 'phrases', AND OR NOT in any case (binary "a NOT
// b" and unary "NOT a"), parentheses (at most 10 levels, 614/86845),
// key:(a OR b), the ranges key>n key>=n key<n key<=n key=n and their
// colon forms key:>n (the newer page lists both), * within or at the end
// of a word, key:* and key:"", and the escapes \ \: \" \' \* (in "…" only
// \" and \*, in '…' only \' and \*).
//
// Where the page is silent the stricter reading is taken, and the
// conformance table (conformance_test.go) says so: AND and OR mixed at one
// level without parentheses, juxtaposed conditions, '?', _exists_, other
// escapes, a leading + - !, && || and a trailing ~ are syntax errors;
// keys are matched as written.

// maxCQLLevels is the nesting limit: "(level:ERROR AND pid:1234) AND
// service:test为2层嵌套" counts a condition without parentheses as one level.
const maxCQLLevels = 10

// A condition's errors are a statement's (analysis.SyntaxError and
// analysis.QueryError), whichever part of it they are in.
func syntaxErrorf(format string, a ...any) error {
	return &analysis.SyntaxError{Msg: fmt.Sprintf(format, a...)}
}

func queryErrorf(format string, a ...any) error {
	return &analysis.QueryError{Msg: fmt.Sprintf(format, a...)}
}

type cqlTok struct {
	kind byte   // '(' ')' ':' 'o' comparison, 'w' word, 'q' quoted, 0 end
	text string // a word or phrase unescaped, wildcards as wildStar; an operator
	raw  string
	pos  int
}

func lexCQL(s string) ([]cqlTok, error) {
	var out []cqlTok
	for i := 0; i < len(s); {
		ch := s[i]
		switch ch {
		case ' ', '\t', '\n', '\r':
			i++
		case '(', ')', ':':
			out = append(out, cqlTok{kind: ch, text: string(ch), raw: string(ch), pos: i})
			i++
		case '>', '<', '=':
			op := string(ch)
			if ch != '=' && i+1 < len(s) && s[i+1] == '=' {
				op += "="
			}
			out = append(out, cqlTok{kind: 'o', text: op, raw: op, pos: i})
			i += len(op)
		case '"', '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != ch; j++ {
				switch s[j] {
				case '\\':
					if j+1 >= len(s) || (s[j+1] != ch && s[j+1] != '*') {
						return nil, syntaxErrorf("invalid escape at %d: inside %c…%c only \\%c and \\* are escapes", j, ch, ch, ch)
					}
					j++
					b.WriteByte(s[j])
				case '*':
					b.WriteRune(wildStar)
				default:
					b.WriteByte(s[j])
				}
			}
			if j >= len(s) {
				return nil, syntaxErrorf("unterminated %c at %d", ch, i)
			}
			out = append(out, cqlTok{kind: 'q', text: b.String(), raw: s[i : j+1], pos: i})
			i = j + 1
		default:
			var b strings.Builder
			j := i
			for ; j < len(s) && !strings.ContainsRune(" \t\n\r():\"'<>=", rune(s[j])); j++ {
				switch s[j] {
				case '\\':
					if j+1 >= len(s) || !strings.ContainsRune(` :"'*`, rune(s[j+1])) {
						return nil, syntaxErrorf(`invalid escape at %d: CQL escapes only \ (space), \:, \", \' and \*`, j)
					}
					j++
					b.WriteByte(s[j])
				case '*':
					b.WriteRune(wildStar)
				case '?':
					return nil, syntaxErrorf("'?' at %d: CQL has no single-character wildcard", j)
				default:
					b.WriteByte(s[j])
				}
			}
			raw := s[i:j]
			switch {
			case strings.HasPrefix(raw, "+") || strings.HasPrefix(raw, "-") || strings.HasPrefix(raw, "!"):
				return nil, syntaxErrorf("%q at %d: CQL has no + - ! operators; use AND, OR, NOT", raw, i)
			case strings.Contains(raw, "&&") || strings.Contains(raw, "||"):
				return nil, syntaxErrorf("%q at %d: CQL has no && || operators; use AND, OR", raw, i)
			case strings.HasSuffix(raw, "~"):
				return nil, syntaxErrorf("%q at %d: CQL has no fuzzy search", raw, i)
			}
			out = append(out, cqlTok{kind: 'w', text: b.String(), raw: raw, pos: i})
			i = j
		}
	}
	return append(out, cqlTok{pos: len(s)}), nil
}

type cqlParser struct {
	toks       []cqlTok
	i          int
	nest, deep int
	ix         *Index
}

// parseCQL compiles a CQL search condition; "" and "*" match everything.
func parseCQL(s string, ix *Index) (cond, error) {
	if t := strings.TrimSpace(s); t == "" || t == "*" {
		return condAll{}, nil
	}
	toks, err := lexCQL(s)
	if err != nil {
		return nil, err
	}
	p := &cqlParser{toks: toks, ix: ix}
	c, err := p.expr(nil)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, p.unexpected(t)
	}
	if p.deep+1 > maxCQLLevels {
		return nil, syntaxErrorf("the condition nests %d levels; CQL allows at most %d", p.deep+1, maxCQLLevels)
	}
	return c, nil
}

func (p *cqlParser) peek() cqlTok { return p.toks[p.i] }
func (p *cqlParser) next() cqlTok { t := p.toks[p.i]; p.i++; return t }

func isWord(t cqlTok, kw string) bool { return t.kind == 'w' && strings.EqualFold(t.raw, kw) }

func (p *cqlParser) unexpected(t cqlTok) error {
	if t.kind == 0 {
		return syntaxErrorf("unexpected end of the search condition")
	}
	return syntaxErrorf("unexpected %q at %d", t.raw, t.pos)
}

// expr reads conditions joined by one kind of operator: AND (and the
// binary NOT) or OR. key is the key of an enclosing key:( … ), if any.
func (p *cqlParser) expr(key *field) (cond, error) {
	return chain(func() (cond, error) { return p.unit(key) }, func() (string, error) {
		t := p.peek()
		var op string
		switch {
		case t.kind == 0 || t.kind == ')':
			return "", nil
		case isWord(t, "AND"), isWord(t, "NOT"):
			op = "AND"
		case isWord(t, "OR"):
			op = "OR"
		default:
			return "", syntaxErrorf("%q at %d follows a condition without AND, OR or NOT between them", t.raw, t.pos)
		}
		if !isWord(t, "NOT") {
			p.next()
		}
		return op, nil
	}, func() error {
		return syntaxErrorf("AND and OR at one level at %d: group them with parentheses", p.toks[p.i-1].pos)
	})
}

// chain reads units joined by operators of one family ("AND" or "OR"):
// next returns the operator ahead, consumed, or "" at the end of the
// group; mixed is the error of a second family.
func chain(unit func() (cond, error), next func() (string, error), mixed func() error) (cond, error) {
	first, err := unit()
	if err != nil {
		return nil, err
	}
	kids := []cond{first}
	var family string
	for {
		op, err := next()
		if err != nil {
			return nil, err
		}
		if op == "" {
			break
		}
		if family != "" && op != family {
			return nil, mixed()
		}
		family = op
		u, err := unit()
		if err != nil {
			return nil, err
		}
		kids = append(kids, u)
	}
	switch {
	case len(kids) == 1:
		return first, nil
	case family == "OR":
		return condOr(kids), nil
	}
	return condAnd(kids), nil
}

func (p *cqlParser) unit(key *field) (cond, error) {
	t := p.next()
	switch {
	case isWord(t, "NOT"):
		c, err := p.unit(key)
		if err != nil {
			return nil, err
		}
		return condNot{c}, nil
	case isWord(t, "AND") || isWord(t, "OR"):
		return nil, p.unexpected(t)
	case t.kind == '(':
		return p.group(key)
	case t.kind == 'q':
		return p.term(key, t, true)
	case t.kind == 'w' && key != nil:
		return p.term(key, t, false)
	case t.kind == 'w':
		switch p.peek().kind {
		case ':':
			p.next()
			f, err := p.key(t)
			if err != nil {
				return nil, err
			}
			return p.value(f)
		case 'o':
			f, err := p.key(t)
			if err != nil {
				return nil, err
			}
			return p.rangeTerm(f, p.next())
		}
		if t.raw == "*" {
			return condAll{}, nil
		}
		return p.term(nil, t, false)
	}
	return nil, p.unexpected(t)
}

func (p *cqlParser) group(key *field) (cond, error) {
	p.nest++
	p.deep = max(p.deep, p.nest)
	c, err := p.expr(key)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != ')' {
		return nil, p.unexpected(t)
	}
	p.nest--
	return c, nil
}

// key resolves a key name: one of the topic's indexed keys, as written.
func (p *cqlParser) key(t cqlTok) (field, error) {
	if t.raw == "_exists_" {
		return 0, syntaxErrorf("_exists_ is Lucene's; CQL writes key:*")
	}
	return indexedKey(t.raw)
}

func indexedKey(name string) (field, error) {
	f, ok := fieldByName(name)
	if !ok {
		return 0, queryErrorf("QueryError [illegal_argument_exception.Cannot search on field [%s] since it is not indexed.]", name)
	}
	return f, nil
}

// value reads what follows "key:".
func (p *cqlParser) value(f field) (cond, error) {
	t := p.next()
	switch {
	case t.kind == '(':
		return p.group(&f)
	case t.kind == 'o':
		return p.rangeTerm(f, t)
	case t.kind == 'q' && t.text == "":
		return condEmpty{f}, nil
	case t.kind == 'q':
		return p.term(&f, t, true)
	case t.kind == 'w' && t.raw == "*":
		return condExists{f}, nil
	case t.kind == 'w' && (strings.HasPrefix(t.raw, "[") || strings.HasPrefix(t.raw, "{")):
		return nil, syntaxErrorf("%q at %d: CQL has no [a TO b] ranges; write key>=a AND key<=b", t.raw, t.pos)
	case t.kind == 'w' && !isWord(t, "AND") && !isWord(t, "OR") && !isWord(t, "NOT"):
		return p.term(&f, t, false)
	}
	return nil, p.unexpected(t)
}

// rangeTerm reads "key op number" or "key:op number".
func (p *cqlParser) rangeTerm(f field, op cqlTok) (cond, error) {
	v := p.next()
	if v.kind != 'w' {
		return nil, p.unexpected(v)
	}
	return numericCond(f, op.text, v.raw)
}

// numericCond compares a numeric key with a number.
func numericCond(f field, op, value string) (cond, error) {
	if scfFields[f].typ == fieldText {
		return nil, queryErrorf("QueryError [illegal_argument_exception.Field [%s] of type [text] does not support range queries]", scfFields[f].name)
	}
	x, err := strconv.ParseFloat(value, 64)
	if err != nil || strings.ContainsAny(value, "*?") {
		return nil, queryErrorf("QueryError [number_format_exception.For input string: %q]", value)
	}
	c := condRange{f: f, lo: x, hi: x, loIn: true, hiIn: true}
	switch op {
	case ">":
		c.hi, c.loIn = inf, false
	case ">=":
		c.hi = inf
	case "<":
		c.lo, c.hiIn = -inf, false
	case "<=":
		c.lo = -inf
	}
	return c, nil
}

// term is a word or phrase for key (nil: full text).
func (p *cqlParser) term(key *field, t cqlTok, phrase bool) (cond, error) {
	return textTerm(key, t.text, phrase, p.ix)
}

// textTerm matches a value on a key (nil: full text). On a numeric key it
// is an equality (status:404); on text, its tokens: in sequence for a
// phrase, else each anywhere (CQL: "/book/user/login/ 等价于 book AND user
// AND login").
func textTerm(key *field, value string, phrase bool, ix *Index) (cond, error) {
	if key != nil && scfFields[*key].typ != fieldText {
		if hasWildcard(value) {
			return nil, queryErrorf("QueryError [illegal_argument_exception.Field [%s] is numeric: no wildcard search]", scfFields[*key].name)
		}
		return numericCond(*key, "=", strings.TrimSpace(value))
	}
	var toks []termToken
	for _, b := range ix.tokenize(nil, []byte(value)) {
		w := string(b)
		toks = append(toks, termToken{w, b, hasWildcard(w)})
		if r := []rune(w)[0]; r == wildStar || r == wildOne {
			return nil, queryErrorf("QueryError [parse_exception.parse_exception: Cannot parse '%s': '*' or '?' not allowed as first character in WildcardQuery]",
				strings.NewReplacer(string(wildStar), "*", string(wildOne), "?").Replace(value))
		}
	}
	f := fullText
	if key != nil {
		f = int(*key)
	}
	if len(toks) == 0 {
		return condOr{}, nil // only delimiters: no token to find
	}
	plain := true
	for _, t := range toks {
		plain = plain && !t.wild && !strings.ContainsAny(t.s, "0123456789-")
	}
	return &condText{f: f, toks: toks, phrase: phrase && len(toks) > 1, plain: plain}, nil
}
