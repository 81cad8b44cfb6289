package upstream

import (
	"context"
	"errors"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// SearchLogCaller makes one SearchLog call. *CLSClient is one; the budgets
// and the breaker wrap it.
type SearchLogCaller interface {
	SearchLog(ctx context.Context, req translate.SearchLogRequest) (translate.SearchLogResponse, error)
}

// CLSSource is the LogSource backed by CLS, where SCF delivers every
// function's logs since 2021, for one account in one region.
//
// A page is ordered by start time and reaches Mudbase's offset exactly
// through SQL's LIMIT offset, n over the invocations' report lines: raw
// logs come in the order they were written (an invocation's report line
// when it ended), which is not the order of starts, and Context cursors
// would have to be remembered per query and per replica. A page costs
// one call for its total, one for its invocations and one per 100 of
// them for their return values; stats cost one SQL call.
type CLSSource struct {
	caller SearchLogCaller
	topics *Topics
	loc    *time.Location
}

// NewCLSSource returns a LogSource that calls caller on the topics of
// topics, and reads and writes times in loc.
func NewCLSSource(caller SearchLogCaller, topics *Topics, loc *time.Location) *CLSSource {
	return &CLSSource{caller: caller, topics: topics, loc: loc}
}

// Page costs up to three upstream calls (see CLSSource).
func (s *CLSSource) Page(ctx context.Context, t translate.Target, q translate.Query) (Page, error) {
	ct, err := s.topics.Topic(ctx, t)
	if err != nil {
		return Page{}, err
	}
	var total int64
	var reports []translate.CLSReport
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		resp, err := s.caller.SearchLog(gctx, q.CLSCount(ct))
		if err != nil {
			return err
		}
		total, err = translate.CLSCountOf(resp)
		return badResponse(err)
	})
	g.Go(func() error {
		resp, err := s.caller.SearchLog(gctx, q.CLSPage(ct))
		if err != nil {
			return err
		}
		reports, err = translate.CLSReportsOf(resp)
		return badResponse(err)
	})
	if err := g.Wait(); err != nil {
		return Page{}, err
	}
	ids := make([]string, len(reports))
	for i, r := range reports {
		ids[i] = r.RequestID
	}
	var answers []translate.SearchLogResponse
	for _, req := range q.CLSResponses(ct, ids) {
		resp, err := s.caller.SearchLog(ctx, req)
		if err != nil {
			return Page{}, err
		}
		answers = append(answers, resp)
	}
	retMsgs := translate.CLSRetMsgsOf(answers)
	page := Page{Executions: make([]translate.Execution, len(reports)), Total: total}
	for i, r := range reports {
		page.Executions[i] = translate.NewCLSExecution(t.FunctionName, r, retMsgs[r.RequestID], s.loc)
	}
	return page, nil
}

// Stats costs one upstream call: exact over the whole window.
func (s *CLSSource) Stats(ctx context.Context, t translate.Target, q translate.Query) (translate.Stats, error) {
	ct, err := s.topics.Topic(ctx, t)
	if err != nil {
		return translate.Stats{}, err
	}
	resp, err := s.caller.SearchLog(ctx, q.CLSStats(ct))
	if err != nil {
		return translate.Stats{}, err
	}
	st, err := translate.CLSStatsOf(resp)
	return st, badResponse(err)
}

// badResponse marks an answer mudscf cannot read.
func badResponse(err error) error {
	if err == nil {
		return nil
	}
	return &TransportError{Outcome: BadResponse, Err: err}
}

// TopicConcurrencyExceeded is CLS's error for a query beyond a topic's
// concurrency limit.
const TopicConcurrencyExceeded = "LimitExceeded.LogSearch"

// searchLogConcurrency is Tencent's documented limit of concurrent
// SearchLog queries on one log topic.
const searchLogConcurrency = 15

// searchLogPerSecond is Tencent's documented limit of SearchLog calls per
// second.
const searchLogPerSecond = 10000

// budgetedSearch is SearchLog within its budgets: a slot of the topic's
// concurrency limit, then one of the account's rate.
type budgetedSearch struct {
	next    SearchLogCaller
	rate    *budgeted
	topicOf func(topic string) *budgeted
}

func (c budgetedSearch) SearchLog(ctx context.Context, req translate.SearchLogRequest) (resp translate.SearchLogResponse, err error) {
	err = c.topicOf(req.TopicId).do(ctx, func(ctx context.Context) error {
		g, _, err := c.rate.budget.Acquire(ctx, budget.PriorityOf(ctx))
		if err != nil {
			return err
		}
		resp, err = c.next.SearchLog(ctx, req)
		if isCode(err, "RequestLimitExceeded") {
			c.rate.budget.Pause(c.rate.backoff)
		}
		g.Done(time.Now())
		return err
	})
	return resp, err
}

// guardedSource passes a whole page, or the stats, through the breaker as
// one call. A CLS page is several queries, two of them at once: guarded
// one by one, the half-open breaker's single probe was one query of a page
// whose other query it refused, the refusal cancelled the probe, and a
// cancelled probe counts neither way, so the breaker never closed again
// (every request was a 503 while the upstream was healthy). Guarded
// together, a page is the probe, and the topic lookup behind it (SCF's
// GetFunction) is guarded too.
type guardedSource struct {
	next  LogSource
	guard *guard
}

func (s guardedSource) Page(ctx context.Context, t translate.Target, q translate.Query) (p Page, err error) {
	err = s.guard.do(ctx, func() error {
		p, err = s.next.Page(ctx, t, q)
		return err
	})
	return p, err
}

func (s guardedSource) Stats(ctx context.Context, t translate.Target, q translate.Query) (st translate.Stats, err error) {
	err = s.guard.do(ctx, func() error {
		st, err = s.next.Stats(ctx, t, q)
		return err
	})
	return st, err
}

func isCode(err error, prefix string) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && strings.HasPrefix(apiErr.Code, prefix)
}
