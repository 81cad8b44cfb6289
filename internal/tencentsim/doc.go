// Package tencentsim simulates Tencent Cloud API 3.0 for what mudscf
// reads: Serverless Cloud Function (SCF, version 2018-04-16)
// GetFunctionLogs, GetFunction, ListFunctions and GetRequestStatus, and
// Cloud Log Service (CLS, version 2020-10-16, TC3 service "cls")
// SearchLog and DescribeIndex on the topics SCF delivers to (by default one
// per region, as SCF's default delivery does).
//
// It exists so that demos, tests and benchmarks of mudscf run without a
// Tencent Cloud account, without network access and without paying for or
// waiting on real executions, while still exercising everything a real
// upstream would: TC3-HMAC-SHA256 and the older HmacSHA1/HmacSHA256
// (signature v1) signatures checked as Tencent checks them (the official Go
// and Node.js SDKs talk to it unmodified; tests run both), Tencent's order
// of authentication and parameter errors, messages in the language
// X-TC-Language asks for, each action's documented limit per sliding
// second (GetFunctionLogs 5, GetRequestStatus 20, GetFunction and
// ListFunctions 100, DescribeIndex 20; SearchLog 10,000 per SecretId and 15
// concurrent queries per topic, some of which other users may hold, and a
// latency model per query), Offset+Limit <= 10,000 and the 24 h window. Passing
// against the simulator should mean passing against Tencent; where its
// behaviour is a guess rather than documented, the code says so.
//
// This package is the simulator as users run it: the configuration (New,
// Config, LoadConfig), the HTTP server that authenticates a call and
// dispatches it by service and action, the per-action rate limits, the
// fault switches and the /_sim/ routes. The rest lives below it, each
// part with one job and pointing only down:
//
//   - scf and cls answer their service's actions, in wire types of their
//     own (not mudscf's client types, so a misspelt field cannot agree
//     with itself across the wire);
//   - invocations holds the functions and their synthetic executions,
//     which both services render and the ground truth lists;
//   - tcapi is the API 3.0 plumbing both share: signatures, request
//     decoding, the response and error envelope, X-TC-Language.
//
// Executions are synthetic but deterministic: two simulators with the same
// Config answer identically, and an execution only becomes visible once it
// has finished, as on the real service.
//
// Beyond the API, the handler serves /_sim/ endpoints (not Tencent's):
// ground truth of executions and of the calls received (so a client's rate
// limiting can be verified from the server side) and fault switches
// (latency, HTTP errors, malformed JSON, connection resets, error codes)
// that can be flipped while the simulator runs, and, when Config.Passthrough
// is set, an unsigned pass-through page route under the same rate limit, a
// benchmark aid for putting a generic HTTP cache in front of the simulator.
package tencentsim
