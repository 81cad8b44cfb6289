package analysis

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Resolving a parsed select against its source: names, types, statistics
// and the rules of grouping, each refused with Tencent's texts.

type resolver struct {
	st    *selectAST
	pl    *sqlPlan
	stats func(col int) bool // nil: every column may be used (a subquery's)
	// aggOK is whether aggregates may appear where resolving now.
	aggOK  bool
	inAgg  bool
	clause string
}

// planSQL resolves st over the topic's columns (log); stats says whether
// the topic's index has statistics (SqlFlag).
func planSQL(st *selectAST, log []column, stats bool) (*sqlPlan, error) {
	return planSelect(st, log, func(int) bool { return stats })
}

func planSelect(st *selectAST, src []column, stats func(int) bool) (*sqlPlan, error) {
	pl := &sqlPlan{src: src, offset: st.offset, limit: st.limit}
	if st.from != nil {
		inner, err := planSelect(st.from, src, stats)
		if err != nil {
			return nil, err
		}
		pl.from, pl.src, stats = inner, inner.cols, nil
	}
	rv := &resolver{st: st, pl: pl, stats: stats}
	var err error
	if st.where != nil {
		rv.clause = "where"
		if pl.where, err = rv.boolean(*st.where); err != nil {
			return nil, err
		}
	}
	rv.clause, rv.aggOK = "select", true
	if st.star {
		for i, c := range pl.src {
			if err := rv.usable(c.name, i); err != nil {
				return nil, err
			}
			pl.items = append(pl.items, &sqlExpr{kind: 'c', col: i, typ: c.typ})
			pl.cols = append(pl.cols, c)
		}
	}
	for i, it := range st.items {
		e, err := rv.expr(it.e)
		if err != nil {
			return nil, err
		}
		name := it.alias
		if name == "" {
			name = "_col" + strconv.Itoa(i)
			if it.e.op == "col" {
				name = it.e.text
			}
		}
		pl.items = append(pl.items, e)
		pl.cols = append(pl.cols, column{name, e.typ})
	}
	rv.aggOK = false
	rv.clause = "group"
	for _, g := range st.groupBy {
		e, err := rv.groupKey(g)
		if err != nil {
			return nil, err
		}
		pl.groupBy = append(pl.groupBy, e)
	}
	rv.aggOK = true
	if st.having != nil {
		rv.clause = "having"
		if pl.having, err = rv.boolean(*st.having); err != nil {
			return nil, err
		}
	}
	rv.clause = "order"
	for _, o := range st.orderBy {
		e, err := rv.orderKey(o.e)
		if err != nil {
			return nil, err
		}
		pl.orderBy = append(pl.orderBy, e)
		pl.desc = append(pl.desc, o.desc)
	}
	pl.aggregate = len(pl.aggs) > 0 || len(pl.groupBy) > 0
	if pl.aggregate {
		if err := rv.checkGrouping(); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// usable refuses a column of the topic whose index has no statistics, as
// Tencent's FAQ shows it (614/44224: "查询字段xxx未开启统计").
func (rv *resolver) usable(name string, col int) error {
	if rv.stats == nil || rv.stats(col) {
		return nil
	}
	switch rv.clause {
	case "order":
		return queryErrorf("QueryError [verification_exception.Cannot order by non-grouped column [%s]]", name)
	case "group":
		return queryErrorf("QueryError [verification_exception.Field [%s] of data type [%s] cannot be used for grouping]",
			name, strings.ReplaceAll(string(rv.pl.src[col].typ), "varchar", "text"))
	}
	return queryErrorf("QueryError [verification_exception.Cannot use non-grouped column [%s], expected []]", name)
}

func (rv *resolver) column(name string) (*sqlExpr, error) {
	i := slices.IndexFunc(rv.pl.src, func(c column) bool { return c.name == name })
	if i < 0 {
		return nil, queryErrorf("QueryError [verification_exception.Unknown column [%s]]", name)
	}
	if err := rv.usable(name, i); err != nil {
		return nil, err
	}
	return &sqlExpr{kind: 'c', col: i, typ: rv.pl.src[i].typ}, nil
}

// alias finds a select item by its output name, exactly.
func (rv *resolver) alias(name string) (int, bool) {
	for i, it := range rv.st.items {
		if it.alias == name {
			return i, true
		}
	}
	return 0, false
}

func (rv *resolver) boolean(e exprAST) (*sqlExpr, error) {
	x, err := rv.expr(e)
	if err == nil && x.typ != Boolean {
		return nil, queryErrorf("QueryError [line 1:%d: %s must evaluate to a boolean]", e.pos+1, strings.ToUpper(rv.clause))
	}
	return x, err
}

func (rv *resolver) groupKey(g exprAST) (*sqlExpr, error) {
	switch g.op {
	case "num":
		n, err := strconv.Atoi(g.text)
		if err != nil || n < 1 || n > len(rv.st.items) {
			return nil, queryErrorf("QueryError [line 1:%d: GROUP BY position %s is not in the select list]", g.pos+1, g.text)
		}
		g = rv.st.items[n-1].e
	case "col":
		if slices.IndexFunc(rv.pl.src, func(c column) bool { return c.name == g.text }) < 0 {
			if i, ok := rv.alias(g.text); ok {
				g = rv.st.items[i].e
			}
		}
	}
	return rv.expr(g)
}

// orderKey is an output name (an alias or a selected column), a source
// column, or an aggregate; expressions are refused as the older "SQL 限制说明"
// page refuses round() and arithmetic in ORDER BY.
func (rv *resolver) orderKey(o exprAST) (*sqlExpr, error) {
	switch o.op {
	case "col":
		if i, ok := rv.alias(o.text); ok {
			return rv.expr(rv.st.items[i].e)
		}
		return rv.expr(o)
	case "call":
		if aggregateNames[o.text] {
			return rv.expr(o)
		}
	}
	return nil, queryErrorf("QueryError [line 1:%d: ORDER BY takes a column, an alias or an aggregate]", o.pos+1)
}

var aggregateNames = map[string]bool{"count": true, "count_if": true, "sum": true, "avg": true, "max": true, "min": true}

func (rv *resolver) expr(e exprAST) (*sqlExpr, error) {
	switch e.op {
	case "col":
		return rv.column(e.text)
	case "num":
		if strings.Contains(e.text, ".") {
			f, err := strconv.ParseFloat(e.text, 64)
			if err != nil {
				return nil, syntaxErrorf("SyntaxError[line 1:%d: bad number %s]", e.pos+1, e.text)
			}
			return &sqlExpr{kind: 'l', lit: DoubleValue(f), typ: Double}, nil
		}
		n, err := strconv.ParseInt(e.text, 10, 64)
		if err != nil {
			return nil, queryErrorf("QueryError [line 1:%d: number %s out of range]", e.pos+1, e.text)
		}
		return &sqlExpr{kind: 'l', lit: BigintValue(n), typ: Bigint}, nil
	case "str":
		return &sqlExpr{kind: 'l', lit: Value{kind: 's', s: e.text}, typ: Varchar}, nil
	case "null":
		return &sqlExpr{kind: 'l', typ: Varchar}, nil
	case "cast":
		x, err := rv.expr(e.args[0])
		if err != nil {
			return nil, err
		}
		to := Type(e.text)
		if !slices.Contains([]Type{Bigint, Double, Varchar, Timestamp}, to) ||
			to == Timestamp && x.typ != Bigint && x.typ != Timestamp {
			return nil, queryErrorf("QueryError [line 1:%d: Cannot cast %s to %s]", e.pos+1, x.typ, e.text)
		}
		return &sqlExpr{kind: 'k', args: []*sqlExpr{x}, typ: to}, nil
	case "call":
		return rv.call(e)
	}
	args := make([]*sqlExpr, len(e.args))
	for i, a := range e.args {
		x, err := rv.expr(a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	x := &sqlExpr{kind: 'o', op: e.op, args: args, not: e.not, typ: Boolean}
	mismatch := func() error {
		var types []string
		for _, a := range args {
			types = append(types, string(a.typ))
		}
		return queryErrorf("QueryError [line 1:%d: Cannot apply operator %s to %s]", e.pos+1, e.op, strings.Join(types, ", "))
	}
	canCompare := func(a, b *sqlExpr) bool {
		return a.typ == b.typ || a.typ.numeric() && b.typ.numeric() || b.kind == 'l' && b.lit.kind == 0
	}
	switch e.op {
	case "and", "or", "not":
		for _, a := range args {
			if a.typ != Boolean {
				return nil, mismatch()
			}
		}
	case "isnull":
	case "like":
		if args[0].typ != Varchar || args[1].kind != 'l' || args[1].typ != Varchar {
			return nil, mismatch()
		}
		x.like = likePattern(args[1].lit.s)
	case "in", "between", "=", "<>", "!=", "<", "<=", ">", ">=":
		for _, a := range args[1:] {
			if !canCompare(args[0], a) {
				return nil, mismatch()
			}
		}
	default: // + - * / %
		if !args[0].typ.numeric() || !args[1].typ.numeric() {
			return nil, mismatch()
		}
		x.typ = Double
		if args[0].typ == Bigint && args[1].typ == Bigint {
			x.typ = Bigint
		}
	}
	return x, nil
}

func (rv *resolver) call(e exprAST) (*sqlExpr, error) {
	if !aggregateNames[e.text] {
		return nil, queryErrorf("QueryError [line 1:%d: Function %s not registered]", e.pos+1, e.text)
	}
	if !rv.aggOK || rv.inAgg {
		return nil, queryErrorf("QueryError [line 1:%d: aggregate %s is not allowed here]", e.pos+1, e.text)
	}
	if len(e.args) != 1 {
		return nil, queryErrorf("QueryError [line 1:%d: %s takes one argument]", e.pos+1, e.text)
	}
	a := aggregate{fn: e.text}
	rv.inAgg = true
	defer func() { rv.inAgg = false }()
	switch e.args[0].op {
	case "star":
		if e.text != "count" {
			return nil, syntaxErrorf("SyntaxError[line 1:%d: %s(*)]", e.pos+1, e.text)
		}
		a.typ = Bigint
	default:
		x, err := rv.expr(e.args[0])
		if err != nil {
			return nil, err
		}
		a.arg = x
		switch e.text {
		case "count":
			a.typ = Bigint
		case "count_if":
			if x.typ != Boolean {
				return nil, queryErrorf("QueryError [line 1:%d: count_if takes a boolean]", e.pos+1)
			}
			a.typ = Bigint
		case "avg":
			if !x.typ.numeric() {
				return nil, queryErrorf("QueryError [line 1:%d: Unexpected parameters (%s) for function avg]", e.pos+1, x.typ)
			}
			a.typ = Double
		case "sum":
			if !x.typ.numeric() {
				return nil, queryErrorf("QueryError [line 1:%d: Unexpected parameters (%s) for function sum]", e.pos+1, x.typ)
			}
			a.typ = x.typ
		default:
			a.typ = x.typ
		}
	}
	rv.pl.aggs = append(rv.pl.aggs, a)
	return &sqlExpr{kind: 'a', agg: len(rv.pl.aggs) - 1, typ: a.typ}, nil
}

// checkGrouping refuses a column read outside aggregates that is not
// grouped ("Cannot use non-grouped column", GROUP BY page 614/58974) and
// notes the grouped ones a group keeps.
func (rv *resolver) checkGrouping() error {
	grouped := map[int]bool{}
	for _, g := range rv.pl.groupBy {
		if g.kind == 'c' {
			grouped[g.col] = true
		}
	}
	var expected []string
	for c := range grouped {
		expected = append(expected, rv.pl.src[c].name)
	}
	slices.Sort(expected)
	var check func(e *sqlExpr) error
	check = func(e *sqlExpr) error {
		if slices.ContainsFunc(rv.pl.groupBy, func(g *sqlExpr) bool { return sameExpr(g, e) }) {
			for _, c := range columnsOf(e) {
				if !slices.Contains(rv.pl.kept, c) {
					rv.pl.kept = append(rv.pl.kept, c)
				}
			}
			return nil
		}
		switch e.kind {
		case 'c':
			return queryErrorf("QueryError [verification_exception.Cannot use non-grouped column [%s], expected [%s]]",
				rv.pl.src[e.col].name, strings.Join(expected, ", "))
		case 'a':
			return nil
		}
		for _, a := range e.args {
			if err := check(a); err != nil {
				return err
			}
		}
		return nil
	}
	for _, e := range append(append(slices.Clone(rv.pl.items), rv.pl.orderBy...), rv.pl.having) {
		if e != nil {
			if err := check(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func sameExpr(a, b *sqlExpr) bool {
	if a.kind != b.kind || a.col != b.col || a.op != b.op || a.typ != b.typ || a.not != b.not ||
		a.lit != b.lit || len(a.args) != len(b.args) || a.kind == 'a' {
		return false
	}
	for i := range a.args {
		if !sameExpr(a.args[i], b.args[i]) {
			return false
		}
	}
	return true
}

func columnsOf(e *sqlExpr) []int {
	if e.kind == 'c' {
		return []int{e.col}
	}
	var out []int
	for _, a := range e.args {
		out = append(out, columnsOf(a)...)
	}
	return out
}

// likeMatcher is a LIKE pattern (% any run, _ one character): a plain
// comparison when the pattern is a literal with % at its ends, else an
// anchored regular expression.
type likeMatcher struct {
	literal        string
	prefix, suffix bool // % before, after the literal
	re             *regexp.Regexp
}

func likePattern(s string) *likeMatcher {
	inner := strings.TrimSuffix(strings.TrimPrefix(s, "%"), "%")
	if !strings.ContainsAny(inner, "%_") {
		return &likeMatcher{literal: inner, prefix: strings.HasPrefix(s, "%"), suffix: len(s) > len(inner) && strings.HasSuffix(s, "%")}
	}
	var b strings.Builder
	b.WriteString("(?s)^")
	for _, r := range s {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteByte('.')
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteByte('$')
	return &likeMatcher{re: regexp.MustCompile(b.String())}
}

func (m *likeMatcher) match(v string) bool {
	switch {
	case m.re != nil:
		return m.re.MatchString(v)
	case m.prefix && m.suffix:
		return strings.Contains(v, m.literal)
	case m.prefix:
		return strings.HasSuffix(v, m.literal)
	case m.suffix:
		return strings.HasPrefix(v, m.literal)
	}
	return v == m.literal
}
