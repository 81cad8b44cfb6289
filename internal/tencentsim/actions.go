package tencentsim

import (
	"crypto/sha256"
	"net/url"
	"strings"
)

// The SCF actions the simulator serves, all of version 2018-04-16.
const (
	actionGetFunctionLogs  = "GetFunctionLogs"
	actionGetFunction      = "GetFunction"
	actionListFunctions    = "ListFunctions"
	actionGetRequestStatus = "GetRequestStatus"
)

// documentedRateLimits are the per-second limits Tencent's API pages state
// for the actions other than GetFunctionLogs (whose limit is
// Config.RateLimit).
func documentedRateLimits() map[string]int {
	return map[string]int{
		actionGetFunction:      100,
		actionListFunctions:    100,
		actionGetRequestStatus: 20,
	}
}

// action is one API action: how it answers a call that passed
// authentication, the region check and its rate limit.
type action func(s *Simulator, c *apiCall) (any, *apiError)

// scfActions maps each SCF action to its handler. Another service's
// actions (CLS) belong in a table of their own, keyed by their service.
var scfActions = map[string]action{
	actionGetFunctionLogs:  (*Simulator).getFunctionLogs,
	actionGetFunction:      (*Simulator).getFunction,
	actionListFunctions:    (*Simulator).listFunctions,
	actionGetRequestStatus: (*Simulator).getRequestStatus,
}

// apiCall is an authenticated call: its common parameters and where its
// action parameters are.
type apiCall struct {
	reqID    string
	secretID string
	action   string
	region   string
	// Exactly one of json (a TC3 POST body) and form (a TC3 GET query or
	// any signature-v1 call) holds the action parameters; form may also
	// hold common parameters, which action parsers skip.
	json []byte
	form url.Values
}

// derivedUUID is a version-4-shaped UUID that is a pure function of its
// parts, for IDs that must be stable across runs without configuration.
func derivedUUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return formatID(id)
}
