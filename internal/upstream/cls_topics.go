package upstream

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/mudscf/mudscf/translate"
)

// DefaultCLSMaxDuration is how long after its start an invocation of a
// function whose topic is configured (so not looked up, timeout included)
// may still write its last lines: SCF's longest timeout for event
// functions, 900 s.
const DefaultCLSMaxDuration = 900 * time.Second

// FunctionDescriber says what SCF's GetFunction says of a function.
// *Describer is one.
type FunctionDescriber interface {
	Describe(ctx context.Context, name, namespace, qualifier string) (FunctionDetails, error)
}

// Topics finds each function's CLS log topic: the configured one, or else
// the ClsTopicId SCF's GetFunction reports, looked up once and cached.
type Topics struct {
	describer  FunctionDescriber
	configured map[FunctionKey]string

	mu     sync.Mutex
	found  map[FunctionKey]translate.CLSTarget
	flight singleflight.Group
}

// FunctionKey names a function upstream.
type FunctionKey struct{ Namespace, Name string }

// NewTopics looks topics up with describer, except the configured ones.
func NewTopics(describer FunctionDescriber, configured map[FunctionKey]string) *Topics {
	return &Topics{describer: describer, configured: configured, found: map[FunctionKey]translate.CLSTarget{}}
}

// Topic is the topic of t's function. A function without one is an
// *APIError naming it, which the HTTP edge answers as mudscf's
// misconfiguration.
func (s *Topics) Topic(ctx context.Context, t translate.Target) (translate.CLSTarget, error) {
	key := FunctionKey{Namespace: t.Namespace, Name: t.FunctionName}
	if id := s.configured[key]; id != "" {
		return translate.CLSTarget{Target: t, TopicID: id, MaxDuration: DefaultCLSMaxDuration}, nil
	}
	s.mu.Lock()
	found, ok := s.found[key]
	s.mu.Unlock()
	if !ok {
		v, err, _ := s.flight.Do(key.Namespace+"\x00"+key.Name, func() (any, error) {
			return s.lookUp(context.WithoutCancel(ctx), key)
		})
		if err != nil {
			return translate.CLSTarget{}, err
		}
		found = v.(translate.CLSTarget)
	}
	found.Target = t
	return found, nil
}

func (s *Topics) lookUp(ctx context.Context, key FunctionKey) (translate.CLSTarget, error) {
	d, err := s.describer.Describe(ctx, key.Name, key.Namespace, "")
	if err != nil {
		return translate.CLSTarget{}, err
	}
	if d.ClsTopicId == "" {
		return translate.CLSTarget{}, &APIError{Code: TopicNotFound, Message: fmt.Sprintf(
			"function %q (namespace %q) delivers no logs to CLS: SCF's GetFunction reports no ClsTopicId; set clsTopicId for it in the proxy's configuration",
			key.Name, key.Namespace)}
	}
	maxDuration := DefaultCLSMaxDuration
	if d.Timeout > 0 {
		maxDuration = time.Duration(d.Timeout) * time.Second
	}
	found := translate.CLSTarget{TopicID: d.ClsTopicId, MaxDuration: maxDuration}
	s.mu.Lock()
	s.found[key] = found
	s.mu.Unlock()
	return found, nil
}

// TopicNotFound is the code of a function without a CLS topic, whether
// SCF reports none or CLS does not know the one reported.
const TopicNotFound = "ResourceNotFound.TopicNotExist"
