// Package upstream is mudscf's one way of calling Tencent Cloud. Every call
// of every API goes through the same chain, Caller.Call:
//
//	breaker (is the upstream healthy?) → budgets (budget: a slot of each
//	limit the API has — a CLS topic's concurrent queries, then the
//	account's calls per second) → the call (the official SDK) → one
//	classification (Classify)
//
// An API is a value (GetFunctionLogs, GetRequestStatus, GetFunction,
// SearchLog) carrying Tencent's documented limits; its wire types and their
// translation live in its adapter (translate/scf, translate/cls), and the
// chain carries its answer undecoded. Accounts holds what projects on one
// account share: its budgets, its breakers (one per region) and its SDK
// clients.
//
// The client is the official Tencent Cloud Go SDK, which signs
// (TC3-HMAC-SHA256), resolves credentials and sends. mudscf turns off
// everything in it that would act behind the caller's back: rate-limit
// retries (they sleep past the caller's deadline and spend the budget),
// network retries, the region breaker (when open it silently sends the
// call to another region) and debug output (it prints the signed
// Authorization header).
//
// Tencent's error codes are read in one place (ruleFor), into one small
// vocabulary of Outcomes; the breaker, the budgets' pauses (each budget
// pauses on the outcome that names its limit: RateLimited for an account's
// rate, TopicBusy for a topic's concurrency), the metrics and the HTTP
// edge's status codes all switch on it.
package upstream
