// Package analysis parses, plans and runs the analysis statement of a CLS
// SearchLog call (the SQL after "|"), in the SQL Tencent's pages document
// and no more: sql.go parses it, sqlplan.go resolves names, types and
// grouping with Tencent's error texts, sqlrun.go runs it over the rows
// its caller feeds and renders the cells as AnalysisRecords and
// AnalysisResults carry them. It knows nothing of topics or records: the
// source's columns and rows are its caller's (package cls).
package analysis
