package testenv

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
)

// The Tencent key pair StartSimulator accepts. The key is a secret as far
// as the tests' witnesses are concerned: no output may contain it.
const (
	SecretID  = "AKIDmudscfTest000000000000000001"
	SecretKey = "test-secret-key-never-printed-0001"
)

// Simulator is the SCF simulator over real HTTP on loopback, stopped when
// the test ends.
type Simulator struct {
	*tencentsim.Simulator
	Server *httptest.Server
	// Host is host:port, the upstream endpoint to configure.
	Host string
	// Location is Tencent's zone, which upstream times are written in.
	Location *time.Location
}

// StartSimulator runs a simulator with functions (the seed's APITest at one
// execution every five seconds when none are given) for the key pair
// SecretID/SecretKey. now, when set, freezes its clock so that rate-limit
// windows are exact.
func StartSimulator(t testing.TB, now func() time.Time, functions ...tencentsim.Function) *Simulator {
	t.Helper()
	if len(functions) == 0 {
		functions = []tencentsim.Function{{Name: "APITest", RatePerSecond: 0.2}}
	}
	cfg := tencentsim.DefaultConfig()
	cfg.Accounts = []tencentsim.Account{{SecretID: SecretID, SecretKey: SecretKey}}
	cfg.Functions = functions
	cfg.Now = now
	sim, err := tencentsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return &Simulator{Simulator: sim, Server: srv, Host: strings.TrimPrefix(srv.URL, "http://"), Location: loc}
}
