package logsource

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/cls"
)

// Topics finds each function's CLS log topic: the configured one, or else
// the ClsTopicId SCF's GetFunction reports, looked up once and cached.
type Topics struct {
	caller     Caller
	configured map[FunctionKey]string

	mu     sync.Mutex
	found  map[FunctionKey]cls.Target
	flight singleflight.Group
}

// FunctionKey names a function upstream.
type FunctionKey struct{ Namespace, Name string }

// NewTopics looks topics up with GetFunction through caller, except the
// configured ones.
func NewTopics(caller Caller, configured map[FunctionKey]string) *Topics {
	return &Topics{caller: caller, configured: configured, found: map[FunctionKey]cls.Target{}}
}

// Topic is the topic of t's function. A function without one is an
// *upstream.APIError naming it, which the HTTP edge answers as mudscf's
// misconfiguration.
func (s *Topics) Topic(ctx context.Context, t translate.Target) (cls.Target, error) {
	key := FunctionKey{Namespace: t.Namespace, Name: t.FunctionName}
	if id := s.configured[key]; id != "" {
		return cls.Target{Target: t, TopicID: id, MaxDuration: DefaultCLSMaxDuration}, nil
	}
	s.mu.Lock()
	found, ok := s.found[key]
	s.mu.Unlock()
	if !ok {
		v, err, _ := s.flight.Do(key.Namespace+"\x00"+key.Name, func() (any, error) {
			return s.lookUp(context.WithoutCancel(ctx), key)
		})
		if err != nil {
			return cls.Target{}, err
		}
		found = v.(cls.Target)
	}
	found.Target = t
	return found, nil
}

func (s *Topics) lookUp(ctx context.Context, key FunctionKey) (cls.Target, error) {
	d, err := Describe(ctx, s.caller, translate.Target{FunctionName: key.Name, Namespace: key.Namespace})
	if err != nil {
		return cls.Target{}, err
	}
	if d.TopicID == "" {
		return cls.Target{}, &upstream.APIError{Code: upstream.TopicNotFound, Message: fmt.Sprintf(
			"function %q (namespace %q) delivers no logs to CLS: SCF's GetFunction reports no ClsTopicId; set clsTopicId for it in the proxy's configuration",
			key.Name, key.Namespace)}
	}
	maxDuration := DefaultCLSMaxDuration
	if d.Timeout > 0 {
		maxDuration = d.Timeout
	}
	found := cls.Target{TopicID: d.TopicID, MaxDuration: maxDuration}
	s.mu.Lock()
	s.found[key] = found
	s.mu.Unlock()
	return found, nil
}
