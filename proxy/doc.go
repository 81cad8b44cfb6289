// Package proxy is mudscf's HTTP edge towards Tencent Cloud: the upstream
// client for SCF GetFunctionLogs, built on the official Tencent Cloud Go
// SDK, and the LogSource interface the HTTP handlers depend on.
//
// The SDK does the TC3-HMAC-SHA256 signing, credential resolution and the
// call itself. mudscf turns off everything in it that would act behind the
// caller's back: rate-limit retries (they sleep past the caller's deadline
// and spend the 5 requests/second budget), network retries, the region
// breaker (when open it silently sends the call to another region) and
// debug output (it prints the signed Authorization header).
//
// With a redis block in the configuration, replicas share the budget
// (Budget's sliding-log guarantee, kept by Lua scripts on Redis's clock)
// and a second cache tier behind the local one; without Redis, or while
// it is unreachable, each replica acts alone within its share of the
// account.
package proxy
