package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRunRejectsBadInvocations(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"simulate", "--no-such-flag"}, {"--help"}} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, io.Discard, &stderr, slog.New(slog.DiscardHandler)); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "--secret-id", "AKIDonlyHalf"}, io.Discard, &stderr, slog.New(slog.DiscardHandler)); code != 1 {
		t.Errorf("a SecretId without its key: exit %d, want 1", code)
	}
}

// syncBuffer lets the test read what the subcommand prints while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The simulate subcommand serves until its context ends, then exits 0.
func TestSimulateServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"simulate", "--addr", "127.0.0.1:0"}, &stdout, io.Discard, slog.New(slog.DiscardHandler))
	}()
	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		m = addr.FindStringSubmatch(stdout.String())
	}
	if m == nil {
		cancel()
		t.Fatalf("no address printed: %q", stdout.String())
	}
	resp, err := http.Get("http://" + m[1] + "/_sim/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ok") {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after cancel, want 0", code)
	}
}
