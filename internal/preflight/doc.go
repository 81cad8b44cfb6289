// Package preflight runs the checks of `mudscf check` and prints them as
// one table, a row per check as it finishes: PASS or FAIL, the check's
// name, and what it found or why it failed.
//
// A check is anything with a name that runs and gives a Result: the offline
// checks of a configuration file are rows, and so are the live checks
// against an account (credentials, a function, a topic's index, a query
// form), which are added by building more of them from a valid
// configuration.
package preflight
