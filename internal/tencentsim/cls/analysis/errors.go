package analysis

import "fmt"

// A statement's errors, each one of Tencent's codes: SyntaxError is
// FailedOperation.SyntaxError, a statement outside the grammar;
// QueryError is FailedOperation.QueryError, one that parses but cannot
// run (ERR-44224: "QueryError [...]"). The search condition's parsers
// (package cls) answer with them too.
type (
	SyntaxError struct{ Msg string }
	QueryError  struct{ Msg string }
)

func (e *SyntaxError) Error() string { return e.Msg }
func (e *QueryError) Error() string  { return e.Msg }

func syntaxErrorf(format string, a ...any) error { return &SyntaxError{fmt.Sprintf(format, a...)} }
func queryErrorf(format string, a ...any) error  { return &QueryError{fmt.Sprintf(format, a...)} }
