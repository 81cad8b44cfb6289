// Package upstream is mudscf's side of the conversation with Tencent
// Cloud: the LogSource interface the HTTP edge depends on, the sources
// behind it, and the chain every call goes through —
//
//	source → breaker (is the upstream healthy?) → budget (upstream/budget:
//	a slot within Tencent's limit) → Client (the official SDK's call)
//
// Client is built on the official Tencent Cloud Go SDK, which signs
// (TC3-HMAC-SHA256), resolves credentials and sends. mudscf turns off
// everything in it that would act behind the caller's back: rate-limit
// retries (they sleep past the caller's deadline and spend the budget),
// network retries, the region breaker (when open it silently sends the
// call to another region) and debug output (it prints the signed
// Authorization header).
//
// Every error a call can end in is classified once, by Classify, into one
// small vocabulary of Outcomes; the breaker, the budget's pause, the
// metrics and the HTTP edge's status codes all switch on it.
package upstream
