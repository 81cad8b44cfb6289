package analysis

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/invocations"
)

// Value is a cell: null, a bigint, a double, a varchar, a boolean or a
// timestamp (ms).
type Value struct {
	kind byte // 0 null, 'i', 'f', 's', 'b', 't'
	i    int64
	f    float64
	s    string
}

var sqlNull = Value{}

// BigintValue, DoubleValue and VarcharValue are cells of those types.
func BigintValue(i int64) Value   { return Value{kind: 'i', i: i} }
func DoubleValue(f float64) Value { return Value{kind: 'f', f: f} }
func VarcharValue(s string) Value { return Value{kind: 's', s: s} }
func boolValue(b bool) Value {
	if b {
		return Value{kind: 'b', i: 1}
	}
	return Value{kind: 'b'}
}

func (v Value) num() float64 {
	if v.kind == 'f' {
		return v.f
	}
	return float64(v.i)
}

func (v Value) truth() bool { return v.kind == 'b' && v.i == 1 }

// compare orders two non-null values of comparable types.
func compare(a, b Value) int {
	switch {
	case a.kind == 's':
		return strings.Compare(a.s, b.s)
	case a.kind == 'f' || b.kind == 'f':
		return cmp.Compare(a.num(), b.num())
	}
	return cmp.Compare(a.i, b.i)
}

// rowCtx is what an expression reads: the columns of the source row and,
// in an aggregate query, the group's aggregates.
type rowCtx interface {
	col(i int) Value
	agg(i int) Value
}

// sqlExpr is a resolved, typed expression.
type sqlExpr struct {
	kind byte // 'c' column, 'l' literal, 'a' aggregate, 'o' operator, 'k' cast
	col  int
	lit  Value
	agg  int
	op   string
	args []*sqlExpr
	not  bool
	typ  Type
	like *likeMatcher
}

func (e *sqlExpr) eval(r rowCtx) Value {
	switch e.kind {
	case 'c':
		return r.col(e.col)
	case 'l':
		return e.lit
	case 'a':
		return r.agg(e.agg)
	case 'k':
		return castValue(e.args[0].eval(r), e.typ)
	}
	switch e.op {
	case "and", "or":
		// SQL's three-valued logic, with unknown as null.
		l := e.args[0].eval(r)
		if e.op == "and" && l.kind == 'b' && !l.truth() || e.op == "or" && l.truth() {
			return l
		}
		rv := e.args[1].eval(r)
		switch {
		case e.op == "and" && rv.kind == 'b' && !rv.truth(), e.op == "or" && rv.truth():
			return rv
		case l.kind == 0 || rv.kind == 0:
			return sqlNull
		}
		return rv
	case "not":
		v := e.args[0].eval(r)
		if v.kind == 0 {
			return v
		}
		return boolValue(!v.truth())
	case "isnull":
		return boolValue((e.args[0].eval(r).kind == 0) != e.not)
	}
	var buf [3]Value
	vals := buf[:0]
	if len(e.args) > len(buf) {
		vals = make([]Value, 0, len(e.args))
	}
	vals = vals[:len(e.args)]
	for i, a := range e.args {
		if vals[i] = a.eval(r); vals[i].kind == 0 {
			return sqlNull
		}
	}
	l := vals[0]
	switch e.op {
	case "like":
		return boolValue(e.like.match(l.s) != e.not)
	case "in":
		found := slices.ContainsFunc(vals[1:], func(v Value) bool { return compare(l, v) == 0 })
		return boolValue(found != e.not)
	case "between":
		return boolValue((compare(l, vals[1]) >= 0 && compare(l, vals[2]) <= 0) != e.not)
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		c := compare(l, vals[1])
		return boolValue(map[string]bool{"=": c == 0, "<>": c != 0, "!=": c != 0, "<": c < 0, "<=": c <= 0,
			">": c > 0, ">=": c >= 0}[e.op])
	}
	rv := vals[1]
	if e.typ == Bigint {
		switch e.op {
		case "+":
			return BigintValue(l.i + rv.i)
		case "-":
			return BigintValue(l.i - rv.i)
		case "*":
			return BigintValue(l.i * rv.i)
		}
		if rv.i == 0 {
			return sqlNull // Presto fails a division by zero; the simulator answers null
		}
		if e.op == "/" {
			return BigintValue(l.i / rv.i)
		}
		return BigintValue(l.i % rv.i)
	}
	a, b := l.num(), rv.num()
	switch e.op {
	case "+":
		return DoubleValue(a + b)
	case "-":
		return DoubleValue(a - b)
	case "*":
		return DoubleValue(a * b)
	case "/":
		return DoubleValue(a / b)
	}
	return DoubleValue(math.Mod(a, b))
}

// castValue converts v; a value that does not convert is null.
func castValue(v Value, to Type) Value {
	if v.kind == 0 {
		return v
	}
	switch to {
	case Varchar:
		switch v.kind {
		case 's':
			return v
		case 'f':
			return Value{kind: 's', s: strconv.FormatFloat(v.f, 'g', -1, 64)}
		case 't':
			return Value{kind: 's', s: formatTimestamp(v.i)}
		}
		return Value{kind: 's', s: strconv.FormatInt(v.i, 10)}
	case Bigint:
		switch v.kind {
		case 's':
			n, err := strconv.ParseInt(strings.TrimSpace(v.s), 10, 64)
			if err != nil {
				return sqlNull
			}
			return BigintValue(n)
		case 'f':
			return BigintValue(int64(math.Round(v.f)))
		}
		return BigintValue(v.i)
	case Double:
		if v.kind == 's' {
			f, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
			if err != nil {
				return sqlNull
			}
			return DoubleValue(f)
		}
		return DoubleValue(v.num())
	case Timestamp:
		if v.kind == 'i' || v.kind == 't' {
			return Value{kind: 't', i: v.i}
		}
	}
	return sqlNull
}

// shanghai is the zone timestamps are shown in: CLS's region's.
var shanghai = time.FixedZone("CST", 8*3600)

func formatTimestamp(ms int64) string {
	return time.UnixMilli(ms).In(shanghai).Format("2006-01-02 15:04:05.000")
}

// aggregate is one aggregate call of a query.
type aggregate struct {
	fn  string
	arg *sqlExpr // nil for count(*)
	typ Type
}

type accumulator struct {
	n    int64
	sumI int64
	sumF float64
	best Value
}

func (a *aggregate) add(acc *accumulator, r rowCtx) {
	if a.arg == nil {
		acc.n++
		return
	}
	v := a.arg.eval(r)
	switch {
	case a.fn == "count_if":
		if v.truth() {
			acc.n++
		}
		return
	case v.kind == 0:
		return
	}
	acc.n++
	switch a.fn {
	case "sum", "avg":
		acc.sumI += v.i
		acc.sumF += v.num()
	case "max", "min":
		if acc.best.kind == 0 || (a.fn == "max") == (compare(v, acc.best) > 0) && compare(v, acc.best) != 0 {
			acc.best = v
		}
	}
}

func (a *aggregate) result(acc *accumulator) Value {
	switch a.fn {
	case "count", "count_if":
		return BigintValue(acc.n)
	case "sum":
		if acc.n == 0 {
			return sqlNull
		}
		if a.typ == Bigint {
			return BigintValue(acc.sumI)
		}
		return DoubleValue(acc.sumF)
	case "avg":
		if acc.n == 0 {
			return sqlNull // AVG of no rows is null (SQL-92)
		}
		return DoubleValue(acc.sumF / float64(acc.n))
	}
	return acc.best
}

// sqlPlan is a resolved select, ready to run over its source's rows.
type sqlPlan struct {
	src       []column
	from      *sqlPlan
	where     *sqlExpr
	cols      []column
	items     []*sqlExpr
	aggregate bool
	aggs      []aggregate
	groupBy   []*sqlExpr
	having    *sqlExpr
	orderBy   []*sqlExpr
	desc      []bool
	// kept are the source columns an aggregate query reads outside its
	// aggregates (grouped ones), kept from a group's first row.
	kept          []int
	offset, limit int
}

// maxGroupRows bounds what a query holds: groups, or a subquery's rows.
// Past it the query fails as Tencent's does when it runs out of memory
// (LimitExceeded.SearchResources, "检索内存超限").
const maxGroupRows = 1 << 20

type memoryError struct{}

func (memoryError) Error() string { return "the query holds too many rows" }

type staticRow []Value

func (r staticRow) col(i int) Value { return r[i] }
func (r staticRow) agg(int) Value   { return sqlNull }

type groupRow struct {
	vals []Value // by source column (only kept ones are set)
	res  []Value
}

func (g *groupRow) col(i int) Value { return g.vals[i] }
func (g *groupRow) agg(i int) Value { return g.res[i] }

type group struct {
	row  groupRow
	accs []accumulator
}

// run executes the plan over the rows feed yields; feed stops when yield
// returns false.
func (pl *sqlPlan) run(feed func(yield func(rowCtx) bool)) ([][]Value, error) {
	if pl.from != nil {
		inner, err := pl.from.run(feed)
		if err != nil {
			return nil, err
		}
		feed = func(yield func(rowCtx) bool) {
			for _, r := range inner {
				if !yield(staticRow(r)) {
					return
				}
			}
		}
	}
	if pl.aggregate {
		return pl.runAggregate(feed)
	}
	return pl.runPlain(feed)
}

// orderedRow is an output row with its sort keys.
type orderedRow struct {
	out, keys []Value
	seq       int
}

func (pl *sqlPlan) cmpRows(a, b *orderedRow) int {
	for i, d := range pl.desc {
		x, y := a.keys[i], b.keys[i]
		var c int
		switch {
		case x.kind == 0 || y.kind == 0:
			c = cmp.Compare(boolInt(x.kind == 0), boolInt(y.kind == 0)) // nulls last, both ways
		case d:
			c = compare(y, x)
		default:
			c = compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(a.seq, b.seq)
}

// page sorts rows and keeps the plan's offset and limit.
func (pl *sqlPlan) page(rows []orderedRow) [][]Value {
	slices.SortFunc(rows, func(a, b orderedRow) int { return pl.cmpRows(&a, &b) })
	out := [][]Value{}
	for i := pl.offset; i < len(rows) && i < pl.offset+pl.limit; i++ {
		out = append(out, rows[i].out)
	}
	return out
}

func (pl *sqlPlan) keep() int { return pl.offset + pl.limit }

func (pl *sqlPlan) runPlain(feed func(yield func(rowCtx) bool)) ([][]Value, error) {
	var kept []orderedRow
	top := &invocations.TopK[orderedRow]{K: pl.keep(), Cmp: pl.cmpRows}
	seq := 0
	feed(func(r rowCtx) bool {
		if pl.where != nil && !pl.where.eval(r).truth() {
			return true
		}
		row := orderedRow{out: make([]Value, len(pl.items)), seq: seq}
		seq++
		for i, e := range pl.items {
			row.out[i] = e.eval(r)
		}
		for _, e := range pl.orderBy {
			row.keys = append(row.keys, e.eval(r))
		}
		if len(pl.orderBy) == 0 {
			// In scan order: the first rows will do.
			kept = append(kept, row)
			return len(kept) < pl.keep()
		}
		top.Add(row)
		return true
	})
	if len(pl.orderBy) > 0 {
		kept = top.Sorted()
	}
	return pl.page(kept), nil
}

func (pl *sqlPlan) runAggregate(feed func(yield func(rowCtx) bool)) ([][]Value, error) {
	groups := map[string]*group{}
	var order []*group
	newGroup := func(r rowCtx) *group {
		g := &group{row: groupRow{vals: make([]Value, len(pl.src))}, accs: make([]accumulator, len(pl.aggs))}
		for _, c := range pl.kept {
			g.row.vals[c] = r.col(c)
		}
		order = append(order, g)
		return g
	}
	if len(pl.groupBy) == 0 {
		groups[""] = nil // one group, even over no rows
	}
	var key []byte
	var err error
	feed(func(r rowCtx) bool {
		if pl.where != nil && !pl.where.eval(r).truth() {
			return true
		}
		key = key[:0]
		for _, e := range pl.groupBy {
			v := e.eval(r)
			key = append(key, v.kind)
			key = strconv.AppendInt(key, v.i, 36)
			key = strconv.AppendFloat(key, v.f, 'g', -1, 64)
			key = append(key, 0)
			key = append(key, v.s...)
			key = append(key, 0)
		}
		g := groups[string(key)]
		if g == nil {
			if len(groups) >= maxGroupRows {
				err = memoryError{}
				return false
			}
			g = newGroup(r)
			groups[string(key)] = g
		}
		for i := range pl.aggs {
			pl.aggs[i].add(&g.accs[i], r)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(pl.groupBy) == 0 && len(order) == 0 {
		newGroup(staticRow(make([]Value, len(pl.src))))
	}
	var rows []orderedRow
	for i, g := range order {
		g.row.res = make([]Value, len(pl.aggs))
		for j := range pl.aggs {
			g.row.res[j] = pl.aggs[j].result(&g.accs[j])
		}
		if pl.having != nil && !pl.having.eval(&g.row).truth() {
			continue
		}
		row := orderedRow{out: make([]Value, len(pl.items)), seq: i}
		for j, e := range pl.items {
			row.out[j] = e.eval(&g.row)
		}
		for _, e := range pl.orderBy {
			row.keys = append(row.keys, e.eval(&g.row))
		}
		rows = append(rows, row)
	}
	return pl.page(rows), nil
}

// jsonCell encodes a cell as AnalysisRecords carries it (Tencent's reader,
// the Grafana plugin, type-asserts numbers as JSON numbers): bigint as an
// integer, double as a number with a fraction, text as a string, null as
// null.
func jsonCell(v Value) string {
	switch v.kind {
	case 0:
		return "null"
	case 'i':
		return strconv.FormatInt(v.i, 10)
	case 'f':
		if math.IsInf(v.f, 0) || math.IsNaN(v.f) {
			return "null"
		}
		s := strconv.FormatFloat(v.f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	case 'b':
		return strconv.FormatBool(v.truth())
	case 't':
		return strconv.Quote(formatTimestamp(v.i))
	}
	return string(AppendJSONString(nil, []byte(v.s)))
}

// textCell is a cell as the old format (AnalysisResults) carries it:
// every value a string.
func textCell(v Value) string {
	switch v.kind {
	case 0:
		return "null"
	case 's':
		return v.s
	case 't':
		return formatTimestamp(v.i)
	case 'b':
		return strconv.FormatBool(v.truth())
	}
	return strings.Trim(jsonCell(v), `"`)
}

// AppendJSONString appends s as a JSON string (Go's strconv quoting is
// not JSON's: it writes \x00 and \u escapes JSON does not know).
func AppendJSONString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range string(s) {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', byte(c))
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, string(c)...)
		}
	}
	return append(b, '"')
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
