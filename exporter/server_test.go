package exporter

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/mudscf/mudscf/internal/testenv"
)

// The metrics server closes a keep-alive connection its scraper left idle.
func TestServerClosesIdleConnections(t *testing.T) {
	e, err := New(fakeConfig(t, "a"), Options{Transport: testenv.HandlerTransport{Handler: &fakeLogs{first: time.Now(), every: time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	e.idleTimeout = 100 * time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, l) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	}()
	testenv.AssertClosesIdle(t, l.Addr().String(), "/healthz")
}
