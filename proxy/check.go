package proxy

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mudscf/mudscf/internal/logsource"
	"github.com/mudscf/mudscf/internal/preflight"
	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
)

// checkWindow is the window the checks query: short, so each call is
// cheap, and long enough that a function in use has invocations in it.
const checkWindow = time.Hour

// Checks are the live checks of `mudscf check` for a valid configuration:
// for every project, the calls the proxy makes, each in the smallest window
// and page, through the same chain as the proxy's own (breaker, budgets —
// shared through Redis when the configuration names one — and one
// classification), so that a user finds in seconds what their account
// refuses. A row passes when Tencent accepted the call; its message is
// Tencent's answer. now places the windows.
func Checks(ctx context.Context, cfg Config, logger *slog.Logger, now time.Time) ([]preflight.Check, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	var store *redisstore.Store
	if cfg.Redis != nil {
		if store, err = redisstore.New(ctx, *cfg.Redis, logger, prometheus.NewRegistry()); err != nil {
			return nil, err
		}
	}
	accounts := upstream.NewAccounts(upstream.Options{Upstream: cfg.Upstream, Budget: cfg.Budget, Store: store,
		Registerer: prometheus.NewRegistry()})
	q := translate.Query{Limit: 1, Order: translate.OrderDesc, Since: now.Add(-checkWindow), Until: now}
	var checks []preflight.Check
	seenAccount := map[string]bool{}
	seenTopic := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(cfg.Projects)) {
		pc := cfg.Projects[id]
		caller, err := accounts.Caller(id, pc.Region, pc.Credentials)
		if err != nil {
			checks = append(checks, preflight.Func("project "+id+": credentials", func(context.Context) preflight.Result {
				return preflight.Fail("%v", err)
			}))
			continue
		}
		p := &project{cfg: pc}
		fids := slices.Sorted(maps.Keys(pc.Functions))
		if len(fids) == 0 {
			checks = append(checks, preflight.Func("project "+id, func(context.Context) preflight.Result {
				return preflight.Pass("no listed functions to check (functionIdAsName serves any name)")
			}))
			continue
		}
		first, _ := p.target(fids[0])
		if account := caller.Account() + "|" + pc.Region; !seenAccount[account] {
			seenAccount[account] = true
			checks = append(checks, logsource.CredentialsCheck(id, pc.Region, caller, first))
		}
		topics := logsource.NewTopics(caller, configuredTopics(pc))
		for _, fid := range fids {
			t, _ := p.target(fid)
			name := "project " + id + " function " + fid + " (" + t.FunctionName + ")"
			checks = append(checks, logsource.FunctionCheck(name, caller, t, pc.Source == SourceCLS))
			if pc.Source != SourceCLS {
				checks = append(checks, logsource.GetFunctionLogsChecks(name, caller, t, q, loc)...)
				continue
			}
			checks = append(checks, logsource.CLSChecks(name, caller, topics, t, q, seenTopic)...)
		}
	}
	return checks, nil
}

// configuredTopics are the topics a CLS project names for its functions.
func configuredTopics(pc ProjectConfig) map[logsource.FunctionKey]string {
	topics := map[logsource.FunctionKey]string{}
	for _, f := range pc.Functions {
		if f.ClsTopicID != "" {
			topics[logsource.FunctionKey{Namespace: pc.Namespace, Name: f.Name}] = f.ClsTopicID
		}
	}
	return topics
}
