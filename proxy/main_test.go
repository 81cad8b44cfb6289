package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/mudscf/mudscf/internal/testenv"
	"github.com/mudscf/mudscf/internal/witness"
)

// suiteWitness knows the one SecretKey, the one JWT secret and the one
// Redis password (in pieces) the whole suite configures, and reads
// everything the test helpers see: every log line (testLogger), every
// response to http.DefaultClient, every /metrics scrape (scrape) and the
// errors the tests receive.
var suiteWitness = witness.New(map[string]string{"SecretKey": testenv.SecretKey, "JWT secret": testJWTSecret}).
	WatchPieces("Redis password", testRedisPassword, 4)

// TestMain runs the package's tests under two whole-suite checks: no
// goroutine outlives the tests (goleak), and no secret appeared in any
// output (suiteWitness).
func TestMain(m *testing.M) {
	// The variables testConfig names, set once so that tests may run in
	// parallel (t.Setenv forbids it).
	for name, v := range map[string]string{
		"MUDSCF_TEST_JWT_SECRET": testJWTSecret, "MUDSCF_TEST_SECRET_ID": testenv.SecretID, "MUDSCF_TEST_SECRET_KEY": testenv.SecretKey,
	} {
		if err := os.Setenv(name, v); err != nil {
			panic(err)
		}
	}
	http.DefaultClient.Transport = suiteWitness.Transport(http.DefaultTransport)
	goleak.VerifyTestMain(suiteWitness.Main(m))
}

// The suite's witness is fed by the paths the tests use: the logger,
// http.DefaultClient and the admin scrape. (internal/witness tests that it
// finds what it is fed.)
func TestSuiteWitnessIsFed(t *testing.T) {
	before := suiteWitness.Seen()
	testLogger("the self-test log").Info("hello")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hi") }))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	scrape(t, http.NotFoundHandler(), "/metrics")
	if got := suiteWitness.Seen() - before; got != 4 { // log, headers, body, scrape
		t.Errorf("the suite's witness saw %d pieces of output, want 4", got)
	}
}
