package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/proxy"
)

// pageGate holds pages of the proxy's project route when armed: the next
// one past a scan's first (pastFirst), or every one, until released.
type pageGate struct {
	next http.Handler

	mu        sync.Mutex
	hold      *gateHold
	pastFirst bool
	armed     []*gateHold
}

type gateHold struct {
	held, release chan struct{}
	once, freed   sync.Once
}

// free releases the hold's page, once.
func (h *gateHold) free() { h.freed.Do(func() { close(h.release) }) }

// open frees every hold ever armed, so that a test that fails while a
// page is held can still close the server the page is held in.
func (g *pageGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold = nil
	for _, h := range g.armed {
		h.free()
	}
}

// waitHeld waits for h to hold a page: a page that never comes fails the
// test, with what the exporter wrote, rather than hanging it.
func waitHeld(t *testing.T, h *gateHold, what string, exporterOutput fmt.Stringer) {
	t.Helper()
	select {
	case <-h.held:
	case <-time.After(time.Minute):
		t.Fatalf("no page was held %s within a minute; the exporter wrote:\n%s", what, exporterOutput)
	}
}

// arm holds the next page past a scan's first, or with every every page,
// until the returned hold's release is closed; its held is closed when a
// page is held.
func (g *pageGate) arm(every bool) *gateHold {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := &gateHold{held: make(chan struct{}), release: make(chan struct{})}
	g.hold, g.pastFirst = h, !every
	g.armed = append(g.armed, h)
	return h
}

func (g *pageGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if strings.HasSuffix(r.URL.Path, "/executions") && q.Get("limit") != "0" {
		g.mu.Lock()
		h := g.hold
		if h != nil && g.pastFirst && (q.Get("offset") == "" || q.Get("offset") == "0") {
			h = nil
		}
		if h != nil && g.pastFirst {
			g.hold = nil // that one page only
		}
		g.mu.Unlock()
		if h != nil {
			h.once.Do(func() { close(h.held) })
			<-h.release
		}
	}
	g.next.ServeHTTP(w, r)
}

// The exporter process killed with SIGKILL while a page of a cls
// project's topic is in flight: restarted from what it left on disk, it
// counts every execution exactly once. A real process, a real SIGKILL:
// no deferred save runs, and a write in progress is cut where it is.
func TestExporterSIGKILLDuringATopicPage(t *testing.T) {
	bin := builtBinary(t)
	const topic = "topic-region-shared"
	origin := time.Now().Add(-time.Second)
	stopsAt := origin.Add(30 * time.Second) // room for a kill or two more
	names := []string{"fn-a", "fn-b", "fn-c"}
	var fns []tencentsim.Function
	functions := map[string]proxy.FunctionConfig{}
	for i, name := range names {
		fns = append(fns, tencentsim.Function{Name: name, RatePerSecond: 4, Until: stopsAt, TimeoutMs: 1000, ClsTopicID: topic})
		functions[fmt.Sprintf("fn%d", i)] = proxy.FunctionConfig{Name: name}
	}
	simCfg := tencentsim.DefaultConfig()
	simCfg.Accounts = []tencentsim.Account{{SecretID: testenv.SecretID, SecretKey: testenv.SecretKey}}
	simCfg.Origin, simCfg.Functions = origin, fns
	simulator, err := tencentsim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(simulator)
	defer simSrv.Close()
	sim := &testenv.Simulator{Simulator: simulator, Server: simSrv, Host: strings.TrimPrefix(simSrv.URL, "http://")}
	t.Setenv("KILL_TEST_JWT", proxyJWTSecret)
	t.Setenv("KILL_TEST_ID", testenv.SecretID)
	t.Setenv("KILL_TEST_KEY", testenv.SecretKey)
	pcfg := proxy.Config{
		Upstream: upstream.Config{Endpoint: sim.Host, CLSEndpoint: sim.Host, Scheme: "http", Timeout: 5 * time.Second},
		JWT:      jwtauth.Config{Algorithms: []string{"HS256"}, SecretEnv: "KILL_TEST_JWT"},
		Projects: map[string]proxy.ProjectConfig{"proj_AsIu33tafZGe": {Region: "ap-guangzhou", Source: proxy.SourceCLS, ClsTopicID: topic,
			Credentials: upstream.CredentialsConfig{SecretIDEnv: "KILL_TEST_ID", SecretKeyEnv: "KILL_TEST_KEY"}, Functions: functions}},
	}
	pcfg.ApplyDefaults()
	if err := pcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := proxy.New(ctx, pcfg, proxy.Options{Logger: testLogger("the proxy")})
	if err != nil {
		t.Fatal(err)
	}
	gate := &pageGate{next: p.Handler()}
	api := httptest.NewServer(gate)
	defer api.Close()
	defer gate.open() // before the server closes: a held page ends first

	dir := t.TempDir()
	config := filepath.Join(dir, "exporter.yaml")
	yaml := fmt.Sprintf("listen: 127.0.0.1:0\nendpoint: %s\nauth: {jwtSecretEnv: KILL_TEST_JWT}\ninterval: 1s\noverlap: 5s\nprojectPageSize: 15\nlogLevel: warn\ncheckpoint: %s\nprojects: [{project: proj_AsIu33tafZGe}]\n",
		api.URL, filepath.Join(dir, "checkpoint.json"))
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() (*exec.Cmd, string, *testenv.SyncBuffer) {
		cmd := exec.Command(bin, "exporter", "--config", config)
		stdout := &testenv.SyncBuffer{}
		cmd.Stdout, cmd.Stderr = stdout, stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill() // it may have exited already
			_ = cmd.Wait()         // killed: its exit status says so
			suiteWitness.See("the exporter's output", []byte(stdout.String()))
		})
		m := stdout.WaitFor(t, regexp.MustCompile(`metrics on (http://\S+/metrics)`))
		return cmd, m[1], stdout
	}
	truth := func() int {
		n := 0
		for _, name := range names {
			n += len(sim.Executions("ap-guangzhou", "default", name, origin.Add(-time.Minute), stopsAt.Add(time.Minute)))
		}
		return n
	}

	// Ten seconds into the run, the next page past a scan's first is
	// held, and the process killed while it waits for it. The kill
	// proves something only if the process had counted more than its
	// last save held; when a loaded machine puts the held page right
	// after a save (the scan it belongs to began a round earlier), the
	// restarted process is killed the same way, up to maxKills times.
	const maxKills = 5
	victim, metrics, output := start()
	time.Sleep(time.Until(origin.Add(10 * time.Second)))
	for kills := 1; ; kills++ {
		kill := gate.arm(false)
		waitHeld(t, kill, "past a scan's first page", output)
		countedAtKill := exported(t, metrics)
		if err := victim.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = victim.Wait() // killed: its exit status says so
		// The restarted process, every page held at first: what it
		// shows then is what it restored from the disk.
		restart := gate.arm(true)
		kill.free()
		victim, metrics, output = start()
		waitHeld(t, restart, "after the restart", output)
		restored := exported(t, metrics)
		gate.open()
		if restored == 0 || restored > countedAtKill {
			t.Fatalf("the checkpoint at the kill holds %v executions, the killed process had counted %v", restored, countedAtKill)
		}
		if restored < countedAtKill {
			break
		}
		if kills == maxKills {
			t.Fatalf("in %d kills the checkpoint always held all the process had counted: nothing was tested", kills)
		}
		t.Logf("kill %d came right after a save (%v executions counted and restored); again", kills, restored)
	}
	// A poll of a process of its own, on its own clock.
	want := 0
	for deadline := stopsAt.Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(stopsAt.Add(2 * time.Second)) {
			want = truth()
			if got := exported(t, metrics); got == float64(want) {
				time.Sleep(3 * time.Second) // a few rounds more: an over-count would show
				break
			}
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if got := exported(t, metrics); got != float64(want) || want == 0 {
		t.Errorf("after a SIGKILL during a topic page and a restart: %v executions exported, the simulator ran %d", got, want)
	}
}

// exported sums mudscf_function_executions_total on the exporter's
// /metrics.
func exported(t *testing.T, url string) float64 {
	t.Helper()
	// Bounded: a scrape that hangs fails the test instead.
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "mudscf_function_executions_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatal(err)
		}
		n += v
	}
	return n
}
