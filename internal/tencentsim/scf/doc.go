// Package scf answers the Serverless Cloud Function actions mudscf reads,
// API version 2018-04-16: GetFunctionLogs, GetFunction, ListFunctions and
// GetRequestStatus, over the simulated functions and their executions
// (package invocations).
//
// Each action parses and checks its own parameters, in the order and with
// the codes Tencent's error tables list (InvalidParameterValue.Order,
// LimitExceeded.Offset, ResourceNotFound.Function, ...), and answers in
// this package's own wire types, field for field the official SDKs'
// models. They are deliberately not mudscf's client types: a type shared
// by both ends of the wire would make a misspelt field agree with itself.
//
// What comes before an action (signatures, the gateway's checks, the
// region, faults and rate limits) is the simulator's server's and
// package tcapi's; this package starts at an authenticated tcapi.Call.
package scf
