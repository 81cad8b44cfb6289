package proxy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/logsource"
	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/cls"
)

// ExecutionsRoute is the project route, mudscf's own: a page of the
// executions of every function of a cls project that started in a window,
// each with the Mudbase function ID it belongs to. It is how the exporter
// reads a cls project: one SearchLog call per page over the project's
// topic, instead of one scan per function. A getFunctionLogs project is
// refused (400 CodePerFunctionSource): GetFunctionLogs answers for one
// function at a time.
const ExecutionsRoute = "/api/functions/projects/:projectId/executions"

// CodePerFunctionSource refuses the project route for a project whose
// source answers per function only. The refusal carries the project's
// account alias and its calls per second, so that a client can size its
// per-function polling.
const CodePerFunctionSource = "PER_FUNCTION_SOURCE"

// perFunctionRefusal is the envelope of that refusal.
type perFunctionRefusal struct {
	translate.ErrorBody
	Account        string `json:"account"`
	CallsPerSecond int    `json:"callsPerSecond"`
}

// executionsAnswer is the project route's envelope: Mudbase's, whose
// executions each carry their function ID, with "stats" null, the topics
// the project's functions log to, and the offset of the next page (null
// once the window is read).
type executionsAnswer struct {
	Success bool           `json:"success"`
	Data    executionsData `json:"data"`
}

type executionsData struct {
	Executions []projectExecution `json:"executions"`
	Stats      *translate.Stats   `json:"stats"`
	Topics     []string           `json:"topics"`
	TopicShare int                `json:"topicShare"`
	NextOffset *int64             `json:"nextOffset"`
}

type projectExecution struct {
	translate.Execution
	FunctionID string `json:"functionId"`
}

// topicIDPattern is what a topicId may be: CLS topic IDs are UUIDs, and
// nothing longer or stranger is worth a lookup.
var topicIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// handleExecutions serves ExecutionsRoute: at most one upstream call, in
// the same budgets as every other (background priority for the
// exporter's token), holding at most projectExecutions.topicShare of the
// topic's concurrent queries. limit=0 makes no call: it answers the
// topics alone.
func (s *Server) handleExecutions(c echo.Context, principal jwtauth.Principal, now time.Time) error {
	projectID := c.Param("projectId")
	proj, err := s.readable(projectID, principal)
	if err != nil {
		return err
	}
	src, ok := proj.source.(logsource.ProjectSource)
	if !ok {
		s.setWriteDeadline(c)
		return c.JSON(http.StatusBadRequest, perFunctionRefusal{
			ErrorBody: translate.ErrorBody{Code: CodePerFunctionSource, Error: fmt.Sprintf(
				"project %s reads %s, which answers one function at a time: read its functions' logs (account %s, %d calls per second)",
				projectID, proj.cfg.Source, proj.account, s.cfg.Budget.RequestsPerSecond)},
			Account: proj.account, CallsPerSecond: s.cfg.Budget.RequestsPerSecond,
		})
	}
	if s.now != nil {
		now = s.now()
	}
	q, topicID, err := executionsQuery(c.QueryString(), now)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if principal.Background {
		ctx = budget.WithPriority(ctx, budget.Background)
	}
	groups, err := s.scans.groups(ctx, projectID, proj, src)
	if err != nil {
		return err
	}
	topics := slices.Sorted(maps.Keys(groups))
	answer := executionsAnswer{Success: true, Data: executionsData{Executions: []projectExecution{}, Topics: topics, TopicShare: s.cfg.ProjectExecutions.TopicShare}}
	if q.Limit > 0 {
		g, err := pickTopic(groups, topics, topicID)
		if err != nil {
			return err
		}
		if answer.Data.Executions, answer.Data.NextOffset, err = s.projectPage(ctx, src, g, q); err != nil {
			return err
		}
	}
	s.setWriteDeadline(c)
	return c.JSON(http.StatusOK, answer)
}

// executionsQuery validates the route's query: Mudbase's limit, offset,
// since, until and order, and topicId. The per-function filters would be
// silently ignored on a page of every function, so they are refused.
func executionsQuery(raw string, now time.Time) (translate.Query, string, error) {
	params, err := url.ParseQuery(raw)
	if err != nil {
		return translate.Query{}, "", failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter, "malformed query string: "+err.Error()))
	}
	for _, p := range []string{"status", "requestId", "qualifier"} {
		if params.Has(p) {
			return translate.Query{}, "", failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter,
				"invalid query parameter \""+p+"\": the project route reads every function; filter on the function's own route"))
		}
	}
	topicID := ""
	switch v := params["topicId"]; len(v) {
	case 0:
	case 1:
		if !topicIDPattern.MatchString(v[0]) {
			return translate.Query{}, "", failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter,
				"invalid query parameter \"topicId\": 1 to 128 letters, digits, '-' or '_'"))
		}
		topicID = v[0]
	default:
		return translate.Query{}, "", failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter,
			"invalid query parameter \"topicId\": given more than once"))
	}
	q, err := translate.ParseQuery(params, now)
	var verr *translate.ValidationError
	if errors.As(err, &verr) {
		return translate.Query{}, "", failure(translate.BadRequest(verr))
	}
	return q, topicID, err
}

// pickTopic is the group of topicID, or the project's only topic when
// none is named.
func pickTopic(groups map[string]*topicGroup, topics []string, topicID string) (*topicGroup, error) {
	if topicID == "" {
		if len(topics) == 0 {
			return nil, failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter,
				"this project lists no function and names no clsTopicId: the proxy does not know which topic to read"))
		}
		if len(topics) == 1 {
			return groups[topics[0]], nil
		}
		return nil, failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter, fmt.Sprintf(
			"invalid query parameter \"topicId\": this project's functions log to %d topics (%s); name one", len(topics), strings.Join(topics, ", "))))
	}
	g, ok := groups[topicID]
	if !ok {
		return nil, failure(translate.NewFailure(http.StatusBadRequest, translate.CodeInvalidParameter,
			"invalid query parameter \"topicId\": no function of this project logs to "+topicID))
	}
	return g, nil
}

// projectPage makes the page's one upstream call within the topic's
// share, and gives each report line the function IDs it belongs to; a
// line of no configured function (its name did not fit in the statement)
// is left out, but counted for the next offset.
func (s *Server) projectPage(ctx context.Context, src logsource.ProjectSource, g *topicGroup, q translate.Query) ([]projectExecution, *int64, error) {
	if s.draining.Load() {
		return nil, nil, errDraining
	}
	share := s.scans.share(g.target.TopicID)
	wait, cancel := context.WithTimeout(ctx, s.cfg.Budget.MaxWait)
	err := share.Acquire(wait, 1)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, failure(translate.NewFailure(http.StatusTooManyRequests, translate.CodeRateLimited, fmt.Sprintf(
			"this proxy's share of the topic's queries (projectExecutions.topicShare, %d) is in use; retry after the Retry-After delay", s.cfg.ProjectExecutions.TopicShare)))
	}
	reports, err := src.ProjectPage(ctx, g.target, q)
	share.Release(1)
	if err != nil {
		return nil, nil, err
	}
	out := make([]projectExecution, 0, len(reports))
	for _, r := range reports {
		x := cls.Execution(r.FunctionName, r.Report, "", "")
		for _, id := range g.functionIDs(r) {
			out = append(out, projectExecution{Execution: x, FunctionID: id})
		}
	}
	var next *int64
	if int64(len(reports)) == q.Limit {
		next = new(q.Offset + q.Limit)
	}
	return out, next, nil
}

// topicGroup is the functions of a project that log to one topic.
type topicGroup struct {
	target cls.ProjectTarget
	// byName are the configured function IDs of each Tencent name, with
	// the qualifier each reads ("" for every version).
	byName map[string][]functionRef
	// open: the project serves unlisted functions by their name
	// (functionIdAsName), so every function of the namespace is its own,
	// unless its name is the ID of a configured one.
	open         bool
	configuredID map[string]bool
}

type functionRef struct{ id, qualifier string }

// functionIDs are the IDs under which the project's function route would
// serve r: each configured ID of its name whose qualifier it ran (or that
// reads every version), and with functionIdAsName its name itself, unless
// that is a configured ID of another function.
func (g *topicGroup) functionIDs(r cls.ProjectReport) []string {
	var ids []string
	for _, f := range g.byName[r.FunctionName] {
		if f.qualifier == "" || f.qualifier == r.Qualifier || f.qualifier == r.Alias {
			ids = append(ids, f.id)
		}
	}
	if g.open && translate.ValidateID("functionId", r.FunctionName) == nil && !g.configuredID[r.FunctionName] {
		ids = append(ids, r.FunctionName)
	}
	return ids
}

// projectScans keeps, per project, where its functions log (found once,
// then kept: topics are looked up through GetFunction), and per topic the
// route's share of its queries.
type projectScans struct {
	topicShare int
	// timeout bounds one batch of topic lookups.
	timeout time.Duration
	flights singleflight.Group

	mu     sync.Mutex
	byProj map[string]map[string]*topicGroup
	shares map[string]*semaphore.Weighted
}

func newProjectScans(topicShare int, timeout time.Duration) *projectScans {
	return &projectScans{topicShare: topicShare, timeout: timeout,
		byProj: map[string]map[string]*topicGroup{}, shares: map[string]*semaphore.Weighted{}}
}

func (p *projectScans) share(topic string) *semaphore.Weighted {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.shares[topic]
	if !ok {
		s = semaphore.NewWeighted(int64(p.topicShare))
		p.shares[topic] = s
	}
	return s
}

// lookUps bounds the topic lookups one project's resolution runs at once;
// GetFunction's own budget (100 calls per second) bounds them further.
const lookUps = 16

// groups are the project's functions by topic: the function's
// clsTopicId, else the project's, else GetFunction's answer. With
// functionIdAsName the project's clsTopicId holds its unlisted functions
// too. One resolution per project runs at a time, on its own deadline, so
// a client hanging up does not fail the others; a failed one is tried
// again by the next request, and the topics it found are kept by the
// source.
func (p *projectScans) groups(ctx context.Context, projectID string, proj *project, src logsource.ProjectSource) (map[string]*topicGroup, error) {
	p.mu.Lock()
	g, ok := p.byProj[projectID]
	p.mu.Unlock()
	if ok {
		return g, nil
	}
	ch := p.flights.DoChan(projectID, func() (any, error) {
		n := len(proj.cfg.Functions)/lookUps + 1
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(n)*p.timeout)
		defer cancel()
		g, err := resolveGroups(rctx, proj, src)
		if err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.byProj[projectID] = g
		p.mu.Unlock()
		return g, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[string]*topicGroup), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func resolveGroups(ctx context.Context, proj *project, src logsource.ProjectSource) (map[string]*topicGroup, error) {
	ids := slices.Sorted(maps.Keys(proj.cfg.Functions))
	targets := make([]cls.Target, len(ids))
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(lookUps)
	for i, id := range ids {
		eg.Go(func() error {
			t, _ := proj.target(id)
			ct, err := src.Topic(ectx, t)
			targets[i] = ct
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	configured := map[string]bool{}
	for _, id := range ids {
		configured[id] = true
	}
	groups := map[string]*topicGroup{}
	group := func(topic string) *topicGroup {
		g, ok := groups[topic]
		if !ok {
			g = &topicGroup{target: cls.ProjectTarget{TopicID: topic, Namespace: proj.cfg.Namespace},
				byName: map[string][]functionRef{}, open: proj.cfg.FunctionIDAsName, configuredID: configured}
			groups[topic] = g
		}
		return g
	}
	if proj.cfg.FunctionIDAsName && proj.cfg.ClsTopicID != "" {
		group(proj.cfg.ClsTopicID).target.MaxDuration = logsource.DefaultCLSMaxDuration
	}
	for i, id := range ids {
		g := group(targets[i].TopicID)
		g.byName[targets[i].FunctionName] = append(g.byName[targets[i].FunctionName], functionRef{id: id, qualifier: targets[i].Qualifier})
		g.target.MaxDuration = max(g.target.MaxDuration, targets[i].MaxDuration)
	}
	for _, g := range groups {
		if !g.open {
			g.target.Names = slices.Sorted(maps.Keys(g.byName))
		}
	}
	return groups, nil
}
