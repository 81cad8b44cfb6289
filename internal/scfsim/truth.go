package scfsim

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"
)

// Truth is what the simulator observed of its callers, so tests can check
// a client's behaviour (rate limiting, retries) from the server side.
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
	// SearchLog is CLS's SearchLog: its limits as the simulator saw them.
	SearchLog SearchLogTruth `json:"searchLog"`
}

// SecondCount counts the calls of one SecretId in one unix second.
type SecondCount struct {
	Unix        int64  `json:"unix"`
	SecretID    string `json:"secretId"`
	Accepted    int    `json:"accepted"`    // passed the rate limit
	RateLimited int    `json:"rateLimited"` // answered RequestLimitExceeded
	AuthFailed  int    `json:"authFailed"`  // answered AuthFailure.*
	Faulted     int    `json:"faulted"`     // answered by a fault switch
}

const (
	truthWindowSeconds = 600
	// maxTimestamps bounds the accepted-call history per SecretId even if
	// RateLimit is configured absurdly high.
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
// mutex because the limiter decision and its record must be atomic.
type ledger struct {
	mu        sync.Mutex
	limit     int
	seconds   map[secondKey]*SecondCount
	lastPrune int64
	// accepted holds, per SecretId, sorted timestamps (unix ns) of recent
	// accepted calls: everything within 2 s of the newest one.
	accepted   map[string][]int64
	maxSliding map[string]int
	totals     [4]map[string]int64
}

func newLedger(limit int) *ledger {
	l := &ledger{
		limit:      limit,
		seconds:    map[secondKey]*SecondCount{},
		accepted:   map[string][]int64{},
		maxSliding: map[string]int{},
	}
	for i := range l.totals {
		l.totals[i] = map[string]int64{}
	}
	return l
}

// admit applies the sliding-window rate limit at now and records the
// outcome. A call is accepted iff fewer than limit accepted calls fell in
// (now-1s, now]; rejected calls do not use up the window.
func (l *ledger) admit(secretID string, now time.Time) bool {
	t := now.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.accepted[secretID]
	if inWindow(ts, t-int64(time.Second), t) >= l.limit {
		l.recordLocked(secretID, now, outRateLimited)
		return false
	}
	pos := upperBound(ts, t)
	ts = slices.Insert(ts, pos, t)
	// The windows that changed are those containing t: ending at an
	// accepted call in [t, t+1s).
	for j := pos; j < len(ts) && ts[j] < t+int64(time.Second); j++ {
		if n := inWindow(ts, ts[j]-int64(time.Second), ts[j]); n > l.maxSliding[secretID] {
			l.maxSliding[secretID] = n
		}
	}
	newest := ts[len(ts)-1]
	cut := 0
	for cut < len(ts) && ts[cut] <= newest-2*int64(time.Second) {
		cut++
	}
	if len(ts)-cut > maxTimestamps {
		cut = len(ts) - maxTimestamps
	}
	l.accepted[secretID] = slices.Clip(ts[cut:])
	l.recordLocked(secretID, now, outAccepted)
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

func (l *ledger) record(secretID string, now time.Time, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordLocked(secretID, now, o)
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

func (l *ledger) truth(now time.Time) Truth {
	l.mu.Lock()
	defer l.mu.Unlock()
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
	return Truth{
		Calls:                      calls,
		MaxCallsInAnySlidingSecond: maps.Clone(l.maxSliding),
		TotalAccepted:              maps.Clone(l.totals[outAccepted]),
		TotalRejected:              maps.Clone(l.totals[outRateLimited]),
		TotalAuthFailures:          maps.Clone(l.totals[outAuthFailed]),
		TotalFaulted:               maps.Clone(l.totals[outFaulted]),
	}
}
