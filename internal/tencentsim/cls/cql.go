package cls

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
)

// The search condition (the part of a SearchLog query before "|") in the
// subset of CQL a log reader needs: key:value, full-text keywords, AND, OR
// and NOT (any case; juxtaposed conditions mean AND, as Tencent's syntax
// page says), parentheses, "quoted" phrases, * and ? wildcards, numeric
// comparisons on numeric keys (SCF_Duration:>100) and * for everything.
// Lucene (SyntaxRule 0) is read with the same grammar: for this subset the
// two agree. Anything outside it is FailedOperation.SyntaxError.
//
// Text is matched token by token, with the delimiters SCF's default topic
// index uses, ignoring case; key names also ignore case.

// cqlNode is a compiled search condition.
type cqlNode interface {
	match(c *clsRecord) bool
}

type (
	cqlAll struct{}
	cqlAnd struct{ l, r cqlNode }
	cqlOr  struct{ l, r cqlNode }
	cqlNot struct{ n cqlNode }
	// cqlText matches a key (or, with key "", any key) against a value.
	cqlText struct {
		key    string
		typ    clsFieldType
		value  string
		phrase bool // quoted: tokens in sequence, wildcards literal
		op     string
		num    float64
	}
)

func (cqlAll) match(*clsRecord) bool     { return true }
func (n cqlAnd) match(c *clsRecord) bool { return n.l.match(c) && n.r.match(c) }
func (n cqlOr) match(c *clsRecord) bool  { return n.l.match(c) || n.r.match(c) }
func (n cqlNot) match(c *clsRecord) bool { return !n.n.match(c) }

func (t *cqlText) match(c *clsRecord) bool {
	if t.key == "" {
		for _, f := range clsFields {
			if v, _ := c.field(f.name); t.matchText(v) {
				return true
			}
		}
		return false
	}
	v, ok := c.field(t.key)
	if !ok {
		return false
	}
	if t.typ == fieldText {
		return t.matchText(v)
	}
	if t.value == "*" && !t.phrase {
		return true
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return false
	}
	switch t.op {
	case ">":
		return x > t.num
	case ">=":
		return x >= t.num
	case "<":
		return x < t.num
	case "<=":
		return x <= t.num
	}
	return x == t.num
}

// indexDelimiters are the full-text delimiters of the index Tencent's own
// tooling creates for SCF topics.
const indexDelimiters = "!@#%^&*()_=\"', <>/?|\\;:\n\t\r[]{}"

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return strings.ContainsRune(indexDelimiters, r) || unicode.IsSpace(r)
	})
}

func (t *cqlText) matchText(v string) bool {
	have := tokens(v)
	if !t.phrase && strings.ContainsAny(t.value, "*?") {
		if t.value == "*" {
			return len(have) > 0
		}
		pat := strings.ToLower(t.value)
		for _, h := range have {
			if ok, _ := path.Match(pat, h); ok {
				return true
			}
		}
		return false
	}
	want := tokens(t.value)
	if len(want) == 0 {
		return false
	}
	for i := 0; i+len(want) <= len(have); i++ {
		match := true
		for j := range want {
			if have[i+j] != want[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// cqlSyntaxError is a search condition the grammar refuses.
type cqlSyntaxError struct{ msg string }

func (e *cqlSyntaxError) Error() string { return e.msg }

type cqlToken struct {
	kind byte // '(' ')' ':' 'w' word, 'q' quoted, 'o' comparison operator, 0 end
	text string
	pos  int
}

func lexCQL(s string) ([]cqlToken, error) {
	var out []cqlToken
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '(' || ch == ')' || ch == ':':
			out = append(out, cqlToken{kind: ch, text: string(ch), pos: i})
			i++
		case ch == '"' || ch == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != ch; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, &cqlSyntaxError{fmt.Sprintf("unterminated quote at %d", i)}
			}
			out = append(out, cqlToken{kind: 'q', text: b.String(), pos: i})
			i = j + 1
		case ch == '>' || ch == '<' || ch == '=':
			op := string(ch)
			if ch != '=' && i+1 < len(s) && s[i+1] == '=' {
				op += "="
			}
			out = append(out, cqlToken{kind: 'o', text: op, pos: i})
			i += len(op)
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r():\"'<>=", rune(s[j])) {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				j++
			}
			out = append(out, cqlToken{kind: 'w', text: strings.ReplaceAll(s[i:j], "\\", ""), pos: i})
			i = j
		}
	}
	return append(out, cqlToken{pos: len(s)}), nil
}

type cqlParser struct {
	toks []cqlToken
	i    int
}

// parseCQL compiles a search condition; "" and "*" match every record.
func parseCQL(s string) (cqlNode, error) {
	if strings.TrimSpace(s) == "" {
		return cqlAll{}, nil
	}
	toks, err := lexCQL(s)
	if err != nil {
		return nil, err
	}
	p := &cqlParser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, p.unexpected(t)
	}
	return n, nil
}

func (p *cqlParser) peek() cqlToken { return p.toks[p.i] }
func (p *cqlParser) next() cqlToken { t := p.toks[p.i]; p.i++; return t }

func (p *cqlParser) keyword(t cqlToken, kw string) bool {
	return t.kind == 'w' && strings.EqualFold(t.text, kw)
}

func (p *cqlParser) unexpected(t cqlToken) error {
	if t.kind == 0 {
		return &cqlSyntaxError{"unexpected end of the search condition"}
	}
	return &cqlSyntaxError{fmt.Sprintf("unexpected %q at %d", t.text, t.pos)}
}

func (p *cqlParser) or() (cqlNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek(), "OR") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = cqlOr{l, r}
	}
	return l, nil
}

func (p *cqlParser) and() (cqlNode, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if p.keyword(t, "AND") {
			p.next()
		} else if t.kind == 0 || t.kind == ')' || p.keyword(t, "OR") {
			return l, nil
		}
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = cqlAnd{l, r}
	}
}

func (p *cqlParser) not() (cqlNode, error) {
	if p.keyword(p.peek(), "NOT") {
		p.next()
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return cqlNot{n}, nil
	}
	return p.primary()
}

func (p *cqlParser) primary() (cqlNode, error) {
	t := p.next()
	switch t.kind {
	case '(':
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != ')' {
			return nil, p.unexpected(c)
		}
		return n, nil
	case 'q':
		return &cqlText{value: t.text, phrase: true}, nil
	case 'w':
		if p.keyword(t, "AND") || p.keyword(t, "OR") {
			return nil, p.unexpected(t)
		}
		if p.peek().kind != ':' {
			if t.text == "*" {
				return cqlAll{}, nil
			}
			return &cqlText{value: t.text}, nil
		}
		p.next()
		return p.value(t.text)
	}
	return nil, p.unexpected(t)
}

// value reads what follows "key:".
func (p *cqlParser) value(key string) (cqlNode, error) {
	typ, known := clsFieldTypeOf(key)
	n := &cqlText{key: key, typ: typ}
	if !known {
		n.typ = fieldText // an unindexed key: nothing matches
	}
	t := p.next()
	switch t.kind {
	case 'q':
		n.value, n.phrase = t.text, true
	case 'w':
		n.value = t.text
	case 'o':
		v := p.next()
		if v.kind != 'w' {
			return nil, p.unexpected(v)
		}
		x, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return nil, &cqlSyntaxError{fmt.Sprintf("%s%s needs a number, got %q", key, t.text, v.text)}
		}
		if n.typ == fieldText {
			return nil, &cqlSyntaxError{fmt.Sprintf("%s is not a numeric key", key)}
		}
		n.op, n.value, n.num = t.text, v.text, x
		return n, nil
	default:
		return nil, p.unexpected(t)
	}
	if n.typ != fieldText && !(n.value == "*" && !n.phrase) {
		x, err := strconv.ParseFloat(n.value, 64)
		if err != nil {
			return nil, &cqlSyntaxError{fmt.Sprintf("%s is numeric, %q is not a number", key, n.value)}
		}
		n.num = x
	}
	return n, nil
}
