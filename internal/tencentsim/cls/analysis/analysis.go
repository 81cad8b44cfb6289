package analysis

import "bytes"

// Statement is a planned analysis statement.
type Statement struct{ pl *sqlPlan }

// Column is a column of the source or of the result.
type Column struct {
	Name string
	Type Type
}

// Parse parses and plans an analysis statement over "log", a source of
// the columns log; statistics says whether the source's index has them
// (SqlFlag), without which SQL cannot read a column.
func Parse(s string, log []Column, statistics bool) (*Statement, error) {
	st, err := parseSQL(s)
	if err != nil {
		return nil, err
	}
	src := make([]column, len(log))
	for i, c := range log {
		src[i] = column{c.Name, c.Type}
	}
	pl, err := planSQL(st, src, statistics)
	if err != nil {
		return nil, err
	}
	return &Statement{pl}, nil
}

// Columns are the statement's result columns, in order.
func (s *Statement) Columns() []Column {
	out := make([]Column, len(s.pl.cols))
	for i, c := range s.pl.cols {
		out[i] = Column{c.name, c.typ}
	}
	return out
}

// Row is a row of the source: its cell in each column of log.
type Row interface {
	Col(i int) Value
}

// sourceRow is a Row as the runner reads it; a source row has no
// aggregates.
type sourceRow struct{ Row }

func (r *sourceRow) col(i int) Value { return r.Col(i) }
func (*sourceRow) agg(int) Value     { return sqlNull }

// Run runs the statement over the rows feed yields; feed stops when
// yield returns false. A row is read only while yield runs. An error is
// the statement running out of memory.
func (s *Statement) Run(feed func(yield func(Row) bool)) (*Result, error) {
	src := &sourceRow{}
	rows, err := s.pl.run(func(yield func(rowCtx) bool) {
		feed(func(r Row) bool {
			src.Row = r
			return yield(src)
		})
	})
	if err != nil {
		return nil, err
	}
	return &Result{cols: s.pl.cols, rows: rows}, nil
}

// Result is the rows of a statement.
type Result struct {
	cols []column
	rows [][]Value
}

// Records are the rows as AnalysisRecords carries them (the new format):
// each a JSON object of its columns, each cell typed by its column.
func (r *Result) Records() []string {
	out := []string{}
	for _, row := range r.rows {
		var b bytes.Buffer
		b.WriteByte('{')
		for j, c := range r.cols {
			if j > 0 {
				b.WriteByte(',')
			}
			b.Write(AppendJSONString(nil, []byte(c.name)))
			b.WriteByte(':')
			b.WriteString(jsonCell(row[j]))
		}
		b.WriteByte('}')
		out = append(out, b.String())
	}
	return out
}

// Cells are the rows as AnalysisResults carries them (the old format):
// every cell a string.
func (r *Result) Cells() [][]string {
	out := make([][]string, 0, len(r.rows))
	for _, row := range r.rows {
		cells := make([]string, len(r.cols))
		for j := range r.cols {
			cells[j] = textCell(row[j])
		}
		out = append(out, cells)
	}
	return out
}
