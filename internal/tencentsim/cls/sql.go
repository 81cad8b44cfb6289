package cls

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The analysis statement (after "|") in the subset a stats query needs:
//
//	SELECT item [, item]... [WHERE cond] [GROUP BY col [, col]...]
//	       [ORDER BY name [ASC|DESC] [, ...]] [LIMIT n | LIMIT offset, n]
//
// where an item is count(*), count(col), count_if(cond), sum/avg/max/min
// of a column or of cast(col AS bigint|double), or a grouped column, each
// with an optional [AS] alias; cond compares columns and literals with
// = != <> < <= > >=, [NOT] LIKE, [NOT] IN (...), BETWEEN, AND, OR, NOT and
// parentheses. Keywords ignore case. A statement outside the grammar is
// FailedOperation.SyntaxError; one that parses but names an unknown column
// or mixes grouped and ungrouped columns is FailedOperation.QueryError.

// sqlDefaultLimit is how many rows CLS returns when a statement has no LIMIT.
const sqlDefaultLimit = 100

type sqlQueryError struct{ msg string }

func (e *sqlQueryError) Error() string { return e.msg }

type sqlTok struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'p' punctuation/operator, 0 end
	text string
	pos  int
}

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
					return nil, &cqlSyntaxError{fmt.Sprintf("unterminated string at %d", i)}
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
				return nil, &cqlSyntaxError{fmt.Sprintf("unterminated identifier at %d", i)}
			}
			out = append(out, sqlTok{kind: 'i', text: s[i+1 : i+1+j], pos: i})
			i += j + 2
		case ch >= '0' && ch <= '9' || ch == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			out = append(out, sqlTok{kind: 'n', text: s[i:j], pos: i})
			i = j
		case ch == '_' || ch == '$' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || s[j] == '.' || s[j] >= 'a' && s[j] <= 'z' ||
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
			if !strings.Contains("(),*=<>!", op[:1]) || op == "!" {
				return nil, &cqlSyntaxError{fmt.Sprintf("unexpected %q at %d", op, i)}
			}
			out = append(out, sqlTok{kind: 'p', text: op, pos: i})
			i += len(op)
		}
	}
	return append(out, sqlTok{pos: len(s)}), nil
}

// sqlValue is a cell: null, a number or text.
type sqlValue struct {
	null  bool
	isNum bool
	num   float64
	str   string
}

func (v sqlValue) text() string {
	if v.isNum {
		return strconv.FormatFloat(v.num, 'f', -1, 64)
	}
	return v.str
}

func compareValues(a, b sqlValue) (int, bool) {
	if a.null || b.null {
		return 0, false
	}
	if a.isNum || b.isNum {
		x, errA := strconv.ParseFloat(a.text(), 64)
		y, errB := strconv.ParseFloat(b.text(), 64)
		if errA == nil && errB == nil {
			return cmp.Compare(x, y), true
		}
	}
	return strings.Compare(a.text(), b.text()), true
}

// sqlExpr is a scalar expression evaluated on one record.
type sqlExpr interface {
	eval(c *clsRecord) sqlValue
}

type (
	sqlCol struct {
		name string
		typ  clsFieldType
	}
	sqlLit  struct{ v sqlValue }
	sqlCast struct {
		e   sqlExpr
		num bool
	}
)

func (e sqlCol) eval(c *clsRecord) sqlValue {
	v, _ := c.field(e.name)
	if e.typ == fieldText {
		return sqlValue{str: v}
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return sqlValue{null: true}
	}
	return sqlValue{isNum: true, num: x}
}

func (e sqlLit) eval(*clsRecord) sqlValue { return e.v }

func (e sqlCast) eval(c *clsRecord) sqlValue {
	v := e.e.eval(c)
	if !e.num || v.null || v.isNum {
		return v
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v.str), 64)
	if err != nil {
		return sqlValue{null: true}
	}
	return sqlValue{isNum: true, num: x}
}

// sqlCond is a boolean expression; SQL's unknown counts as false.
type sqlCond func(c *clsRecord) bool

// sqlItem is one output column.
type sqlItem struct {
	name  string
	agg   string // count, count_if, sum, avg, max, min or "" for a grouped column
	star  bool   // count(*)
	arg   sqlExpr
	cond  sqlCond
	typ   string // bigint, double or varchar
	group int    // index into the GROUP BY columns when agg == ""
}

type sqlOrder struct {
	col  int
	desc bool
}

type sqlStatement struct {
	items         []sqlItem
	where         sqlCond
	groupBy       []sqlCol
	orderBy       []sqlOrder
	offset, limit int
}

type sqlParser struct {
	toks []sqlTok
	i    int
}

func (p *sqlParser) peek() sqlTok { return p.toks[p.i] }
func (p *sqlParser) next() sqlTok { t := p.toks[p.i]; p.i++; return t }

func (p *sqlParser) is(kw string) bool {
	t := p.peek()
	return (t.kind == 'i' || t.kind == 'p') && strings.EqualFold(t.text, kw)
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
		return &cqlSyntaxError{"unexpected end of the SQL statement"}
	}
	return &cqlSyntaxError{fmt.Sprintf("unexpected %q at %d in the SQL statement", t.text, t.pos)}
}

var sqlReserved = map[string]bool{
	"select": true, "from": true, "where": true, "group": true, "by": true, "order": true,
	"limit": true, "as": true, "and": true, "or": true, "not": true, "like": true, "in": true,
	"between": true, "asc": true, "desc": true, "offset": true,
}

// parseSQL compiles an analysis statement.
func parseSQL(s string) (*sqlStatement, error) {
	toks, err := lexSQL(s)
	if err != nil {
		return nil, err
	}
	p := &sqlParser{toks: toks}
	st := &sqlStatement{limit: sqlDefaultLimit}
	if err := p.expect("select"); err != nil {
		return nil, err
	}
	type pending struct {
		item sqlItem
		col  *sqlCol
	}
	var items []pending
	for {
		it, col, err := p.item(len(items))
		if err != nil {
			return nil, err
		}
		items = append(items, pending{it, col})
		if !p.accept(",") {
			break
		}
	}
	if p.accept("where") {
		if st.where, err = p.cond(); err != nil {
			return nil, err
		}
	}
	if p.accept("group") {
		if err := p.expect("by"); err != nil {
			return nil, err
		}
		for {
			c, err := p.column()
			if err != nil {
				return nil, err
			}
			st.groupBy = append(st.groupBy, c)
			if !p.accept(",") {
				break
			}
		}
	}
	for _, pi := range items {
		it := pi.item
		if pi.col != nil {
			it.group = slices.IndexFunc(st.groupBy, func(g sqlCol) bool { return strings.EqualFold(g.name, pi.col.name) })
			if it.group < 0 {
				return nil, &sqlQueryError{fmt.Sprintf("'%s' must be an aggregate expression or appear in GROUP BY clause", pi.col.name)}
			}
		}
		st.items = append(st.items, it)
	}
	if p.accept("order") {
		if err := p.expect("by"); err != nil {
			return nil, err
		}
		for {
			t := p.next()
			if t.kind != 'i' {
				p.i--
				return nil, p.unexpected()
			}
			col := slices.IndexFunc(st.items, func(it sqlItem) bool { return strings.EqualFold(it.name, t.text) })
			if col < 0 {
				return nil, &sqlQueryError{fmt.Sprintf("ORDER BY %s: no such output column", t.text)}
			}
			o := sqlOrder{col: col}
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
	if p.accept("limit") {
		n, err := p.count()
		if err != nil {
			return nil, err
		}
		st.limit = n
		if p.accept(",") {
			if st.limit, err = p.count(); err != nil {
				return nil, err
			}
			st.offset = n
		} else if p.accept("offset") {
			if st.offset, err = p.count(); err != nil {
				return nil, err
			}
		}
	}
	if p.peek().kind != 0 {
		return nil, p.unexpected()
	}
	return st, nil
}

func (p *sqlParser) count() (int, error) {
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if t.kind != 'n' || err != nil || n < 0 {
		p.i--
		return 0, p.unexpected()
	}
	return n, nil
}

func (p *sqlParser) column() (sqlCol, error) {
	t := p.next()
	if t.kind != 'i' || sqlReserved[strings.ToLower(t.text)] {
		p.i--
		return sqlCol{}, p.unexpected()
	}
	typ, ok := clsFieldTypeOf(t.text)
	if !ok {
		return sqlCol{}, &sqlQueryError{fmt.Sprintf("Column '%s' cannot be resolved", t.text)}
	}
	return sqlCol{name: t.text, typ: typ}, nil
}

var aggregates = map[string]bool{"count": true, "count_if": true, "sum": true, "avg": true, "max": true, "min": true}

// item reads one select item; a bare column comes back in col so that the
// caller can check it against GROUP BY.
func (p *sqlParser) item(n int) (sqlItem, *sqlCol, error) {
	it := sqlItem{name: "_col" + strconv.Itoa(n)}
	var col *sqlCol
	t := p.peek()
	fn := strings.ToLower(t.text)
	switch {
	case t.kind == 'i' && aggregates[fn] && p.toks[p.i+1].text == "(":
		p.i += 2
		it.agg = fn
		switch {
		case fn == "count" && p.accept("*"):
			it.star, it.typ = true, "bigint"
		case fn == "count_if":
			c, err := p.cond()
			if err != nil {
				return it, nil, err
			}
			it.cond, it.typ = c, "bigint"
		default:
			e, typ, err := p.operand()
			if err != nil {
				return it, nil, err
			}
			it.arg = e
			switch fn {
			case "count":
				it.typ = "bigint"
			case "avg":
				it.typ = "double"
			case "sum":
				if typ == "varchar" {
					return it, nil, &sqlQueryError{"sum needs a numeric argument"}
				}
				it.typ = typ
			default:
				it.typ = typ
			}
		}
		if err := p.expect(")"); err != nil {
			return it, nil, err
		}
	default:
		c, err := p.column()
		if err != nil {
			return it, nil, err
		}
		col = &c
		it.name, it.typ = c.name, sqlTypeOf(c.typ)
	}
	if p.accept("as") {
		t := p.next()
		if t.kind != 'i' {
			p.i--
			return it, nil, p.unexpected()
		}
		it.name = t.text
	} else if t := p.peek(); t.kind == 'i' && !sqlReserved[strings.ToLower(t.text)] {
		p.i++
		it.name = t.text
	}
	return it, col, nil
}

func sqlTypeOf(t clsFieldType) string {
	switch t {
	case fieldLong:
		return "bigint"
	case fieldDouble:
		return "double"
	}
	return "varchar"
}

// operand reads a column, a literal or a cast, with its SQL type.
func (p *sqlParser) operand() (sqlExpr, string, error) {
	t := p.peek()
	switch {
	case t.kind == 'n':
		p.i++
		x, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, "", &cqlSyntaxError{fmt.Sprintf("bad number %q", t.text)}
		}
		typ := "bigint"
		if strings.Contains(t.text, ".") {
			typ = "double"
		}
		return sqlLit{sqlValue{isNum: true, num: x}}, typ, nil
	case t.kind == 's':
		p.i++
		return sqlLit{sqlValue{str: t.text}}, "varchar", nil
	case t.kind == 'i' && strings.EqualFold(t.text, "cast") && p.toks[p.i+1].text == "(":
		p.i += 2
		e, _, err := p.operand()
		if err != nil {
			return nil, "", err
		}
		if err := p.expect("as"); err != nil {
			return nil, "", err
		}
		to := strings.ToLower(p.next().text)
		if to != "bigint" && to != "double" && to != "varchar" {
			p.i--
			return nil, "", p.unexpected()
		}
		if err := p.expect(")"); err != nil {
			return nil, "", err
		}
		return sqlCast{e: e, num: to != "varchar"}, to, nil
	}
	c, err := p.column()
	if err != nil {
		return nil, "", err
	}
	return c, sqlTypeOf(c.typ), nil
}

func (p *sqlParser) cond() (sqlCond, error) {
	l, err := p.andCond()
	if err != nil {
		return nil, err
	}
	for p.accept("or") {
		r, err := p.andCond()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(c *clsRecord) bool { return a(c) || b(c) }
	}
	return l, nil
}

func (p *sqlParser) andCond() (sqlCond, error) {
	l, err := p.notCond()
	if err != nil {
		return nil, err
	}
	for p.accept("and") {
		r, err := p.notCond()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(c *clsRecord) bool { return a(c) && b(c) }
	}
	return l, nil
}

func (p *sqlParser) notCond() (sqlCond, error) {
	if p.accept("not") {
		n, err := p.notCond()
		if err != nil {
			return nil, err
		}
		return func(c *clsRecord) bool { return !n(c) }, nil
	}
	if p.accept("(") {
		n, err := p.cond()
		if err != nil {
			return nil, err
		}
		return n, p.expect(")")
	}
	return p.comparison()
}

func (p *sqlParser) comparison() (sqlCond, error) {
	l, _, err := p.operand()
	if err != nil {
		return nil, err
	}
	negate := p.accept("not")
	var c sqlCond
	switch t := p.peek(); {
	case p.accept("like"):
		pt := p.next()
		if pt.kind != 's' {
			p.i--
			return nil, p.unexpected()
		}
		re := likePattern(pt.text)
		c = func(r *clsRecord) bool { v := l.eval(r); return !v.null && re.MatchString(v.text()) }
	case p.accept("in"):
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var set []sqlExpr
		for {
			e, _, err := p.operand()
			if err != nil {
				return nil, err
			}
			set = append(set, e)
			if !p.accept(",") {
				break
			}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		c = func(r *clsRecord) bool {
			v := l.eval(r)
			return slices.ContainsFunc(set, func(e sqlExpr) bool { n, ok := compareValues(v, e.eval(r)); return ok && n == 0 })
		}
	case p.accept("between"):
		lo, _, err := p.operand()
		if err != nil {
			return nil, err
		}
		if err := p.expect("and"); err != nil {
			return nil, err
		}
		hi, _, err := p.operand()
		if err != nil {
			return nil, err
		}
		c = func(r *clsRecord) bool {
			v := l.eval(r)
			a, okA := compareValues(v, lo.eval(r))
			b, okB := compareValues(v, hi.eval(r))
			return okA && okB && a >= 0 && b <= 0
		}
	case !negate && t.kind == 'p' && comparisons[t.text]:
		p.i++
		rhs, _, err := p.operand()
		if err != nil {
			return nil, err
		}
		op := t.text
		return func(r *clsRecord) bool {
			n, ok := compareValues(l.eval(r), rhs.eval(r))
			if !ok {
				return false
			}
			switch op {
			case "=":
				return n == 0
			case "!=", "<>":
				return n != 0
			case "<":
				return n < 0
			case "<=":
				return n <= 0
			case ">":
				return n > 0
			}
			return n >= 0
		}, nil
	default:
		return nil, p.unexpected()
	}
	if negate {
		inner := c
		c = func(r *clsRecord) bool { return !inner(r) }
	}
	return c, nil
}

var comparisons = map[string]bool{"=": true, "!=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true}

// likePattern turns a LIKE pattern (% any run, _ one character) into an
// anchored regular expression.
func likePattern(s string) *regexp.Regexp {
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
	return regexp.MustCompile(b.String())
}

// sqlAcc accumulates one aggregate of one group.
type sqlAcc struct {
	n        int64
	sum      float64
	best     sqlValue
	haveBest bool
}

func (it *sqlItem) add(a *sqlAcc, c *clsRecord) {
	switch {
	case it.agg == "": // a grouped column: its value is the group's key
		return
	case it.star:
		a.n++
		return
	case it.agg == "count_if":
		if it.cond(c) {
			a.n++
		}
		return
	}
	v := it.arg.eval(c)
	if v.null {
		return
	}
	a.n++
	switch it.agg {
	case "sum", "avg":
		a.sum += v.num
	case "max", "min":
		n, _ := compareValues(v, a.best)
		if !a.haveBest || (it.agg == "max" && n > 0) || (it.agg == "min" && n < 0) {
			a.best, a.haveBest = v, true
		}
	}
}

func (it *sqlItem) result(a *sqlAcc, key []sqlValue) sqlValue {
	switch it.agg {
	case "":
		return key[it.group]
	case "count", "count_if":
		return sqlValue{isNum: true, num: float64(a.n)}
	case "sum":
		if a.n == 0 {
			return sqlValue{null: true}
		}
		return sqlValue{isNum: true, num: a.sum}
	case "avg":
		if a.n == 0 {
			return sqlValue{null: true}
		}
		return sqlValue{isNum: true, num: a.sum / float64(a.n)}
	}
	if !a.haveBest {
		return sqlValue{null: true}
	}
	return a.best
}

type sqlGroup struct {
	key  []sqlValue
	accs []sqlAcc
}

// run aggregates the records and returns the output rows.
func (st *sqlStatement) run(records []clsRecord) [][]sqlValue {
	groups := map[string]*sqlGroup{}
	var order []*sqlGroup
	if len(st.groupBy) == 0 {
		g := &sqlGroup{accs: make([]sqlAcc, len(st.items))}
		groups[""] = g
		order = append(order, g)
	}
	for i := range records {
		c := &records[i]
		if st.where != nil && !st.where(c) {
			continue
		}
		var key []sqlValue
		var k strings.Builder
		for _, col := range st.groupBy {
			v := col.eval(c)
			key = append(key, v)
			k.WriteString(v.text())
			k.WriteByte(0)
		}
		g := groups[k.String()]
		if g == nil {
			g = &sqlGroup{key: key, accs: make([]sqlAcc, len(st.items))}
			groups[k.String()] = g
			order = append(order, g)
		}
		for j := range st.items {
			st.items[j].add(&g.accs[j], c)
		}
	}
	rows := make([][]sqlValue, 0, len(order))
	for _, g := range order {
		row := make([]sqlValue, len(st.items))
		for j := range st.items {
			row[j] = st.items[j].result(&g.accs[j], g.key)
		}
		rows = append(rows, row)
	}
	if len(st.orderBy) > 0 {
		slices.SortStableFunc(rows, func(a, b []sqlValue) int {
			for _, o := range st.orderBy {
				n, ok := compareValues(a[o.col], b[o.col])
				if !ok {
					// nulls last
					n = cmp.Compare(boolInt(a[o.col].null), boolInt(b[o.col].null))
				} else if o.desc {
					n = -n
				}
				if n != 0 {
					return n
				}
			}
			return 0
		})
	}
	if st.offset >= len(rows) {
		return nil
	}
	rows = rows[st.offset:]
	return rows[:min(len(rows), st.limit)]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// jsonCell encodes a cell as AnalysisRecords carries it: numbers as JSON
// numbers (bigint without a fraction), text as strings, null as null.
func jsonCell(v sqlValue, typ string) string {
	switch {
	case v.null:
		return "null"
	case v.isNum && typ == "bigint" && v.num == math.Trunc(v.num) && math.Abs(v.num) < 1<<53:
		return strconv.FormatInt(int64(v.num), 10)
	case v.isNum:
		return strconv.FormatFloat(v.num, 'g', -1, 64)
	}
	b, _ := json.Marshal(v.str) // a string always encodes
	return string(b)
}
