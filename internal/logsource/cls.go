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
// total and one for its invocations, made together, then one per 100 of
// them for their return values; stats cost one SQL call.
type clsSource struct {
	caller Caller
	topics *Topics
}

// NewCLS is the source of a cls project: each function's topic from topics.
func NewCLS(caller Caller, topics *Topics) LogSource {
	return clsSource{caller: caller, topics: topics}
}

// search makes one SearchLog call on t's topic.
func (s clsSource) search(ctx context.Context, t cls.Target, req any) (json.RawMessage, error) {
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
	ids := make([]string, len(reports))
	for i, r := range reports {
		ids[i] = r.RequestID
	}
	var answers []json.RawMessage
	for _, req := range cls.ResponsesRequests(q, ct, ids) {
		answer, err := s.search(ctx, ct, req)
		if err != nil {
			return translate.Page{}, err
		}
		answers = append(answers, answer)
	}
	retMsgs, err := cls.ReadRetMsgs(answers)
	if err != nil {
		return translate.Page{}, badResponse(err)
	}
	page := translate.Page{Executions: make([]translate.Execution, len(reports)), Total: total}
	for i, r := range reports {
		page.Executions[i] = cls.Execution(t.FunctionName, r, retMsgs[r.RequestID])
	}
	return page, nil
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
