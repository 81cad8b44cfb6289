package logsource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/preflight"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/translate/cls"
	"github.com/mudscf/mudscf/translate/scf"
)

// The rows of `mudscf check` for one function: each call a source makes,
// made alone in the smallest window and page, through the caller's chain
// (breaker, budgets, one classification), so that a user sees which of
// them their account refuses and Tencent's words for it.

// answer is a row's message for a call's error: Tencent's code, what it
// means and Tencent's own words (for an operator, unlike a client's answer),
// or what happened on the way.
func answer(err error) preflight.Result {
	var apiErr *upstream.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.Message
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return preflight.Fail("%s: %s (RequestId %s)\nTencent: %s", apiErr.Code, apiErr.Explain(), apiErr.RequestID, msg)
	}
	return preflight.Fail("%s: %v", upstream.Classify(err), err)
}

// CredentialsCheck signs one call with the account's key: anything but an
// AuthFailure says the key is good.
func CredentialsCheck(project, region string, caller *upstream.Caller, t translate.Target) preflight.Check {
	name := fmt.Sprintf("credentials of account %s in %s (project %s)", caller.Account(), region, project)
	return preflight.Func(name, func(ctx context.Context) preflight.Result {
		_, err := Describe(ctx, caller, t)
		switch o := upstream.Classify(err); o {
		case upstream.OK, upstream.NotFound, upstream.PermissionDenied, upstream.Misconfigured:
			if err != nil {
				var apiErr *upstream.APIError
				errors.As(err, &apiErr)
				return preflight.Pass("signed calls are accepted (GetFunction answered %s)", apiErr.Code)
			}
			return preflight.Pass("signed calls are accepted")
		default:
			return answer(err)
		}
	})
}

// FunctionCheck looks the function up with GetFunction: it exists, and on
// a CLS project delivers its logs to a topic.
func FunctionCheck(name string, caller *upstream.Caller, t translate.Target, needsTopic bool) preflight.Check {
	return preflight.Func(name+": GetFunction", func(ctx context.Context) preflight.Result {
		f, err := Describe(ctx, caller, t)
		if err != nil {
			return answer(err)
		}
		msg := fmt.Sprintf("memory %d MB, timeout %s", f.MemoryBytes>>20, f.Timeout)
		if f.TopicID != "" {
			msg += ", logs to CLS topic " + f.TopicID
		} else if needsTopic {
			msg += ", logs to no CLS topic (set clsTopicId for it, or turn log delivery on)"
		}
		return preflight.Pass("%s", msg)
	})
}

// GetFunctionLogsChecks make a getFunctionLogs project's calls: a page,
// the stats' two calls, and GetRequestStatus for one request ID.
func GetFunctionLogsChecks(name string, caller *upstream.Caller, t translate.Target, q translate.Query, loc *time.Location) []preflight.Check {
	src := NewGetFunctionLogs(caller, loc)
	var lastID string
	return []preflight.Check{
		preflight.Func(name+": GetFunctionLogs page", func(ctx context.Context) preflight.Result {
			page, err := src.Page(ctx, t, q)
			if err != nil {
				return answer(err)
			}
			if len(page.Executions) > 0 {
				lastID = page.Executions[0].RequestID
			}
			return preflight.Pass("%d executions in the last hour", page.Total)
		}),
		preflight.Func(name+": GetFunctionLogs stats", func(ctx context.Context) preflight.Result {
			st, err := src.Stats(ctx, t, q)
			if err != nil {
				return answer(err)
			}
			return preflight.Pass("%d executions, %.2f%% successful", st.TotalExecutions, st.SuccessRate)
		}),
		preflight.Func(name+": GetRequestStatus", func(ctx context.Context) preflight.Result {
			byID := q
			byID.RequestID = lastID
			if lastID == "" {
				byID.RequestID = "00000000-0000-0000-0000-000000000000"
			}
			answerRaw, err := caller.Call(ctx, upstream.GetRequestStatus, "", scf.RequestStatusRequest(byID, t, loc))
			if err != nil {
				return answer(err)
			}
			page, err := scf.RequestStatusPage(answerRaw, byID, loc)
			if err != nil {
				return preflight.Fail("an answer mudscf cannot read: %v", err)
			}
			return preflight.Pass("%d execution(s) with request ID %s", page.Total, byID.RequestID)
		}),
	}
}

// CLSChecks read the topic's index (once per topic) and make each
// SearchLog form a cls project sends.
func CLSChecks(name string, caller *upstream.Caller, topics *Topics, t translate.Target, q translate.Query, seenTopic map[string]bool) []preflight.Check {
	var ct cls.Target
	var ids []string
	var first, last int64
	topic := func(ctx context.Context) (cls.Target, error) {
		if ct.TopicID != "" {
			return ct, nil
		}
		var err error
		ct, err = topics.Topic(ctx, t)
		return ct, err
	}
	search := func(what string, req func(cls.Target) cls.SearchLogRequest, read func([]byte) (string, error)) preflight.Check {
		return preflight.Func(name+": SearchLog "+what, func(ctx context.Context) preflight.Result {
			ct, err := topic(ctx)
			if err != nil {
				return answer(err)
			}
			r := req(ct)
			raw, err := caller.Call(ctx, upstream.SearchLog, ct.TopicID, r)
			if err != nil {
				return answer(err)
			}
			msg, err := read(raw)
			if err != nil {
				return preflight.Fail("an answer mudscf cannot read: %v", err)
			}
			return preflight.Pass("%s", msg)
		})
	}
	checks := []preflight.Check{preflight.Func(name+": topic's index (DescribeIndex)", func(ctx context.Context) preflight.Result {
		ct, err := topic(ctx)
		if err != nil {
			return answer(err)
		}
		if seenTopic[ct.TopicID] {
			return preflight.Pass("topic %s: checked above", ct.TopicID)
		}
		seenTopic[ct.TopicID] = true
		raw, err := caller.Call(ctx, upstream.DescribeIndex, "", cls.DescribeIndexRequest{TopicId: ct.TopicID})
		if err != nil {
			return answer(err)
		}
		problems, err := cls.IndexProblems(raw)
		if err != nil {
			return preflight.Fail("an answer mudscf cannot read: %v", err)
		}
		if len(problems) > 0 {
			return preflight.Fail("topic %s:\n%s", ct.TopicID, strings.Join(problems, "\n"))
		}
		return preflight.Pass("topic %s: every SCF_* key mudscf reads is indexed, with statistics where its SQL reads it", ct.TopicID)
	})}
	checks = append(checks,
		search("count", func(ct cls.Target) cls.SearchLogRequest { return cls.CountRequest(q, ct) }, func(raw []byte) (string, error) {
			n, err := cls.ReadCount(raw)
			return fmt.Sprintf("%d invocations in the last hour", n), err
		}),
		search("page", func(ct cls.Target) cls.SearchLogRequest { return cls.PageRequest(q, ct) }, func(raw []byte) (string, error) {
			reports, err := cls.ReadReports(raw)
			for _, r := range reports {
				ids, first, last = append(ids, r.RequestID), r.StartMs, r.StartMs
			}
			return fmt.Sprintf("%d report line(s)", len(reports)), err
		}),
		search("response lines", func(ct cls.Target) cls.SearchLogRequest {
			return linesCheckRequest(q, ct, ids, first, last, false)
		}, func(raw []byte) (string, error) { return readLines(ct, ids, raw) }),
		search("log lines", func(ct cls.Target) cls.SearchLogRequest {
			return linesCheckRequest(q, ct, ids, first, last, true)
		}, func(raw []byte) (string, error) { return readLines(ct, ids, raw) }),
		search("stats", func(ct cls.Target) cls.SearchLogRequest { return cls.StatsRequest(q, ct) }, func(raw []byte) (string, error) {
			st, err := cls.ReadStats(raw)
			return fmt.Sprintf("%d invocations, %.2f%% successful, mean %d ms", st.TotalExecutions, st.SuccessRate, st.AvgExecutionTime), err
		}),
	)
	return checks
}

// linesCheckRequest is the lines query of the page the check read, or of
// a request ID that matches nothing when the window was empty: the form is
// what is checked.
func linesCheckRequest(q translate.Query, ct cls.Target, ids []string, first, last int64, withLog bool) cls.SearchLogRequest {
	if len(ids) == 0 {
		ids, first, last = []string{"00000000-0000-0000-0000-000000000000"}, q.Since.UnixMilli(), q.Until.UnixMilli()
	}
	return cls.LinesRequests(q, ct, ids, first, last, withLog)[0]
}

func readLines(ct cls.Target, ids []string, raw []byte) (string, error) {
	lines := cls.NewLines(ct, ids)
	if _, err := lines.Add(cls.SearchLogRequest{}, raw); err != nil {
		return "", err
	}
	found := 0
	for _, id := range ids {
		if lines.RetMsg(id) != "" || lines.Log(id) != "" {
			found++
		}
	}
	return fmt.Sprintf("lines of %d of %d invocation(s)", found, len(ids)), nil
}
