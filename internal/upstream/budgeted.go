package upstream

import (
	"context"
	"time"

	"github.com/mudscf/mudscf/internal/upstream/budget"
	"github.com/mudscf/mudscf/translate"
)

// budgeted spends one slot of an account's budget for one API per call.
type budgeted struct {
	budget  budget.Limiter
	api     string
	backoff time.Duration
	account string // the alias, for metrics
	metrics *Metrics
	// exceeded says an error is the upstream's own enforcement of the
	// limit this budget keeps; nil: any RateLimited outcome.
	exceeded func(error) bool
	// holdAbandoned keeps the slot of a call its caller gave up on for this
	// long before freeing it (0: free it at once). A concurrency limit
	// needs it: the upstream may still be running a query whose client
	// hung up, and a new one in the freed slot would be one too many.
	holdAbandoned time.Duration
}

// do makes call within the budget: it waits for a slot, pauses the budget
// when the upstream says its limit was exceeded anyway, and counts the
// outcome.
func (b *budgeted) do(ctx context.Context, call func(context.Context) error) error {
	grant, _, err := b.budget.Acquire(ctx, budget.PriorityOf(ctx))
	if err != nil {
		return err
	}
	err = call(ctx)
	outcome := Classify(err)
	// The pause goes first, so that Done grants no waiter in between.
	if b.exceeded == nil && outcome == RateLimited || b.exceeded != nil && b.exceeded(err) {
		b.budget.Pause(b.backoff)
	}
	if b.holdAbandoned > 0 && ctx.Err() != nil {
		time.AfterFunc(b.holdAbandoned, func() { grant.Done(time.Now()) })
	} else {
		grant.Done(time.Now())
	}
	b.metrics.call(b.account, b.api, outcome)
	return err
}

// budgetedLogs is GetFunctionLogs within its budget.
type budgetedLogs struct {
	next logsCaller
	*budgeted
}

func (c budgetedLogs) GetFunctionLogs(ctx context.Context, params translate.GetFunctionLogsRequest) (resp translate.GetFunctionLogsResponse, err error) {
	err = c.do(ctx, func(ctx context.Context) error {
		resp, err = c.next.GetFunctionLogs(ctx, params)
		return err
	})
	return resp, err
}

// Describer looks functions up with SCF's GetFunction, within that API's
// own budget.
type Describer struct {
	client *Client
	*budgeted
}

// Describe returns what GetFunction says of a function.
func (d *Describer) Describe(ctx context.Context, name, namespace, qualifier string) (details FunctionDetails, err error) {
	err = d.do(ctx, func(ctx context.Context) error {
		details, err = d.client.GetFunction(ctx, name, namespace, qualifier)
		return err
	})
	return details, err
}
