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
	Function string
	Status   int
	Code     string
	Message  string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.Function, e.Status, e.Code, e.Message)
}

// client reads the Mudbase logs API.
type client struct {
	base   string
	http   *http.Client
	tokens *tokenSource
}

type page struct {
	Executions []translate.Execution
	Stats      translate.Stats
}

type query struct {
	limit, offset int
	since, until  time.Time // zero: the endpoint's default window
}

func (c *client) logs(ctx context.Context, f FunctionConfig, q query) (page, error) {
	v := url.Values{}
	v.Set("limit", strconv.Itoa(q.limit))
	v.Set("offset", strconv.Itoa(q.offset))
	if !q.since.IsZero() {
		// Pages need no stats and no log text (on CLS both cost upstream
		// calls); a Mudbase endpoint ignores the parameters.
		v.Set("stats", "false")
		v.Set("log", "false")
		v.Set("order", translate.OrderDesc)
		v.Set("since", q.since.UTC().Format(time.RFC3339))
		v.Set("until", q.until.UTC().Format(time.RFC3339))
	}
	u := c.base + "/api/functions/projects/" + url.PathEscape(f.Project) + "/functions/" + url.PathEscape(f.Function) + "/logs?" + v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return page{}, err
	}
	tok, err := c.tokens.token()
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return page{}, fmt.Errorf("reading %s: %w", f.key(), err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return page{}, &ThrottledError{RetryAfter: time.Duration(max(secs, 1)) * time.Second}
	case resp.StatusCode != http.StatusOK:
		var e translate.ErrorBody
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return page{}, &RefusedError{Function: f.key(), Status: resp.StatusCode, Code: e.Code, Message: e.Error}
		}
		return page{}, fmt.Errorf("%s: HTTP %d %s: %s", f.key(), resp.StatusCode, e.Code, e.Error)
	}
	var out translate.LogsResponse
	if err := json.Unmarshal(body, &out); err != nil {
		return page{}, fmt.Errorf("%s: decoding the logs: %w", f.key(), err)
	}
	if !out.Success {
		return page{}, fmt.Errorf("%s: the endpoint answered success=false", f.key())
	}
	return page{Executions: out.Data.Executions, Stats: out.Data.Stats}, nil
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
