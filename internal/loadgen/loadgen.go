package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Class is one kind of request in the mix.
type Class struct {
	Name string `json:"name"`
	// Weight is the class's share of requests, relative to the others.
	Weight float64 `json:"weight"`
	// URLs are picked by a Zipf(ZipfS, ZipfV) draw: the first is the most
	// popular.
	URLs   []string          `json:"urls"`
	Header map[string]string `json:"header"`
	// VaryWindow adds since/until of one of the last day's 23 whole-hour
	// windows, picked at random: requests spread over a bounded set of
	// keys, each usually expired by the time it is asked again.
	VaryWindow bool `json:"varyWindow"`
}

// Config is one bounded run.
type Config struct {
	Mix      []Class
	Clients  int
	Rate     float64 // requests per second, over all clients
	Duration time.Duration
	Timeout  time.Duration // per request
	ZipfS    float64       // > 1
	ZipfV    float64       // >= 1
	Seed     uint64
}

func (c Config) validate() error {
	switch {
	case len(c.Mix) == 0:
		return errors.New("loadgen: the mix is empty")
	case c.Clients < 1:
		return errors.New("loadgen: clients must be positive")
	case !(c.Rate > 0):
		return errors.New("loadgen: rate must be positive")
	case c.Duration <= 0 || c.Timeout <= 0:
		return errors.New("loadgen: duration and timeout must be positive")
	case !(c.ZipfS > 1) || !(c.ZipfV >= 1):
		return errors.New("loadgen: zipf needs s > 1 and v >= 1")
	}
	for _, k := range c.Mix {
		if len(k.URLs) == 0 || !(k.Weight > 0) {
			return fmt.Errorf("loadgen: class %q needs URLs and a positive weight", k.Name)
		}
		for _, u := range k.URLs {
			if _, err := url.Parse(u); err != nil {
				return fmt.Errorf("loadgen: class %q: %w", k.Name, err)
			}
		}
	}
	return nil
}

// Result is what a run saw.
type Result struct {
	Clients   int     `json:"clients"`
	Rate      float64 `json:"rate"`
	Seconds   float64 `json:"seconds"`
	Sent      int64   `json:"sent"`
	Completed int64   `json:"completed"`
	// Errors are requests without an HTTP answer (timeouts, resets).
	Errors int64 `json:"errors"`
	// Status counts answers by code: "200", "429", "503", "other".
	Status map[string]int64 `json:"status"`
	// Cache counts 200s by X-Cache: HIT, MISS, STALE, or "none".
	Cache map[string]int64 `json:"cache"`
	// ByClass counts answers by class name and status code.
	ByClass map[string]map[string]int64 `json:"byClass"`
	// Age counts 200s by their Age header in whole seconds, "none" when
	// absent: the exact distribution of how old the answers were.
	Age map[string]int64 `json:"age"`
	// Latency percentiles in milliseconds, from the intended send time.
	LatencyMs map[string]float64 `json:"latencyMs"`
}

type tally struct {
	hist    *hdrhistogram.Histogram
	sent    int64
	done    int64
	errs    int64
	status  map[string]int64
	cache   map[string]int64
	age     map[string]int64
	byClass map[string]map[string]int64
}

func newTally() *tally {
	return &tally{
		hist:    hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3),
		status:  map[string]int64{},
		cache:   map[string]int64{},
		age:     map[string]int64{},
		byClass: map[string]map[string]int64{},
	}
}

// Run sends the mix until cfg.Duration has passed (or ctx ends) and waits
// for the requests in flight.
func Run(ctx context.Context, cfg Config, client *http.Client) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	var totalWeight float64
	for _, k := range cfg.Mix {
		totalWeight += k.Weight
	}
	interval := time.Duration(float64(cfg.Clients) / cfg.Rate * float64(time.Second))
	start := time.Now()
	end := start.Add(cfg.Duration)
	tallies := make([]*tally, cfg.Clients)
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		tallies[i] = newTally()
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i))) //nolint:gosec // G404: a reproducible request mix, not a secret
			zipfs := make([]*rand.Zipf, len(cfg.Mix))
			for j, k := range cfg.Mix {
				zipfs[j] = rand.NewZipf(rng, cfg.ZipfS, cfg.ZipfV, uint64(len(k.URLs)-1))
			}
			t := tallies[i]
			// Phases are staggered so the clients do not fire in step.
			for intended := start.Add(interval * time.Duration(i) / time.Duration(cfg.Clients)); intended.Before(end); intended = intended.Add(interval) {
				if d := time.Until(intended); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				} else if ctx.Err() != nil {
					return
				}
				k := pick(cfg.Mix, totalWeight, rng)
				target := cfg.Mix[k].URLs[zipfs[k].Uint64()]
				if cfg.Mix[k].VaryWindow {
					target = withRandomWindow(target, rng, time.Now())
				}
				t.sent++
				t.send(ctx, client, cfg.Timeout, &cfg.Mix[k], target, intended)
			}
		})
	}
	wg.Wait()
	return merge(tallies, cfg, time.Since(start)), nil
}

func pick(mix []Class, total float64, rng *rand.Rand) int {
	x := rng.Float64() * total
	for i, k := range mix {
		if x < k.Weight {
			return i
		}
		x -= k.Weight
	}
	return len(mix) - 1
}

// withRandomWindow appends a one-hour since/until window that ends on one
// of the last 23 whole hours.
func withRandomWindow(target string, rng *rand.Rand, now time.Time) string {
	until := now.Truncate(time.Hour).Add(-time.Duration(rng.IntN(23)) * time.Hour)
	since := until.Add(-time.Hour)
	sep := "?"
	if u, err := url.Parse(target); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	return target + sep + "since=" + url.QueryEscape(since.UTC().Format(time.RFC3339)) +
		"&until=" + url.QueryEscape(until.UTC().Format(time.RFC3339))
}

func (t *tally) send(ctx context.Context, client *http.Client, timeout time.Duration, k *Class, target string, intended time.Time) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, target, nil)
	if err != nil {
		t.errs++
		return
	}
	for h, v := range k.Header {
		req.Header.Set(h, v)
	}
	resp, err := client.Do(req)
	if err == nil {
		// Read the whole body: the latency is that of the full answer.
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	_ = t.hist.RecordValue(max(1, time.Since(intended).Microseconds()))
	if err != nil {
		t.errs++
		return
	}
	t.done++
	code := strconv.Itoa(resp.StatusCode)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusTooManyRequests, http.StatusServiceUnavailable:
	default:
		code = "other"
	}
	t.status[code]++
	if t.byClass[k.Name] == nil {
		t.byClass[k.Name] = map[string]int64{}
	}
	t.byClass[k.Name][strconv.Itoa(resp.StatusCode)]++
	if resp.StatusCode == http.StatusOK {
		state := resp.Header.Get("X-Cache")
		if state == "" {
			state = "none"
		}
		t.cache[state]++
		t.age[ageOf(resp.Header.Get("Age"))]++
	}
}

// ageOf is an Age header as counted: its whole seconds, or "none" when it
// is absent or not a count of seconds (RFC 9111 5.1).
func ageOf(h string) string {
	if n, err := strconv.ParseUint(h, 10, 63); err == nil {
		return strconv.FormatUint(n, 10)
	}
	return "none"
}

func merge(tallies []*tally, cfg Config, elapsed time.Duration) Result {
	all := newTally()
	for _, t := range tallies {
		all.hist.Merge(t.hist)
		all.sent += t.sent
		all.done += t.done
		all.errs += t.errs
		for k, v := range t.status {
			all.status[k] += v
		}
		for k, v := range t.cache {
			all.cache[k] += v
		}
		for k, v := range t.age {
			all.age[k] += v
		}
		for name, m := range t.byClass {
			if all.byClass[name] == nil {
				all.byClass[name] = map[string]int64{}
			}
			for k, v := range m {
				all.byClass[name][k] += v
			}
		}
	}
	ms := func(q float64) float64 { return float64(all.hist.ValueAtQuantile(q)) / 1000 }
	return Result{
		Clients: cfg.Clients, Rate: cfg.Rate, Seconds: elapsed.Seconds(),
		Sent: all.sent, Completed: all.done, Errors: all.errs,
		Status: all.status, Cache: all.cache, Age: all.age, ByClass: all.byClass,
		LatencyMs: map[string]float64{
			"p50": ms(50), "p90": ms(90), "p99": ms(99), "p999": ms(99.9),
			"max": float64(all.hist.Max()) / 1000,
		},
	}
}
