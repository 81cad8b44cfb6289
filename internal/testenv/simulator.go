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
//
//nolint:gosec // G101: a fake key pair that only the simulator accepts.
const (
	SecretID  = "AKIDmudscfTest000000000000000001"
	SecretKey = "test-secret-key-never-printed-0001"
)

// Simulator is the SCF simulator, over real HTTP on loopback and stopped
// when the test ends (StartSimulator), or in-process (NewSimulator).
type Simulator struct {
	*tencentsim.Simulator
	Server *httptest.Server // nil in-process
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
	s := NewSimulator(t, now, functions...)
	s.Server = httptest.NewServer(s.Simulator)
	t.Cleanup(s.Server.Close)
	s.Host = strings.TrimPrefix(s.Server.URL, "http://")
	return s
}

// InProcessHost is the endpoint of a simulator reached through
// HandlerTransport: any name does, none is dialled.
const InProcessHost = "tencentcloudapi.test"

// NewSimulator is StartSimulator without the server: clients reach it
// through HandlerTransport{Handler: sim} at InProcessHost, so that a test
// can run it and them inside a testing/synctest bubble, on the bubble's
// clock (then its work takes no time however slow the machine is).
func NewSimulator(t testing.TB, now func() time.Time, functions ...tencentsim.Function) *Simulator {
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
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return &Simulator{Simulator: sim, Host: InProcessHost, Location: loc}
}
