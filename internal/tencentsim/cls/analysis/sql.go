package analysis

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The analysis statement (after "|"), in the SQL Tencent's pages document
// (614/47044 "SQL语句语法规则", SELECT 614/44074, WHERE 614/44075, GROUP BY
// 614/58974, ORDER BY 614/58978, LIMIT 614/58977, AS 614/44069, aggregate
// functions 614/60028, operators 614/44068, nested subqueries 614/58980):
//
//	SELECT * | item [, item]...  [FROM log | FROM (subquery)]
//	  [WHERE cond] [GROUP BY key [, key]...] [HAVING cond]
//	  [ORDER BY key [ASC|DESC] [, ...]] [[OFFSET s] LIMIT n] [;]
//
// An item is an expression with an optional [AS] alias: columns (as
// written, or "double-quoted"), 'strings' ('' for a quote), numbers,
// + - * / %, cast(x AS bigint|double|varchar|timestamp), and the
// aggregates count(*), count(x), count_if(cond), sum, avg, max, min. A
// condition compares with = <> != < <= > >=, [NOT] LIKE, [NOT] IN,
// [NOT] BETWEEN, IS [NOT] NULL, AND, OR, NOT. Keywords ignore case;
// columns and aliases are matched as written (silent on the page: the
// stricter reading). LIMIT is 100 by default and at most 10,000; "LIMIT s,
// n" and "LIMIT n OFFSET s" are documented nowhere and are syntax errors,
// as is LIMIT in a subquery and `backticks`.
//
// A statement outside the grammar is FailedOperation.SyntaxError; one that
// parses but cannot run (an unknown column, a column without statistics,
// a non-grouped column, a type mismatch) is FailedOperation.QueryError
// with the texts of Tencent's FAQ (614/44224).

const (
	sqlDefaultLimit = 100
	sqlMaxRows      = 10000
)

type sqlTok struct {
	kind byte // 'i' identifier, 'q' "quoted identifier", 's' string, 'n' number, 'p' punctuation, 0 end
	text string
	pos  int
}

// sqlPunctuation holds every byte that starts an operator or delimiter
// token; "!" starts only "!=".
const sqlPunctuation = "(),*=<>!+-/%;"

func lexSQL(s string) ([]sqlTok, error) {
	var out []sqlTok
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '\'':
			var b strings.Builder
			j := i + 1
			for ; ; j++ {
				if j >= len(s) {
					return nil, syntaxErrorf("SyntaxError[line 1:%d: unterminated string]", i+1)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			out = append(out, sqlTok{kind: 's', text: b.String(), pos: i})
			i = j + 1
		case ch == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, syntaxErrorf("SyntaxError[line 1:%d: unterminated identifier]", i+1)
			}
			out = append(out, sqlTok{kind: 'q', text: s[i+1 : i+1+j], pos: i})
			i += j + 2
		case ch >= '0' && ch <= '9' || ch == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			out = append(out, sqlTok{kind: 'n', text: s[i:j], pos: i})
			i = j
		case ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '.' || s[j] >= 'a' && s[j] <= 'z' ||
				s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, sqlTok{kind: 'i', text: s[i:j], pos: i})
			i = j
		default:
			op := string(ch)
			if i+1 < len(s) {
				if two := s[i : i+2]; two == "!=" || two == "<>" || two == "<=" || two == ">=" {
					op = two
				}
			}
			if op == "!" || strings.IndexByte(sqlPunctuation, ch) < 0 {
				return nil, syntaxErrorf("SyntaxError[line 1:%d: mismatched input '%s']", i+1, op)
			}
			out = append(out, sqlTok{kind: 'p', text: op, pos: i})
			i += len(op)
		}
	}
	return append(out, sqlTok{pos: len(s)}), nil
}

var sqlReserved = map[string]bool{
	"select": true, "from": true, "where": true, "group": true, "by": true, "having": true, "order": true,
	"limit": true, "offset": true, "as": true, "and": true, "or": true, "not": true, "like": true,
	"in": true, "between": true, "is": true, "null": true, "asc": true, "desc": true,
}

// Type is a column's or an expression's type, named as Columns[].Type
// names it (Presto's names, which Tencent's own Grafana plugin maps).
type Type string

const (
	Bigint    Type = "bigint"
	Double    Type = "double"
	Varchar   Type = "varchar"
	Timestamp Type = "timestamp"
	Boolean   Type = "boolean"
)

func (t Type) numeric() bool { return t == Bigint || t == Double }

// column is one column of a source: the topic's keys or a subquery's
// output.
type column struct {
	name string
	typ  Type
}

type sqlParser struct {
	toks []sqlTok
	i    int
}

func (p *sqlParser) peek() sqlTok { return p.toks[p.i] }
func (p *sqlParser) next() sqlTok { t := p.toks[p.i]; p.i++; return t }

func (p *sqlParser) is(kw string) bool {
	t := p.peek()
	return t.kind == 'i' && strings.EqualFold(t.text, kw) || t.kind == 'p' && t.text == kw
}

func (p *sqlParser) accept(kw string) bool {
	if p.is(kw) {
		p.i++
		return true
	}
	return false
}

func (p *sqlParser) expect(kw string) error {
	if !p.accept(kw) {
		return p.unexpected()
	}
	return nil
}

func (p *sqlParser) unexpected() error {
	t := p.peek()
	if t.kind == 0 {
		return syntaxErrorf("SyntaxError[line 1:%d: mismatched input '<EOF>']", t.pos+1)
	}
	return syntaxErrorf("SyntaxError[line 1:%d: mismatched input '%s']", t.pos+1, t.text)
}

// The parse tree: a select and its expressions, names unresolved.
type (
	selectAST struct {
		star          bool
		items         []itemAST
		from          *selectAST // nil: log
		where, having *exprAST
		groupBy       []exprAST
		orderBy       []orderAST
		offset, limit int
		hasLimit      bool
	}
	itemAST struct {
		e     exprAST
		alias string
	}
	orderAST struct {
		e    exprAST
		desc bool
	}
	exprAST struct {
		op   string // "col", "num", "str", "null", "call", "cast", "star", arithmetic and logical operators
		text string // column, literal, function name, cast type
		args []exprAST
		not  bool // NOT LIKE, NOT IN, NOT BETWEEN, IS NOT NULL
		pos  int
	}
)

// parseSQL parses an analysis statement.
func parseSQL(s string) (*selectAST, error) {
	if strings.Contains(s, "`") {
		return nil, syntaxErrorf("SyntaxError[line 1:%d: backquoted identifiers are not supported; use double quotes]", strings.IndexByte(s, '`')+1)
	}
	toks, err := lexSQL(s)
	if err != nil {
		return nil, err
	}
	p := &sqlParser{toks: toks}
	st, err := p.selectStmt(false)
	if err != nil {
		return nil, err
	}
	p.accept(";")
	if p.peek().kind != 0 {
		return nil, p.unexpected()
	}
	return st, nil
}

func (p *sqlParser) selectStmt(sub bool) (*selectAST, error) {
	if err := p.expect("select"); err != nil {
		return nil, err
	}
	st := &selectAST{limit: sqlDefaultLimit}
	if p.accept("*") {
		st.star = true
	} else {
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			it := itemAST{e: e}
			if p.accept("as") {
				if it.alias, err = p.name(); err != nil {
					return nil, err
				}
			} else if t := p.peek(); t.kind == 'q' || t.kind == 'i' && !sqlReserved[strings.ToLower(t.text)] {
				it.alias, _ = p.name()
			}
			st.items = append(st.items, it)
			if !p.accept(",") {
				break
			}
		}
	}
	var err error
	if p.accept("from") {
		switch {
		case p.accept("("):
			if st.from, err = p.selectStmt(true); err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		case p.peek().kind == 'i' && p.peek().text == "log":
			p.next()
		default:
			return nil, p.unexpected()
		}
	}
	if p.accept("where") {
		c, err := p.cond()
		if err != nil {
			return nil, err
		}
		st.where = &c
	}
	if p.accept("group") {
		if err := p.expect("by"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			st.groupBy = append(st.groupBy, e)
			if !p.accept(",") {
				break
			}
		}
	}
	if p.accept("having") {
		c, err := p.cond()
		if err != nil {
			return nil, err
		}
		st.having = &c
	}
	if p.accept("order") {
		if err := p.expect("by"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			o := orderAST{e: e}
			if p.accept("desc") {
				o.desc = true
			} else {
				p.accept("asc")
			}
			st.orderBy = append(st.orderBy, o)
			if !p.accept(",") {
				break
			}
		}
	}
	// "offset S limit N" and "limit N" are the only documented forms.
	if p.is("offset") || p.is("limit") {
		if sub {
			return nil, syntaxErrorf("SyntaxError[line 1:%d: LIMIT is not supported inside a subquery]", p.peek().pos+1)
		}
		if p.accept("offset") {
			if st.offset, err = p.count(); err != nil {
				return nil, err
			}
			if !p.is("limit") {
				return nil, p.unexpected()
			}
		}
		p.accept("limit")
		if st.limit, err = p.count(); err != nil {
			return nil, err
		}
		st.hasLimit = true
		if p.is(",") || p.is("offset") {
			return nil, p.unexpected() // LIMIT s, n and LIMIT n OFFSET s: documented nowhere
		}
		if st.limit > sqlMaxRows || st.offset+st.limit > sqlMaxRows {
			return nil, queryErrorf("QueryError [line 1: LIMIT reaches row %d; an SQL statement returns at most %d rows]",
				st.offset+st.limit, sqlMaxRows)
		}
	}
	return st, nil
}

func (p *sqlParser) count() (int, error) {
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if t.kind != 'n' || err != nil {
		p.i--
		return 0, p.unexpected()
	}
	return n, nil
}

// name reads a column name or alias: a bare identifier or a quoted one.
func (p *sqlParser) name() (string, error) {
	t := p.next()
	if t.kind == 'q' || t.kind == 'i' && !sqlReserved[strings.ToLower(t.text)] {
		return t.text, nil
	}
	p.i--
	return "", p.unexpected()
}

func (p *sqlParser) cond() (exprAST, error) { return p.leftAssoc(p.andCond, "or") }

func (p *sqlParser) andCond() (exprAST, error) { return p.leftAssoc(p.notCond, "and") }

// leftAssoc parses operand (op operand)*, grouping to the left, each
// node's op the operator as listed (keywords lower-case).
func (p *sqlParser) leftAssoc(operand func() (exprAST, error), ops ...string) (exprAST, error) {
	l, err := operand()
	if err != nil {
		return l, err
	}
	for {
		i := slices.IndexFunc(ops, p.is)
		if i < 0 {
			return l, nil
		}
		t := p.next()
		r, err := operand()
		if err != nil {
			return l, err
		}
		l = exprAST{op: ops[i], args: []exprAST{l, r}, pos: t.pos}
	}
}

func (p *sqlParser) notCond() (exprAST, error) {
	if t := p.peek(); p.accept("not") {
		e, err := p.notCond()
		return exprAST{op: "not", args: []exprAST{e}, pos: t.pos}, err
	}
	if p.is("(") {
		// A parenthesised condition, unless it is an expression that a
		// comparison follows: (a + b) > 3.
		save := p.i
		p.next()
		if e, err := p.cond(); err == nil && p.accept(")") && !p.predicateFollows() {
			return e, nil
		}
		p.i = save
	}
	return p.predicate()
}

func (p *sqlParser) predicateFollows() bool {
	if t := p.peek(); t.kind == 'p' {
		switch t.text {
		case "=", "<>", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%":
			return true
		}
	}
	return p.is("like") || p.is("in") || p.is("between") || p.is("is") || p.is("not")
}

func (p *sqlParser) predicate() (exprAST, error) {
	l, err := p.expr()
	if err != nil {
		return l, err
	}
	t := p.peek()
	if p.accept("is") {
		not := p.accept("not")
		if err := p.expect("null"); err != nil {
			return l, err
		}
		return exprAST{op: "isnull", args: []exprAST{l}, not: not, pos: t.pos}, nil
	}
	not := p.accept("not")
	switch {
	case p.accept("like"):
		pat, err := p.expr()
		return exprAST{op: "like", args: []exprAST{l, pat}, not: not, pos: t.pos}, err
	case p.accept("in"):
		if err := p.expect("("); err != nil {
			return l, err
		}
		args := []exprAST{l}
		for {
			e, err := p.expr()
			if err != nil {
				return l, err
			}
			args = append(args, e)
			if !p.accept(",") {
				break
			}
		}
		return exprAST{op: "in", args: args, not: not, pos: t.pos}, p.expect(")")
	case p.accept("between"):
		lo, err := p.expr()
		if err != nil {
			return l, err
		}
		if err := p.expect("and"); err != nil {
			return l, err
		}
		hi, err := p.expr()
		return exprAST{op: "between", args: []exprAST{l, lo, hi}, not: not, pos: t.pos}, err
	case !not && t.kind == 'p' && slices.Contains([]string{"=", "<>", "!=", "<", "<=", ">", ">="}, t.text):
		p.next()
		r, err := p.expr()
		return exprAST{op: t.text, args: []exprAST{l, r}, pos: t.pos}, err
	}
	return l, p.unexpected()
}

func (p *sqlParser) expr() (exprAST, error) { return p.leftAssoc(p.term, "+", "-") }

func (p *sqlParser) term() (exprAST, error) { return p.leftAssoc(p.factor, "*", "/", "%") }

func (p *sqlParser) factor() (exprAST, error) {
	t := p.next()
	switch {
	case t.kind == 'n':
		return exprAST{op: "num", text: t.text, pos: t.pos}, nil
	case t.kind == 's':
		return exprAST{op: "str", text: t.text, pos: t.pos}, nil
	case t.kind == 'q':
		return exprAST{op: "col", text: t.text, pos: t.pos}, nil
	case t.kind == 'p' && t.text == "-":
		e, err := p.factor()
		return exprAST{op: "-", args: []exprAST{{op: "num", text: "0"}, e}, pos: t.pos}, err
	case t.kind == 'p' && t.text == "(":
		e, err := p.expr()
		if err != nil {
			return e, err
		}
		return e, p.expect(")")
	case t.kind == 'i' && strings.EqualFold(t.text, "null"):
		return exprAST{op: "null", pos: t.pos}, nil
	case t.kind == 'i' && p.is("("):
		p.next()
		fn := strings.ToLower(t.text)
		call := exprAST{op: "call", text: fn, pos: t.pos}
		switch {
		case fn == "cast":
			e, err := p.expr()
			if err != nil {
				return e, err
			}
			if err := p.expect("as"); err != nil {
				return e, err
			}
			to := p.next()
			return exprAST{op: "cast", text: strings.ToLower(to.text), args: []exprAST{e}, pos: t.pos}, p.expect(")")
		case fn == "count" && p.accept("*"):
			call.args = []exprAST{{op: "star"}}
		case fn == "count_if":
			c, err := p.cond()
			if err != nil {
				return c, err
			}
			call.args = []exprAST{c}
		default:
			for !p.is(")") {
				e, err := p.expr()
				if err != nil {
					return e, err
				}
				call.args = append(call.args, e)
				if !p.accept(",") {
					break
				}
			}
		}
		return call, p.expect(")")
	case t.kind == 'i' && !sqlReserved[strings.ToLower(t.text)]:
		return exprAST{op: "col", text: t.text, pos: t.pos}, nil
	}
	p.i--
	return exprAST{}, p.unexpected()
}

// String prints an expression, for default column names and matching a
// select item with a GROUP BY key.
func (e exprAST) String() string {
	switch e.op {
	case "col":
		return e.text
	case "num", "str":
		return fmt.Sprintf("%s:%q", e.op, e.text)
	case "null", "star":
		return e.op
	}
	args := make([]string, len(e.args))
	for i, a := range e.args {
		args[i] = a.String()
	}
	return fmt.Sprintf("%s%s/%v(%s)", e.op, e.text, e.not, strings.Join(args, ","))
}
