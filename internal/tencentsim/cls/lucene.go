package cls

import (
	"math"
	"strings"
)

// Lucene (SyntaxRule 0, and Query without SyntaxRule), as Tencent's syntax
// page documents it (614/47044, "检索条件语法规则（Lucene）"): key:value,
// "phrases" (no wildcards inside), AND OR NOT in upper case only (lower
// case are plain words), juxtaposition meaning OR, parentheses without a
// depth limit, ranges only in colon form (status:>400, status:[400 TO
// 500}), * and ? within or at the end of a word, key:* and _exists_:key,
// and \ escaping the special characters + - && || ! ( ) { } [ ] ^ " ~ * ?
// : \ /, which must be escaped in a word.
//
// A failure is FailedOperation.QueryError, as Tencent's FAQ shows Lucene
// parse errors ("QueryError [parse_exception…]", 614/44224). Silent on the
// page, so refused: status>400 without the colon, 'single quotes', key:"",
// key:( … ), AND and OR mixed at one level (the page asks for
// parentheses), and the older page's + - && || ! ~ operators.

var inf = math.Inf(1)

// luceneSpecial must be escaped inside a word.
const luceneSpecial = `+-!(){}[]^"~:\/&|`

type lucTok struct {
	kind byte // '(' ')' ':' 'w' word, 'q' phrase, 'r' range, 0 end
	text string
	raw  string
	pos  int
}

func lucErr(format string, a ...any) error {
	return queryErrorf("QueryError [parse_exception."+format+"]", a...)
}

func lexLucene(s string) ([]lucTok, error) {
	var out []lucTok
	for i := 0; i < len(s); {
		ch := s[i]
		switch ch {
		case ' ', '\t', '\n', '\r':
			i++
		case '(', ')', ':':
			out = append(out, lucTok{kind: ch, raw: string(ch), pos: i})
			i++
		case '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, lucErr("Cannot parse '%s': unterminated phrase", s)
			}
			out = append(out, lucTok{kind: 'q', text: b.String(), raw: s[i : j+1], pos: i})
			i = j + 1
		case '[', '{':
			j := strings.IndexAny(s[i:], "]}")
			if j < 0 {
				return nil, lucErr("Cannot parse '%s': unterminated range", s)
			}
			out = append(out, lucTok{kind: 'r', raw: s[i : i+j+1], pos: i})
			i += j + 1
		case '\'':
			return nil, lucErr("Cannot parse '%s': Lucene phrases are in double quotes", s)
		default:
			var b strings.Builder
			j := i
			for ; j < len(s) && !strings.ContainsRune(" \t\n\r():\"", rune(s[j])); j++ {
				switch c := s[j]; {
				case c == '\\':
					if j+1 >= len(s) {
						return nil, lucErr("Cannot parse '%s': a trailing escape", s)
					}
					j++
					b.WriteByte(s[j])
				case c == '*':
					b.WriteRune(wildStar)
				case c == '?':
					b.WriteRune(wildOne)
				case strings.IndexByte(luceneSpecial, c) >= 0 || c == '\'':
					return nil, lucErr("Cannot parse '%s': unescaped '%c' at %d", s, c, j)
				default:
					b.WriteByte(c)
				}
			}
			out = append(out, lucTok{kind: 'w', text: b.String(), raw: s[i:j], pos: i})
			i = j
		}
	}
	return append(out, lucTok{pos: len(s)}), nil
}

type luceneParser struct {
	toks []lucTok
	i    int
	ix   *Index
	src  string
}

// parseLucene compiles a Lucene search condition; "" and "*" match
// everything.
func parseLucene(s string, ix *Index) (cond, error) {
	if t := strings.TrimSpace(s); t == "" || t == "*" {
		return condAll{}, nil
	}
	toks, err := lexLucene(s)
	if err != nil {
		return nil, err
	}
	p := &luceneParser{toks: toks, ix: ix, src: s}
	c, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, p.unexpected(t)
	}
	return c, nil
}

func (p *luceneParser) peek() lucTok { return p.toks[p.i] }
func (p *luceneParser) next() lucTok { t := p.toks[p.i]; p.i++; return t }

func (p *luceneParser) unexpected(t lucTok) error {
	if t.kind == 0 {
		return lucErr("Cannot parse '%s': Encountered \"<EOF>\"", p.src)
	}
	return lucErr("Cannot parse '%s': Encountered %q at %d", p.src, t.raw, t.pos)
}

func isOp(t lucTok, op string) bool { return t.kind == 'w' && t.raw == op }

func (p *luceneParser) expr() (cond, error) {
	return chain(p.unit, func() (string, error) {
		t := p.peek()
		switch {
		case t.kind == 0 || t.kind == ')':
			return "", nil
		case isOp(t, "AND"):
			p.next()
			return "AND", nil
		case isOp(t, "NOT"):
			return "AND", nil
		case isOp(t, "OR"):
			p.next()
		}
		return "OR", nil // juxtaposition: "warning error 等价于 warning OR error"
	}, func() error {
		return lucErr("Cannot parse '%s': AND and OR at one level; group them with ()", p.src)
	})
}

func (p *luceneParser) unit() (cond, error) {
	t := p.next()
	switch {
	case isOp(t, "NOT"):
		c, err := p.unit()
		if err != nil {
			return nil, err
		}
		return condNot{c}, nil
	case isOp(t, "AND") || isOp(t, "OR"):
		return nil, p.unexpected(t)
	case t.kind == '(':
		c, err := p.expr()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != ')' {
			return nil, p.unexpected(t)
		}
		return c, nil
	case t.kind == 'q':
		return textTerm(nil, t.text, true, p.ix)
	case t.kind == 'w':
		if p.peek().kind == ':' {
			p.next()
			return p.value(t)
		}
		if strings.ContainsAny(t.raw, "<>=") {
			return nil, lucErr("Cannot parse '%s': %q; ranges are key:>n", p.src, t.raw)
		}
		if t.raw == "*" {
			return condAll{}, nil
		}
		return textTerm(nil, t.text, false, p.ix)
	}
	return nil, p.unexpected(t)
}

func (p *luceneParser) value(k lucTok) (cond, error) {
	t := p.next()
	if k.raw == "_exists_" {
		if t.kind != 'w' {
			return nil, p.unexpected(t)
		}
		f, err := indexedKey(t.raw)
		if err != nil {
			return nil, err
		}
		return condExists{f}, nil
	}
	f, err := indexedKey(k.raw)
	if err != nil {
		return nil, err
	}
	switch {
	case t.kind == 'q' && t.text == "":
		return nil, lucErr("Cannot parse '%s': empty phrase", p.src)
	case t.kind == 'q':
		return textTerm(&f, t.text, true, p.ix)
	case t.kind == 'r':
		return luceneRange(f, t.raw)
	case t.kind == 'w' && t.raw == "*":
		return condExists{f}, nil
	case t.kind == 'w':
		for _, op := range []string{">=", "<=", ">", "<"} {
			if v, ok := strings.CutPrefix(t.raw, op); ok {
				return numericCond(f, op, v)
			}
		}
		if strings.ContainsAny(t.raw, "<>=") {
			return nil, lucErr("Cannot parse '%s': %q", p.src, t.raw)
		}
		return textTerm(&f, t.text, false, p.ix)
	}
	return nil, p.unexpected(t)
}

// luceneRange reads [a TO b], {a TO b} and their mixtures.
func luceneRange(f field, raw string) (cond, error) {
	inner := raw[1 : len(raw)-1]
	a, b, ok := strings.Cut(inner, " TO ")
	if !ok {
		return nil, lucErr("Cannot parse '%s': a range is [a TO b]", raw)
	}
	lo, err := numericCond(f, ">=", strings.TrimSpace(a))
	if err != nil {
		return nil, err
	}
	hi, err := numericCond(f, "<=", strings.TrimSpace(b))
	if err != nil {
		return nil, err
	}
	c := condRange{f: f, lo: lo.(condRange).lo, hi: hi.(condRange).hi, loIn: raw[0] == '[', hiIn: raw[len(raw)-1] == ']'}
	return c, nil
}
