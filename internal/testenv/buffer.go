package testenv

import (
	"bytes"
	"regexp"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a buffer a server under test writes (its log, its stdout)
// while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// wrote is closed, and replaced, at each write: a waiter wakes on
	// what is written rather than polling on a timer.
	wrote chan struct{}
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wrote != nil {
		close(s.wrote)
		s.wrote = nil
	}
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitForGuard bounds WaitFor: a guard against a program that never
// prints what is awaited, not a measure of how fast it does.
const waitForGuard = time.Minute

// WaitFor returns want's submatches once what was written matches it,
// checking at each write; the test fails if nothing matches within a
// minute.
func (s *SyncBuffer) WaitFor(t testing.TB, want *regexp.Regexp) []string {
	t.Helper()
	guard := time.After(waitForGuard)
	for {
		s.mu.Lock()
		m := want.FindStringSubmatch(s.b.String())
		if s.wrote == nil {
			s.wrote = make(chan struct{})
		}
		wrote := s.wrote
		s.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-wrote:
		case <-guard:
			t.Fatalf("nothing written matched %s within %s: %q", want, waitForGuard, s.String())
			return nil
		}
	}
}
