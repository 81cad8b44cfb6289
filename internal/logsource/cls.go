package logsource

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/cls"
)

// clsSource is the LogSource backed by CLS, where SCF delivers every
// function's logs since 2021, for one account in one region.
//
// A page is ordered by start time and reaches Mudbase's offset exactly
// through SQL paging over the invocations' report lines: raw logs come in
// the order they were written (an invocation's report line when it ended),
// which is not the order of starts, and Context cursors would have to be
// remembered per query and per replica. A page costs one call for its
// total and one for its invocations, made together, then, over the span of
// the page's own starts, the calls for their return values and log text:
// one per batch of invocations that fits in a 12 KB statement (about 200),
// and with log text up to maxCallsPerBatch each. Stats cost one SQL call.
type clsSource struct {
	caller Caller
	topics *Topics
}

// NewCLS is the source of a cls project: each function's topic from topics.
func NewCLS(caller Caller, topics *Topics) LogSource {
	return clsSource{caller: caller, topics: topics}
}

// search makes one SearchLog call on t's topic.
func (s clsSource) search(ctx context.Context, t cls.Target, req cls.SearchLogRequest) (json.RawMessage, error) {
	return s.caller.Call(ctx, upstream.SearchLog, t.TopicID, req)
}

// Page costs up to three upstream calls (see clsSource).
func (s clsSource) Page(ctx context.Context, t translate.Target, q translate.Query) (translate.Page, error) {
	ct, err := s.topics.Topic(ctx, t)
	if err != nil {
		return translate.Page{}, err
	}
	var total int64
	var reports []cls.Report
	err = upstream.Together(
		func() error {
			answer, err := s.search(ctx, ct, cls.CountRequest(q, ct))
			if err != nil {
				return err
			}
			total, err = cls.ReadCount(answer)
			return badResponse(err)
		},
		func() error {
			answer, err := s.search(ctx, ct, cls.PageRequest(q, ct))
			if err != nil {
				return err
			}
			reports, err = cls.ReadReports(answer)
			return badResponse(err)
		})
	if err != nil {
		return translate.Page{}, err
	}
	page := translate.Page{Executions: make([]translate.Execution, len(reports)), Total: total}
	if len(reports) == 0 {
		return page, nil
	}
	ids := make([]string, len(reports))
	first, last := reports[0].StartMs, reports[0].StartMs
	for i, r := range reports {
		ids[i] = r.RequestID
		first, last = min(first, r.StartMs), max(last, r.StartMs)
	}
	lines, err := s.lines(ctx, q, ct, ids, first, last)
	if err != nil {
		return translate.Page{}, err
	}
	for i, r := range reports {
		var log string
		if !q.SkipLog {
			log = lines.Log(r.RequestID)
		}
		page.Executions[i] = cls.Execution(t.FunctionName, r, lines.RetMsg(r.RequestID), log)
	}
	return page, nil
}

// maxCallsPerBatch bounds the calls one batch of log lines may take: a
// batch of invocations whose lines CLS gives in more than this many
// answers of 1000 has the rest of its log text cut (and said so).
const maxCallsPerBatch = 3

// lines fetches the response lines, and unless q skips it the log text, of
// the invocations ids, which started in [first, last] (ms): only over that
// span, one batch after another (a page's queries do not crowd the topic's
// 15 slots, which it shares with every other reader).
func (s clsSource) lines(ctx context.Context, q translate.Query, ct cls.Target, ids []string, first, last int64) (*cls.Lines, error) {
	lines := cls.NewLines(ct, ids)
	for _, req := range cls.LinesRequests(q, ct, ids, first, last, !q.SkipLog) {
		for call := 0; call < maxCallsPerBatch; call++ {
			answer, err := s.search(ctx, ct, req)
			if err != nil {
				return nil, err
			}
			next, err := lines.Add(req, answer)
			if err != nil {
				return nil, badResponse(err)
			}
			if next == nil {
				break
			}
			req = *next
		}
	}
	return lines, nil
}

// Calls: a page is its count and its report lines, then a batch of its
// invocations' lines per cls.IDsPerCall of them, each batch one call, or
// up to maxCallsPerBatch with log text; stats are one call. The topic's
// lookup (GetFunction) is made once per function, and not counted.
func (s clsSource) Calls(q translate.Query) (page, stats int) {
	if q.Limit == 0 {
		return 0, 1
	}
	batches := int((q.Limit + cls.IDsPerCall - 1) / cls.IDsPerCall)
	perBatch := maxCallsPerBatch
	if q.SkipLog {
		perBatch = 1
	}
	return 2 + batches*perBatch, 1
}

// Stats costs one upstream call: exact over the whole window.
func (s clsSource) Stats(ctx context.Context, t translate.Target, q translate.Query) (translate.Stats, error) {
	ct, err := s.topics.Topic(ctx, t)
	if err != nil {
		return translate.Stats{}, err
	}
	answer, err := s.search(ctx, ct, cls.StatsRequest(q, ct))
	if err != nil {
		return translate.Stats{}, err
	}
	st, err := cls.ReadStats(answer)
	return st, badResponse(err)
}

// DefaultCLSMaxDuration is how long after its start an invocation of a
// function whose topic is configured (so not looked up, timeout included)
// may still write its last lines: SCF's longest timeout for event
// functions, 900 s.
const DefaultCLSMaxDuration = 900 * time.Second

// ProjectSource is a LogSource that also reads whole projects: where each
// function logs, and a page of the report lines of every function of a
// project in one topic (the exporter's scan, through the proxy's project
// route).
type ProjectSource interface {
	LogSource
	Topic(ctx context.Context, t translate.Target) (cls.Target, error)
	ProjectPage(ctx context.Context, t cls.ProjectTarget, q translate.Query) ([]cls.ProjectReport, error)
}

// Topic is the CLS topic of t's function (see Topics.Topic).
func (s clsSource) Topic(ctx context.Context, t translate.Target) (cls.Target, error) {
	return s.topics.Topic(ctx, t)
}

// ProjectPage costs one upstream call, whatever the page's size: it reads
// report lines only (see cls.ProjectPageRequest). Lines of functions that
// t does not name may come back when its names did not fit in the
// statement; the caller keeps those it serves.
func (s clsSource) ProjectPage(ctx context.Context, t cls.ProjectTarget, q translate.Query) ([]cls.ProjectReport, error) {
	req, _ := cls.ProjectPageRequest(q, t)
	answer, err := s.caller.Call(ctx, upstream.SearchLog, t.TopicID, req)
	if err != nil {
		return nil, err
	}
	reports, err := cls.ReadProjectReports(answer)
	return reports, badResponse(err)
}
