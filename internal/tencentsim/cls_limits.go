package tencentsim

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"
)

// Tencent's SearchLog page (cloud.tencent.com/document/api/614/56447,
// intl: document/api/614/42788): besides the API's request rate limit,
// "for a single log topic, the number of concurrent queries cannot exceed
// 15"; "a maximum of 10000 requests can be initiated per second for this
// API". The SDKs name the concurrency error LimitExceeded.LogSearch
// ("并发查询超过限制，单topic并发最大值15") and the rate error is the common
// RequestLimitExceeded.
const (
	defaultSearchLogRate        = 10000
	defaultSearchLogConcurrency = 15
)

// CLSConfig tunes the simulated CLS; zero values mean Tencent's limits.
type CLSConfig struct {
	// RateLimit is the number of SearchLog calls accepted per SecretId in
	// any sliding second (default 10000).
	RateLimit int `yaml:"rateLimit"`
	// TopicConcurrency is the number of SearchLog queries one topic runs
	// at once (default 15); one more is LimitExceeded.LogSearch.
	TopicConcurrency int `yaml:"topicConcurrency"`
}

// SearchLogTruth is what the simulator observed of SearchLog calls.
type SearchLogTruth struct {
	// Per SecretId: calls admitted to run a query, refused by the rate
	// limit, refused by a topic's concurrency limit.
	Accepted           map[string]int64 `json:"accepted"`
	RateLimited        map[string]int64 `json:"rateLimited"`
	ConcurrencyLimited map[string]int64 `json:"concurrencyLimited"`
	// MaxConcurrentPerTopic is the most queries ever running at once on
	// each topic; InFlightPerTopic those running now.
	MaxConcurrentPerTopic map[string]int `json:"maxConcurrentPerTopic"`
	InFlightPerTopic      map[string]int `json:"inFlightPerTopic"`
}

type admission int

const (
	admitted admission = iota
	refusedRate
	refusedConcurrency
)

// clsLimits enforces the rate and concurrency limits; one mutex makes the
// two decisions and their bookkeeping a single atomic step.
type clsLimits struct {
	mu          sync.Mutex
	rate, conc  int
	arrivals    map[string][]int64 // per SecretId, sorted, last 2 s
	maxSliding  map[string]int     // per SecretId, most calls past the rate limit in a sliding second
	inFlight    map[string]int
	maxInFlight map[string]int
	totals      [3]map[string]int64
}

func newCLSLimits(c CLSConfig) *clsLimits {
	l := &clsLimits{
		rate: cmp.Or(c.RateLimit, defaultSearchLogRate), conc: cmp.Or(c.TopicConcurrency, defaultSearchLogConcurrency),
		arrivals: map[string][]int64{}, maxSliding: map[string]int{}, inFlight: map[string]int{}, maxInFlight: map[string]int{},
	}
	for i := range l.totals {
		l.totals[i] = map[string]int64{}
	}
	return l
}

// admit decides a call that arrived at `at` on topic. The rate limit
// counts arrivals: a call is accepted iff no sliding second containing it
// would then hold more than rate accepted calls. An accepted call then
// takes one of the topic's slots or is refused; the caller must release
// an admitted call's slot.
func (l *clsLimits) admit(secretID, topic string, at time.Time) admission {
	t := at.UnixNano()
	sec := int64(time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.arrivals[secretID]
	pos := upperBound(ts, t)
	// Windows (e-1s, e] that would contain t end at t or at a later
	// accepted call within the next second.
	if inWindow(ts, t-sec, t)+1 > l.rate {
		l.totals[refusedRate][secretID]++
		return refusedRate
	}
	for j := pos; j < len(ts) && ts[j] < t+sec; j++ {
		if inWindow(ts, ts[j]-sec, ts[j])+1 > l.rate {
			l.totals[refusedRate][secretID]++
			return refusedRate
		}
	}
	ts = slices.Insert(ts, pos, t)
	for j := pos; j < len(ts) && ts[j] < t+sec; j++ {
		l.maxSliding[secretID] = max(l.maxSliding[secretID], inWindow(ts, ts[j]-sec, ts[j]))
	}
	newest := ts[len(ts)-1]
	cut := upperBound(ts, newest-2*sec)
	l.arrivals[secretID] = slices.Clip(ts[cut:])

	if l.inFlight[topic] >= l.conc {
		l.totals[refusedConcurrency][secretID]++
		return refusedConcurrency
	}
	l.inFlight[topic]++
	l.maxInFlight[topic] = max(l.maxInFlight[topic], l.inFlight[topic])
	l.totals[admitted][secretID]++
	return admitted
}

func (l *clsLimits) release(topic string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[topic]--; l.inFlight[topic] <= 0 {
		delete(l.inFlight, topic)
	}
}

// truth reports both limits, and the rate limit again in the shape every
// rate-limited action has in Truth.APIs (a call refused for concurrency
// has passed the rate limit).
func (l *clsLimits) truth() (SearchLogTruth, APITruth) {
	l.mu.Lock()
	defer l.mu.Unlock()
	passed := maps.Clone(l.totals[admitted])
	for id, n := range l.totals[refusedConcurrency] {
		passed[id] += n
	}
	return SearchLogTruth{
			Accepted:              maps.Clone(l.totals[admitted]),
			RateLimited:           maps.Clone(l.totals[refusedRate]),
			ConcurrencyLimited:    maps.Clone(l.totals[refusedConcurrency]),
			MaxConcurrentPerTopic: maps.Clone(l.maxInFlight),
			InFlightPerTopic:      maps.Clone(l.inFlight),
		}, APITruth{
			Limit:                      l.rate,
			MaxCallsInAnySlidingSecond: maps.Clone(l.maxSliding),
			TotalAccepted:              passed,
			TotalRejected:              maps.Clone(l.totals[refusedRate]),
		}
}
