package logsource

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/internal/witness"
)

const testSecretID = testenv.SecretID

// suiteWitness reads the errors the tests receive for the SecretKey.
var suiteWitness = witness.New(map[string]string{"SecretKey": testenv.SecretKey})

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(suiteWitness.Main(m))
}

// simEnv is the simulator with what these tests build on it.
type simEnv struct{ *testenv.Simulator }

// startSim is the simulator in-process, for a test inBubble: the budgets'
// waits and the simulator's work take no time on the bubble's clock,
// however slow the machine.
func startSim(t testing.TB, now func() time.Time, fns ...tencentsim.Function) *simEnv {
	t.Helper()
	return &simEnv{testenv.NewSimulator(t, now, fns...)}
}

// inBubble runs test in a synctest bubble, a week after its clock starts:
// it starts at 2000-01-01, Mudbase's earliest instant, and a simulator's
// executions a week before the simulator's now.
func inBubble(t *testing.T, test func(t *testing.T)) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(8 * 24 * time.Hour)
		test(t)
	})
}

// caller is the simulator's account through the whole chain, with budgets
// of rate per second (GetFunctionLogs's; the simulator keeps Tencent's 5
// unless told otherwise).
func (e *simEnv) caller(t testing.TB, rate int) *countingCaller {
	t.Helper()
	t.Setenv("LOGSOURCE_SECRET_ID", testenv.SecretID)
	t.Setenv("LOGSOURCE_SECRET_KEY", testenv.SecretKey)
	a := upstream.NewAccounts(upstream.Options{
		Upstream: upstream.Config{Endpoint: e.Host, CLSEndpoint: e.Host, Scheme: "http", Timeout: upstream.DefaultTimeout,
			Breaker: upstream.BreakerConfig{Failures: 1000, OpenFor: time.Second}},
		Budget:     budget.Config{RequestsPerSecond: rate, Margin: 100 * time.Millisecond, MaxWait: time.Minute, Backoff: time.Second},
		Registerer: prometheus.NewRegistry(),
		Transport:  testenv.HandlerTransport{Handler: e},
	})
	c, err := a.Caller("p", "ap-guangzhou", upstream.CredentialsConfig{SecretIDEnv: "LOGSOURCE_SECRET_ID", SecretKeyEnv: "LOGSOURCE_SECRET_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	return &countingCaller{next: c}
}

// countingCaller counts the calls it passes on, by API.
type countingCaller struct {
	next                   Caller
	logs, status, searches atomic.Int64
}

func (c *countingCaller) Call(ctx context.Context, api upstream.API, topic string, req any) (json.RawMessage, error) {
	switch api {
	case upstream.GetFunctionLogs:
		c.logs.Add(1)
	case upstream.GetRequestStatus:
		c.status.Add(1)
	case upstream.SearchLog:
		c.searches.Add(1)
	}
	return c.next.Call(ctx, api, topic, req)
}
