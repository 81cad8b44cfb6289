package upstream

import (
	"context"
	"time"

	"github.com/mudscf/mudscf/translate"
	"github.com/mudscf/mudscf/upstream/budget"
)

// budgeted spends one slot of the account's budget per call.
type budgeted struct {
	next    LogsCaller
	budget  budget.Limiter
	backoff time.Duration
	account string // the alias, for metrics
	metrics *Metrics
}

func (c *budgeted) GetFunctionLogs(ctx context.Context, params translate.GetFunctionLogsRequest) (translate.GetFunctionLogsResponse, error) {
	grant, _, err := c.budget.Acquire(ctx, budget.PriorityOf(ctx))
	if err != nil {
		return translate.GetFunctionLogsResponse{}, err
	}
	resp, err := c.next.GetFunctionLogs(ctx, params)
	outcome := Classify(err)
	// The pause goes first, so that Done grants no waiter in between.
	if outcome == RateLimited {
		c.budget.Pause(c.backoff)
	}
	grant.Done(time.Now())
	c.metrics.call(c.account, getLogs, outcome)
	return resp, err
}
