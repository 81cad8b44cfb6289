package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/secret"
	"github.com/mudscf/mudscf/translate"
)

// maxBody bounds what the exporter reads from one answer (10,000
// executions with logs would be well under this).
const maxBody = 64 << 20

// ThrottledError is a 429: the endpoint's budget is spent for now.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled by the endpoint; retry after %s", e.RetryAfter)
}

// RefusedError is an answer in 4xx other than 429: the endpoint refuses
// the query itself, so asking the same again is pointless.
type RefusedError struct {
	What    string // the function or project asked for
	Status  int
	Code    string
	Message string
	// Account and CallsPerSecond come with the proxy's refusal of the
	// project route for a project read one function at a time.
	Account        string
	CallsPerSecond int
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.What, e.Status, e.Code, e.Message)
}

// codePerFunctionSource is the proxy's refusal of the project route for a
// project whose source answers one function at a time
// (proxy.CodePerFunctionSource).
const codePerFunctionSource = "PER_FUNCTION_SOURCE"

// client reads the Mudbase logs API, and the proxy's project route.
type client struct {
	base   string
	http   *http.Client
	tokens *tokenSource
}

// execution is one execution of a page and the function it belongs to.
type execution struct {
	translate.Execution
	FunctionID string `json:"functionId"`
}

// page is one answer: its executions; from the project route, the
// topics the project's functions log to and the offset of the next page
// (nil once the window is read).
type page struct {
	Executions []execution
	Topics     []string
	TopicShare int
	NextOffset *int64
}

type query struct {
	limit, offset int
	since, until  time.Time // zero: the endpoint's default window
}

// values are q's parameters, newest first.
func (q query) values() url.Values {
	v := url.Values{}
	v.Set("limit", strconv.Itoa(q.limit))
	v.Set("offset", strconv.Itoa(q.offset))
	if !q.since.IsZero() {
		v.Set("order", translate.OrderDesc)
		v.Set("since", q.since.UTC().Format(time.RFC3339))
		v.Set("until", q.until.UTC().Format(time.RFC3339))
	}
	return v
}

// functionPage is a page of one function's executions. It asks for no
// stats and no log text (on CLS both cost upstream calls); a Mudbase
// endpoint ignores the parameters.
func (c *client) functionPage(ctx context.Context, project, function string, q query) (page, error) {
	v := q.values()
	v.Set("stats", "false")
	v.Set("log", "false")
	what := project + "/" + function
	var out translate.LogsResponse
	if err := c.get(ctx, what, "/api/functions/projects/"+url.PathEscape(project)+"/functions/"+url.PathEscape(function)+"/logs?"+v.Encode(), &out); err != nil {
		return page{}, err
	}
	if !out.Success {
		return page{}, fmt.Errorf("%s: the endpoint answered success=false", what)
	}
	p := page{Executions: make([]execution, len(out.Data.Executions))}
	for i, x := range out.Data.Executions {
		p.Executions[i] = execution{Execution: x, FunctionID: function}
	}
	return p, nil
}

// projectAnswer is the proxy's project route's envelope.
type projectAnswer struct {
	Success bool `json:"success"`
	Data    struct {
		Executions []execution `json:"executions"`
		Topics     []string    `json:"topics"`
		TopicShare int         `json:"topicShare"`
		NextOffset *int64      `json:"nextOffset"`
	} `json:"data"`
}

// projectPage is a page of the executions of every function of project
// that log to topic ("": the project's only one); limit 0 asks for its
// topics alone.
func (c *client) projectPage(ctx context.Context, project, topic string, q query) (page, error) {
	v := q.values()
	if topic != "" {
		v.Set("topicId", topic)
	}
	var out projectAnswer
	if err := c.get(ctx, project, "/api/functions/projects/"+url.PathEscape(project)+"/executions?"+v.Encode(), &out); err != nil {
		return page{}, err
	}
	if !out.Success {
		return page{}, fmt.Errorf("%s: the endpoint answered success=false", project)
	}
	for _, x := range out.Data.Executions {
		if translate.ValidateID("functionId", x.FunctionID) != nil {
			return page{}, fmt.Errorf("%s: an execution of function %.64q, which is no function ID", project, x.FunctionID)
		}
	}
	return page{Executions: out.Data.Executions, Topics: out.Data.Topics, TopicShare: out.Data.TopicShare, NextOffset: out.Data.NextOffset}, nil
}

// refusalBody is the error envelope, with the extras of the proxy's
// refusal of the project route.
type refusalBody struct {
	translate.ErrorBody
	Account        string `json:"account"`
	CallsPerSecond int    `json:"callsPerSecond"`
}

// get reads path into out, or returns the endpoint's refusal.
func (c *client) get(ctx context.Context, what, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	tok, err := c.tokens.token()
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &ThrottledError{RetryAfter: time.Duration(max(secs, 1)) * time.Second}
	case resp.StatusCode != http.StatusOK:
		var e refusalBody
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return &RefusedError{What: what, Status: resp.StatusCode, Code: e.Code, Message: e.Error,
				Account: e.Account, CallsPerSecond: e.CallsPerSecond}
		}
		return fmt.Errorf("%s: HTTP %d %s: %s", what, resp.StatusCode, e.Code, e.Error)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", what, err)
	}
	return nil
}

// tokenSource yields the bearer token: read from a file or variable, or
// minted from the shared HS256 secret with a short lifetime.
type tokenSource struct {
	cfg      AuthConfig
	projects []string
	now      func() time.Time // minted tokens' iat and exp are wall-clock times

	mu      sync.Mutex
	current string
	expires time.Time
	modTime time.Time
}

const mintedTTL = 10 * time.Minute

func (s *tokenSource) token() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cfg.TokenEnv != "":
		v, err := secret.Read(s.cfg.TokenEnv, "")
		if err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
		return strings.TrimSpace(v), nil
	case s.cfg.TokenFile != "":
		st, err := os.Stat(s.cfg.TokenFile)
		if err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
		if s.current == "" || !st.ModTime().Equal(s.modTime) {
			v, err := secret.Read("", s.cfg.TokenFile)
			if err != nil {
				return "", fmt.Errorf("auth: %w", err)
			}
			s.current, s.modTime = v, st.ModTime()
		}
		return s.current, nil
	}
	now := s.now()
	if s.current != "" && now.Before(s.expires.Add(-mintedTTL/2)) {
		return s.current, nil
	}
	key, err := secret.Read(s.cfg.JWTSecretEnv, s.cfg.JWTSecretFile)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	tok, err := jwtauth.MintToken([]byte(key), jwtauth.Config{ProjectsClaim: s.cfg.ProjectsClaim, RolesClaim: s.cfg.RolesClaim},
		jwtauth.TokenClaims{Subject: s.cfg.Subject, Roles: []string{s.cfg.Role}, Projects: s.projects, TTL: mintedTTL}, now)
	if err != nil {
		return "", err
	}
	s.current, s.expires = tok, now.Add(mintedTTL)
	return tok, nil
}
