package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
)

// The simulated account, and the two projects: one per source.
const (
	region    = "ap-guangzhou"
	secretID  = "AKIDmudscfBenchScale00000000001" //nolint:gosec // G101: the simulator's account, not a credential
	every     = 10 * time.Second                  // one execution per function
	sampleFns = 20                                // functions per source whose ground truth is sampled for the lag
)

var sources = []struct{ name, project, namespace, proxySource string }{
	{"getFunctionLogs", "proj_gfl", "gfl", "getFunctionLogs"},
	{"cls", "proj_cls", "cls", "cls"},
}

func main() {
	bin := flag.String("bin", "bin/mudscf", "the mudscf binary")
	n := flag.Int("n", 100, "functions per source")
	run := flag.Duration("run", 4*time.Minute, "how long the functions run")
	settle := flag.Duration("settle", 3*time.Minute, "how long to wait after the stop for the counts to reach the truth")
	interval := flag.Duration("interval", 30*time.Second, "the exporters' interval")
	latency := flag.Duration("cls-latency", 300*time.Millisecond, "how long a SearchLog query takes")
	warmup := flag.Duration("warmup", time.Minute, "what is left out of the steady-state figures at the start")
	scrapeEvery := flag.Duration("scrape", 13*time.Second, "how often the exporters are scraped, as Prometheus scrapes them (OpenMetrics, gzip)")
	memLimit := flag.String("exporter-memlimit", "", "GOMEMLIMIT of the exporters (empty: none), as a deployment sets it from the container's memory limit")
	flag.Parse()
	res, err := bench(config{bin: *bin, n: *n, run: *run, settle: *settle, interval: *interval, latency: *latency, warmup: *warmup,
		scrape: *scrapeEvery, memLimit: *memLimit})
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchscale:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(res)
}

type config struct {
	bin                                    string
	n                                      int
	run, settle, interval, latency, warmup time.Duration
	scrape                                 time.Duration
	memLimit                               string
}

// Result is one run, per source.
type Result struct {
	N int `json:"n"`
	// SimulatorCores and ProxyCores are the CPU the simulator and the
	// proxy (both sources together) used over the steady state.
	SimulatorCores, ProxyCores float64
	Sources                    []SourceResult `json:"sources"`
}

// SourceResult is what one source's exporter did.
type SourceResult struct {
	Source string `json:"source"`
	// LagP50 and LagMax are the executions not yet exported, in seconds
	// of the functions' runs (an execution every 10 s), over the sampled
	// functions and the steady state's scrapes.
	LagP50, LagMax float64
	// CursorAgeMax is the largest mudscf_exporter_cursor_age_seconds of any
	// function in any steady-state scrape.
	CursorAgeMax float64
	// CallsPerSecond is the upstream calls of the source's API in the
	// steady state (GetFunctionLogs, or SearchLog).
	CallsPerSecond float64
	// TopicConcurrencyMax is the most SearchLog queries the topic ran at
	// once during the run.
	TopicConcurrencyMax int
	// CPUCores is the exporter's CPU time over the steady state's wall
	// time; RSSMiB its last resident size, RSSPeakMiB the largest.
	CPUCores, RSSMiB, RSSPeakMiB float64
	// Exact, Under and Over count the functions whose final count equals,
	// falls short of, or exceeds the ground truth; Truth is their total.
	Exact, Under, Over int
	Truth, Exported    int64
	// SettledAfter is how long after the stop the counts reached the
	// truth (0: not within -settle).
	SettledAfter float64
	// CapacityComputed is the exporter's mudscf_exporter_function_capacity
	// at the end; CapacityMeasured the functions whose last successful
	// turn ended within the last interval, averaged over the steady
	// state's scrapes: the functions it serves per interval.
	CapacityComputed, CapacityMeasured float64
	// ScrapeSeconds is the longest scrape of the exporter's /metrics.
	ScrapeSeconds float64
}

type proc struct {
	cmd  *exec.Cmd
	name string
}

func bench(c config) (*Result, error) {
	dir, err := os.MkdirTemp("", "benchscale-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	key := randomHex(16)
	jwtSecret := randomHex(32)
	env := append(os.Environ(), "BENCH_SECRET_ID="+secretID, "BENCH_SECRET_KEY="+key, "BENCH_JWT="+jwtSecret, "MUDSCF_SIM_SECRET_KEY="+key)
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	simAddr, apiAddr, adminAddr := ports[0], ports[1], ports[2]
	expAddr := map[string]string{"getFunctionLogs": ports[3], "cls": ports[4]}

	origin := time.Now().Truncate(time.Second).Add(10 * time.Second)
	stop := origin.Add(c.run)
	names := make([]string, c.n)
	for i := range names {
		names[i] = fmt.Sprintf("fn-%05d", i)
	}
	if err := writeFiles(dir, c, names, origin, stop, simAddr, apiAddr, adminAddr, expAddr); err != nil {
		return nil, err
	}
	var procs []proc
	defer func() {
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_ = p.cmd.Wait()
		}
	}()
	start := func(name string, args ...string) (*exec.Cmd, error) {
		cmd := exec.Command(c.bin, args...) //nolint:gosec // G204: the mudscf binary this benchmark built, with its own arguments
		cmd.Env = env
		if args[0] == "exporter" && c.memLimit != "" {
			cmd.Env = append(slices.Clone(env), "GOMEMLIMIT="+c.memLimit)
		}
		logf, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		procs = append(procs, proc{cmd, name})
		return cmd, nil
	}
	var simCmd, proxyCmd *exec.Cmd
	if simCmd, err = start("simulator", "simulate", "--addr", simAddr, "--config", filepath.Join(dir, "sim.yaml"), "--secret-id", secretID); err != nil {
		return nil, err
	}
	if err := waitUp("http://" + simAddr + "/_sim/healthz"); err != nil {
		return nil, fmt.Errorf("simulator: %w (%s)", err, tail(dir, "simulator"))
	}
	if proxyCmd, err = start("proxy", "proxy", "--config", filepath.Join(dir, "proxy.yaml")); err != nil {
		return nil, err
	}
	if err := waitUp("http://" + adminAddr + "/healthz"); err != nil {
		return nil, fmt.Errorf("proxy: %w (%s)", err, tail(dir, "proxy"))
	}
	exporters := map[string]*exec.Cmd{}
	for _, s := range sources {
		cmd, err := start("exporter-"+s.name, "exporter", "--config", filepath.Join(dir, "exporter-"+s.name+".yaml"))
		if err != nil {
			return nil, err
		}
		exporters[s.name] = cmd
		if err := waitUp("http://" + expAddr[s.name] + "/healthz"); err != nil {
			return nil, fmt.Errorf("exporter %s: %w (%s)", s.name, err, tail(dir, "exporter-"+s.name))
		}
	}

	sampled := make([]string, 0, sampleFns)
	for i := 0; i < sampleFns && i < c.n; i++ {
		sampled = append(sampled, names[i*c.n/min(sampleFns, c.n)])
	}
	type acc struct {
		lags                []float64
		cursorMax, scrapeMx float64
		cpu0, cpu1          time.Duration
		t0, t1              time.Time
		calls0, calls1      int64
		served              []float64
	}
	accs := map[string]*acc{}
	for _, s := range sources {
		accs[s.name] = &acc{}
	}
	steadyFrom := origin.Add(c.warmup)
	var others [2]struct {
		t0, t1     time.Time
		cpu0, cpu1 time.Duration
	}
	for now := time.Now(); now.Before(stop); now = time.Now() {
		time.Sleep(c.scrape - time.Since(now)%c.scrape)
		steady := time.Now().After(steadyFrom) && time.Now().Before(stop)
		for i, cmd := range []*exec.Cmd{simCmd, proxyCmd} {
			cpu, err := cpuTime(cmd.Process.Pid)
			if err != nil {
				return nil, err
			}
			if steady {
				if others[i].t0.IsZero() {
					others[i].t0, others[i].cpu0 = time.Now(), cpu
				}
				others[i].t1, others[i].cpu1 = time.Now(), cpu
			}
		}
		truthNow, err := simTruth(simAddr)
		if err != nil {
			return nil, err
		}
		for _, s := range sources {
			a := accs[s.name]
			m, took, err := scrape(expAddr[s.name])
			if err != nil {
				return nil, fmt.Errorf("scraping the %s exporter: %w", s.name, err)
			}
			a.scrapeMx = max(a.scrapeMx, took.Seconds())
			cpu, err := cpuTime(exporters[s.name].Process.Pid)
			if err != nil {
				return nil, err
			}
			if !steady {
				continue
			}
			if a.t0.IsZero() {
				a.t0, a.cpu0, a.calls0 = time.Now(), cpu, truthNow.calls(s.name)
			}
			a.t1, a.cpu1, a.calls1 = time.Now(), cpu, truthNow.calls(s.name)
			a.cursorMax = max(a.cursorMax, m.cursorMax)
			a.served = append(a.served, float64(m.servedSince(time.Now().Add(-c.interval))))
			for _, name := range sampled {
				truth, err := truthCount(simAddr, s.namespace, name, origin)
				if err != nil {
					return nil, err
				}
				a.lags = append(a.lags, float64(truth-int64(m.executions[functionID(name)]))*every.Seconds())
			}
		}
	}

	// Every execution has finished a timeout after the stop.
	time.Sleep(time.Until(stop.Add(5 * time.Second)))
	truths := map[string]map[string]int64{}
	for _, s := range sources {
		if truths[s.name], err = allTruths(simAddr, s.namespace, names, origin); err != nil {
			return nil, err
		}
	}
	res := &Result{N: c.n}
	if span := others[0].t1.Sub(others[0].t0).Seconds(); span > 0 {
		res.SimulatorCores = (others[0].cpu1 - others[0].cpu0).Seconds() / span
		res.ProxyCores = (others[1].cpu1 - others[1].cpu0).Seconds() / span
	}
	settled := map[string]float64{}
	var last map[string]metrics
	for deadline := stop.Add(c.settle); ; {
		last = map[string]metrics{}
		all := true
		for _, s := range sources {
			m, _, err := scrape(expAddr[s.name])
			if err != nil {
				return nil, err
			}
			last[s.name] = m
			if _, ok := settled[s.name]; !ok && matches(m, truths[s.name]) {
				settled[s.name] = time.Since(stop).Seconds()
			}
			_, ok := settled[s.name]
			all = all && ok
		}
		if all || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Second)
	}
	final, err := simTruth(simAddr)
	if err != nil {
		return nil, err
	}
	for _, s := range sources {
		a, m := accs[s.name], last[s.name]
		r := SourceResult{Source: s.name, CursorAgeMax: a.cursorMax, SettledAfter: settled[s.name], ScrapeSeconds: a.scrapeMx,
			TopicConcurrencyMax: final.SearchLog.MaxConcurrentPerTopic[tencentsim.DefaultClsTopicID(region, s.namespace, names[0])]}
		if s.name == "getFunctionLogs" {
			r.TopicConcurrencyMax = 0 // the project reads no topic
		}
		if span := a.t1.Sub(a.t0).Seconds(); span > 0 {
			r.CPUCores = (a.cpu1 - a.cpu0).Seconds() / span
			r.CallsPerSecond = float64(a.calls1-a.calls0) / span
		}
		if s.name == "getFunctionLogs" {
			r.CapacityComputed = m.capacity
			for _, v := range a.served {
				r.CapacityMeasured += v / float64(len(a.served))
			}
		}
		slices.Sort(a.lags)
		if len(a.lags) > 0 {
			r.LagP50, r.LagMax = a.lags[len(a.lags)/2], a.lags[len(a.lags)-1]
		}
		r.RSSMiB, r.RSSPeakMiB, err = rss(exporters[s.name].Process.Pid)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			want, got := truths[s.name][name], int64(m.executions[functionID(name)])
			r.Truth += want
			r.Exported += got
			switch {
			case got == want:
				r.Exact++
			case got < want:
				r.Under++
			default:
				r.Over++
			}
		}
		res.Sources = append(res.Sources, r)
	}
	return res, nil
}

// matches says whether every function's count is its truth.
func matches(m metrics, truth map[string]int64) bool {
	for name, want := range truth {
		if int64(m.executions[functionID(name)]) != want {
			return false
		}
	}
	return true
}

func functionID(name string) string { return "f" + strings.TrimPrefix(name, "fn-") }

func writeFiles(dir string, c config, names []string, origin, stop time.Time, simAddr, apiAddr, adminAddr string, expAddr map[string]string) error {
	var sim, proxy bytes.Buffer
	fmt.Fprintf(&sim, "accounts: [{secretId: %s, secretKey: unused-the-flag-sets-it}]\norigin: %s\ncls:\n  latency: {fixed: %s}\nfunctions:\n",
		secretID, origin.UTC().Format(time.RFC3339), c.latency)
	for _, s := range sources {
		for _, name := range names {
			fmt.Fprintf(&sim, "  - {name: %s, namespace: %s, ratePerSecond: %g, until: %s}\n", name, s.namespace, 1/every.Seconds(), stop.UTC().Format(time.RFC3339))
		}
	}
	topic := tencentsim.DefaultClsTopicID(region, "cls", names[0])
	fmt.Fprintf(&proxy, `listen: %s
adminListen: %s
drainDelay: 0s
logLevel: warn
upstream: {endpoint: %s, clsEndpoint: %s, scheme: http}
jwt: {algorithms: [HS256], secretEnv: BENCH_JWT}
projects:
`, apiAddr, adminAddr, simAddr, simAddr)
	for _, s := range sources {
		fmt.Fprintf(&proxy, "  %s:\n    region: %s\n    namespace: %s\n    source: %s\n    credentials: {secretIdEnv: BENCH_SECRET_ID, secretKeyEnv: BENCH_SECRET_KEY}\n",
			s.project, region, s.namespace, s.proxySource)
		if s.proxySource == "cls" {
			fmt.Fprintf(&proxy, "    clsTopicId: %s\n", topic)
		}
		fmt.Fprintf(&proxy, "    functions:\n")
		for _, name := range names {
			fmt.Fprintf(&proxy, "      %s: {name: %s, memorySizeMB: 128}\n", functionID(name), name)
		}
		var exp bytes.Buffer
		fmt.Fprintf(&exp, `listen: %s
endpoint: http://%s
auth: {jwtSecretEnv: BENCH_JWT}
interval: %s
checkpoint: %s
logLevel: warn
functions:
`, expAddr[s.name], apiAddr, c.interval, filepath.Join(dir, "checkpoint-"+s.name+".json"))
		for _, name := range names {
			fmt.Fprintf(&exp, "  - {project: %s, function: %s, name: %s, region: %s}\n", s.project, functionID(name), name, region)
		}
		if err := os.WriteFile(filepath.Join(dir, "exporter-"+s.name+".yaml"), exp.Bytes(), 0o600); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "sim.yaml"), sim.Bytes(), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "proxy.yaml"), proxy.Bytes(), 0o600)
}

// metrics is what benchscale reads of an exporter's /metrics.
type metrics struct {
	executions  map[string]float64 // by function ID
	lastSuccess []float64          // of every function, Unix seconds
	cursorMax   float64
	capacity    float64
}

// servedSince counts the functions whose last successful turn ended at
// or after t.
func (m metrics) servedSince(t time.Time) int {
	n := 0
	for _, v := range m.lastSuccess {
		if v >= float64(t.UnixMilli())/1000 {
			n++
		}
	}
	return n
}

// scrapeAccept is what Prometheus 2.x asks for by default.
const scrapeAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// scrape reads the exporter's /metrics as Prometheus does (OpenMetrics,
// gzip), line by line: with 10,000 functions it is hundreds of thousands
// of lines, of which a few names matter.
func scrape(addr string) (metrics, time.Duration, error) {
	m := metrics{executions: map[string]float64{}}
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Accept", scrapeAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return m, 0, err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return m, 0, err
		}
		body = zr
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, "{")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		labels, value, _ := strings.Cut(rest, "} ")
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "mudscf_function_executions_total":
			m.executions[label(labels, "function")] += v
		case "mudscf_exporter_cursor_age_seconds":
			m.cursorMax = max(m.cursorMax, v)
		case "mudscf_exporter_last_success_timestamp_seconds":
			m.lastSuccess = append(m.lastSuccess, v)
		case "mudscf_exporter_function_capacity":
			m.capacity = max(m.capacity, v)
		}
	}
	return m, time.Since(start), sc.Err()
}

func label(labels, name string) string {
	_, v, ok := strings.Cut(labels, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, `"`)
	return v
}

// simTruth is the simulator's /_sim/truth.
type truth struct {
	APIs map[string]struct {
		TotalAccepted map[string]int64 `json:"totalAccepted"`
	} `json:"apis"`
	TotalAccepted map[string]int64 `json:"totalAccepted"`
	SearchLog     struct {
		Accepted              map[string]int64 `json:"accepted"`
		MaxConcurrentPerTopic map[string]int   `json:"maxConcurrentPerTopic"`
	} `json:"searchLog"`
}

func (t truth) calls(source string) int64 {
	if source == "cls" {
		return t.SearchLog.Accepted[secretID]
	}
	return t.TotalAccepted[secretID]
}

func simTruth(addr string) (truth, error) {
	var t truth
	return t, getJSON("http://"+addr+"/_sim/truth", &t)
}

// truthCount is how many executions of the function have finished.
func truthCount(addr, namespace, name string, origin time.Time) (int64, error) {
	var out struct {
		Count int64 `json:"count"`
	}
	q := url.Values{"region": {region}, "namespace": {namespace}, "function": {name},
		"since": {origin.Add(-time.Minute).UTC().Format(time.RFC3339Nano)}, "until": {time.Now().UTC().Format(time.RFC3339Nano)}}
	return out.Count, getJSON("http://"+addr+"/_sim/executions?"+q.Encode(), &out)
}

// allTruths is truthCount of every function, a few at a time.
func allTruths(addr, namespace string, names []string, origin time.Time) (map[string]int64, error) {
	out := make(map[string]int64, len(names))
	var mu sync.Mutex
	var firstErr error
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for name := range work {
				n, err := truthCount(addr, namespace, name, origin)
				mu.Lock()
				out[name] = n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
	return out, firstErr
}

func getJSON(u string, v any) error {
	resp, err := http.Get(u) //nolint:gosec // G107: loopback URLs of the processes this benchmark started
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %d %s", u, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// cpuTime is the process's user and system CPU time (/proc/PID/stat,
// fields 14 and 15, in clock ticks of 1/100 s on Linux).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// rss is the process's resident size now and its peak, in MiB.
func rss(pid int) (now, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return now, peak, nil
}

func freePorts(n int) ([]string, error) {
	var out []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return out, nil
}

// waitUp waits (at most a minute: a simulator of 20,000 functions takes a
// moment to start) for url to answer.
func waitUp(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		resp, err := http.Get(u) //nolint:gosec // G107: loopback URLs of the processes this benchmark started
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func tail(dir, name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, name+".log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
