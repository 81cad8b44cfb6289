package tencentsim

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim/scf"
)

// Truth is what the simulator observed of its callers, so tests can check
// a client's behaviour (rate limiting, retries) from the server side.
//
// The top-level accepted/rejected counts and the sliding maximum are those
// of GetFunctionLogs (and the pass-through route, which shares its budget),
// as they were before the simulator served other actions; APIs has the same
// numbers for every rate-limited action. Auth failures and faults are
// counted for every action.
type Truth struct {
	// Calls has one entry per unix second and SecretId, for the last
	// 10 minutes only.
	Calls []SecondCount `json:"calls"`
	// MaxCallsInAnySlidingSecond is, per SecretId, the largest number of
	// accepted GetFunctionLogs calls ever seen in a sliding 1 s window.
	MaxCallsInAnySlidingSecond map[string]int `json:"maxCallsInAnySlidingSecond"`
	// Totals per SecretId; "" collects calls whose SecretId is unknown or
	// unreadable.
	TotalAccepted     map[string]int64 `json:"totalAccepted"`
	TotalRejected     map[string]int64 `json:"totalRejected"`
	TotalAuthFailures map[string]int64 `json:"totalAuthFailures"`
	// TotalFaulted counts calls answered by a fault instead of the API.
	TotalFaulted map[string]int64 `json:"totalFaulted"`
	// APIs has, per action name, what its own rate limit saw.
	APIs map[string]APITruth `json:"apis"`
	// SearchLog is CLS's SearchLog: both of its limits as the simulator
	// saw them (its rate limit is also in APIs).
	SearchLog SearchLogTruth `json:"searchLog"`
}

// APITruth is what one action's rate limit saw, per SecretId.
type APITruth struct {
	// Limit is the number of calls the action admits in any sliding second.
	Limit                      int              `json:"limit"`
	MaxCallsInAnySlidingSecond map[string]int   `json:"maxCallsInAnySlidingSecond"`
	TotalAccepted              map[string]int64 `json:"totalAccepted"`
	TotalRejected              map[string]int64 `json:"totalRejected"`
}

// SecondCount counts the calls of one SecretId in one unix second.
type SecondCount struct {
	Unix        int64  `json:"unix"`
	SecretID    string `json:"secretId"`
	Accepted    int    `json:"accepted"`    // passed GetFunctionLogs's rate limit
	RateLimited int    `json:"rateLimited"` // GetFunctionLogs answered RequestLimitExceeded
	AuthFailed  int    `json:"authFailed"`  // answered AuthFailure.*
	Faulted     int    `json:"faulted"`     // answered by a fault switch
}

const (
	truthWindowSeconds = 600
	// maxTimestamps bounds the accepted-call history per SecretId even if
	// a limit is configured absurdly high.
	maxTimestamps = 4096
)

type outcome int

const (
	outAccepted outcome = iota
	outRateLimited
	outAuthFailed
	outFaulted
)

type secondKey struct {
	unix     int64
	secretID string
}

// ledger is the limiter and the Truth bookkeeping. Both live under one
// mutex, and the clock is read under it too: a call is counted at the
// instant it is admitted, so admissions are in time order and no later
// admission can land in a window that was already full (issue 15 item 16:
// reading the time before the body and the signature let a slow call be
// admitted with an early timestamp into a window that had filled since).
type ledger struct {
	mu        sync.Mutex
	now       func() time.Time
	seconds   map[secondKey]*SecondCount
	lastPrune int64
	totals    [4]map[string]int64
	apis      map[string]*apiLimit
}

// apiLimit is one action's sliding-second limit.
type apiLimit struct {
	limit int
	// accepted holds, per SecretId, sorted timestamps (unix ns) of recent
	// accepted calls: everything within 2 s of the newest one.
	accepted   map[string][]int64
	maxSliding map[string]int
	totals     [2]map[string]int64 // outAccepted, outRateLimited
}

// newLedger limits each action in limits to its number of calls per
// sliding second and per SecretId.
func newLedger(now func() time.Time, limits map[string]int) *ledger {
	l := &ledger{
		now:     now,
		seconds: map[secondKey]*SecondCount{},
		apis:    map[string]*apiLimit{},
	}
	for i := range l.totals {
		l.totals[i] = map[string]int64{}
	}
	for api, n := range limits {
		l.apis[api] = &apiLimit{limit: n, accepted: map[string][]int64{}, maxSliding: map[string]int{},
			totals: [2]map[string]int64{{}, {}}}
	}
	return l
}

// admit applies api's sliding-window rate limit now and records the
// outcome. A call is accepted iff fewer than limit accepted calls fell in
// (now-1s, now]; rejected calls do not use up the window. An action
// without a configured limit is always admitted.
func (l *ledger) admit(api, secretID string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim := l.apis[api]
	if lim == nil {
		return true
	}
	ts := lim.accepted[secretID]
	t := now.UnixNano()
	if n := len(ts); n > 0 && t < ts[n-1] {
		// A wall clock stepped back: count the call at the newest
		// instant already counted, so every window stays checked.
		t = ts[n-1]
	}
	if inWindow(ts, t-int64(time.Second), t) >= lim.limit {
		lim.totals[1][secretID]++
		if api == scf.ActionGetFunctionLogs {
			l.recordLocked(secretID, now, outRateLimited)
		}
		return false
	}
	ts = append(ts, t)
	if n := inWindow(ts, t-int64(time.Second), t); n > lim.maxSliding[secretID] {
		lim.maxSliding[secretID] = n
	}
	cut := 0
	for cut < len(ts) && ts[cut] <= t-2*int64(time.Second) {
		cut++
	}
	if len(ts)-cut > maxTimestamps {
		cut = len(ts) - maxTimestamps
	}
	lim.accepted[secretID] = slices.Clip(ts[cut:])
	lim.totals[0][secretID]++
	if api == scf.ActionGetFunctionLogs {
		l.recordLocked(secretID, now, outAccepted)
	}
	return true
}

// inWindow counts timestamps in (from, to].
func inWindow(ts []int64, from, to int64) int {
	return upperBound(ts, to) - upperBound(ts, from)
}

func upperBound(ts []int64, v int64) int {
	i, _ := slices.BinarySearchFunc(ts, v, func(e, t int64) int {
		if e <= t {
			return -1
		}
		return 1
	})
	return i
}

// limit is api's number of calls per sliding second.
func (l *ledger) limit(api string) int {
	if lim := l.apis[api]; lim != nil {
		return lim.limit
	}
	return 0
}

// record counts an auth failure or a fault now.
func (l *ledger) record(secretID string, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordLocked(secretID, l.now(), o)
}

func (l *ledger) recordLocked(secretID string, now time.Time, o outcome) {
	sec := now.Unix()
	if sec > l.lastPrune {
		for k := range l.seconds {
			if k.unix <= sec-truthWindowSeconds {
				delete(l.seconds, k)
			}
		}
		l.lastPrune = sec
	}
	k := secondKey{sec, secretID}
	c := l.seconds[k]
	if c == nil {
		c = &SecondCount{Unix: sec, SecretID: secretID}
		l.seconds[k] = c
	}
	switch o {
	case outAccepted:
		c.Accepted++
	case outRateLimited:
		c.RateLimited++
	case outAuthFailed:
		c.AuthFailed++
	case outFaulted:
		c.Faulted++
	}
	l.totals[o][secretID]++
}

func (l *ledger) truth() Truth {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cutoff := now.Unix() - truthWindowSeconds
	calls := make([]SecondCount, 0, len(l.seconds))
	for _, c := range l.seconds {
		if c.Unix > cutoff {
			calls = append(calls, *c)
		}
	}
	slices.SortFunc(calls, func(a, b SecondCount) int {
		if c := cmp.Compare(a.Unix, b.Unix); c != 0 {
			return c
		}
		return cmp.Compare(a.SecretID, b.SecretID)
	})
	apis := make(map[string]APITruth, len(l.apis))
	for name, lim := range l.apis {
		apis[name] = APITruth{
			Limit:                      lim.limit,
			MaxCallsInAnySlidingSecond: maps.Clone(lim.maxSliding),
			TotalAccepted:              maps.Clone(lim.totals[0]),
			TotalRejected:              maps.Clone(lim.totals[1]),
		}
	}
	logs := apis[scf.ActionGetFunctionLogs]
	return Truth{
		Calls:                      calls,
		MaxCallsInAnySlidingSecond: logs.MaxCallsInAnySlidingSecond,
		TotalAccepted:              logs.TotalAccepted,
		TotalRejected:              logs.TotalRejected,
		TotalAuthFailures:          maps.Clone(l.totals[outAuthFailed]),
		TotalFaulted:               maps.Clone(l.totals[outFaulted]),
		APIs:                       apis,
	}
}
