// Package tencentsim simulates Tencent Cloud API 3.0 for the Serverless Cloud
// Function (SCF) actions mudscf reads, version 2018-04-16: GetFunctionLogs,
// GetFunction, ListFunctions and GetRequestStatus.
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
// ListFunctions 100), Offset+Limit <= 10,000 and the 24 h window. Passing against
// the simulator should mean passing against Tencent; where its behaviour is
// a guess rather than documented, the code says so.
//
// Every function has the CLS topic and logset GetFunction reports
// (Function.ClsTopicID and ClsLogsetID, by default DefaultClsTopicID and
// DefaultClsLogsetID), and the simulator also answers CLS (Cloud Log
// Service, version 2020-10-16, TC3 service "cls") SearchLog on those
// topics from the same executions, as the log records SCF delivers to CLS:
// CQL searches, Context paging, the SQL subset of stats queries, Tencent's
// error codes, a rate limit per SecretId and a concurrency limit per topic
// (Config.CLS, "cls" in the YAML). Both official SDKs drive it in tests.
//
// Executions are synthetic but deterministic: execution i of a function is
// a pure function of (Seed, region, namespace, name, i), so nothing is
// stored, any window is computed on demand, and two simulators with the
// same Config answer identically. An execution only becomes visible once it
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
