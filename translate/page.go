package translate

// Page is one page of executions, in the query's order, with the number
// of executions the query matches over its whole window.
type Page struct {
	Executions []Execution
	Total      int64
}
