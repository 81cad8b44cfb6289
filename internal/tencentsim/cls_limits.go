package tencentsim

import (
	"cmp"
	"errors"
	"fmt"
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

// CLSConfig tunes the simulated CLS; zero values mean Tencent's limits
// and SCF's default delivery.
type CLSConfig struct {
	// RateLimit is the number of SearchLog calls accepted per SecretId in
	// any sliding second (default 10000).
	RateLimit int `yaml:"rateLimit"`
	// TopicConcurrency is the number of SearchLog queries one topic runs
	// at once (default 15); one more is LimitExceeded.LogSearch.
	TopicConcurrency int `yaml:"topicConcurrency"`
	// OtherQueries is how many of every topic's concurrent queries other
	// users hold all the time: the limit of 15 is shared with the
	// console, dashboards, alarms and scheduled SQL (614/67234).
	OtherQueries int `yaml:"otherQueries"`
	// TopicPerFunction gives each function whose configuration names no
	// topic a topic of its own (FunctionClsTopicID) instead of its
	// region's shared one (RegionClsTopicID), SCF's default delivery.
	TopicPerFunction bool `yaml:"topicPerFunction"`
	// NoStatistics lists topics whose index has statistics (SqlFlag) off,
	// so that SearchLog refuses SQL on their keys with
	// FailedOperation.QueryError, as Tencent's FAQ shows (614/44224).
	NoStatistics []string `yaml:"noStatistics"`
	// Latency is how long a SearchLog query takes; zero answers at once.
	Latency CLSLatency `yaml:"latency"`
}

// CLSLatency models a SearchLog query's duration as a fixed part plus a
// part per record the query examined, so that a topic's concurrency limit
// shows under load as it would on Tencent (whose query times are not
// documented: the values are the operator's).
type CLSLatency struct {
	Fixed     time.Duration `yaml:"fixed"`
	PerRecord time.Duration `yaml:"perRecord"`
}

// of is the latency of a query that examined scanned records.
func (l CLSLatency) of(scanned int64) time.Duration {
	return l.Fixed + time.Duration(scanned)*l.PerRecord
}

func (c CLSConfig) validate() error {
	conc := cmp.Or(c.TopicConcurrency, defaultSearchLogConcurrency)
	switch {
	case c.RateLimit < 0 || c.TopicConcurrency < 0:
		return errors.New("tencentsim: cls: rateLimit and topicConcurrency must not be negative")
	case c.OtherQueries < 0 || c.OtherQueries > conc:
		return fmt.Errorf("tencentsim: cls: otherQueries must be in [0, %d], the topic's concurrency", conc)
	case c.Latency.Fixed < 0 || c.Latency.PerRecord < 0:
		return errors.New("tencentsim: cls: latency must not be negative")
	}
	return nil
}

// SearchLogTruth is what the simulator observed of SearchLog calls.
type SearchLogTruth struct {
	// Per SecretId: calls admitted to run a query, refused by the rate
	// limit, refused by a topic's concurrency limit.
	Accepted           map[string]int64 `json:"accepted"`
	RateLimited        map[string]int64 `json:"rateLimited"`
	ConcurrencyLimited map[string]int64 `json:"concurrencyLimited"`
	// MaxConcurrentPerTopic is the most queries ever running at once on
	// each topic; InFlightPerTopic those running now (both without the
	// OtherQueries other users hold).
	MaxConcurrentPerTopic map[string]int `json:"maxConcurrentPerTopic"`
	InFlightPerTopic      map[string]int `json:"inFlightPerTopic"`
	// ScannedPerTopic is the log records the queries of each topic
	// examined, what the latency model charges.
	ScannedPerTopic map[string]int64 `json:"scannedPerTopic"`
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
	others      int                // slots other users hold on every topic
	arrivals    map[string][]int64 // per SecretId, sorted, last 2 s
	maxSliding  map[string]int     // per SecretId, most calls past the rate limit in a sliding second
	inFlight    map[string]int
	maxInFlight map[string]int
	scanned     map[string]int64
	totals      [3]map[string]int64
}

func newCLSLimits(c CLSConfig) *clsLimits {
	l := &clsLimits{
		rate: cmp.Or(c.RateLimit, defaultSearchLogRate), conc: cmp.Or(c.TopicConcurrency, defaultSearchLogConcurrency),
		others:   c.OtherQueries,
		arrivals: map[string][]int64{}, maxSliding: map[string]int{}, inFlight: map[string]int{}, maxInFlight: map[string]int{},
		scanned: map[string]int64{},
	}
	for i := range l.totals {
		l.totals[i] = map[string]int64{}
	}
	return l
}

// admit decides a call that arrived at `at` on topics (one, or those of a
// multi-topic search). The rate limit counts arrivals: a call is accepted
// iff no sliding second containing it would then hold more than rate
// accepted calls. An accepted call then takes one slot on each of its
// topics, or is refused if one has none free; the caller must release an
// admitted call's slots.
func (l *clsLimits) admit(secretID string, topics []string, at time.Time) admission {
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

	for _, topic := range topics {
		if l.others+l.inFlight[topic] >= l.conc {
			l.totals[refusedConcurrency][secretID]++
			return refusedConcurrency
		}
	}
	for _, topic := range topics {
		l.inFlight[topic]++
		l.maxInFlight[topic] = max(l.maxInFlight[topic], l.inFlight[topic])
	}
	l.totals[admitted][secretID]++
	return admitted
}

// release frees an admitted call's slots and books what it examined.
func (l *clsLimits) release(topics []string, scanned int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, topic := range topics {
		if l.inFlight[topic]--; l.inFlight[topic] <= 0 {
			delete(l.inFlight, topic)
		}
		l.scanned[topic] += scanned
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
			ScannedPerTopic:       maps.Clone(l.scanned),
		}, APITruth{
			Limit:                      l.rate,
			MaxCallsInAnySlidingSecond: maps.Clone(l.maxSliding),
			TotalAccepted:              passed,
			TotalRejected:              maps.Clone(l.totals[refusedRate]),
		}
}
