package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/mudscf/mudscf/internal/upstream/budget"
)

// Caller makes the calls of one account in one region. Every call of every
// API takes the same chain:
//
//	breaker (is the upstream healthy?) → budgets (a slot of each limit the
//	API has: a topic's concurrent queries, then the account's calls per
//	second) → the call (the official SDK) → one classification (Classify)
//
// and the outcome, classified once, decides everything after: the
// breaker's count, which budget to pause (the one whose limit the upstream
// says was exceeded), the metrics and, at the HTTP edge, the status.
type Caller struct {
	accounts *Accounts
	account  *account
	region   string
	project  string
}

// Account is the alias of the caller's account, for logs and metrics.
func (c *Caller) Account() string { return c.account.alias }

// Call makes one call of api with req, the API's parameters, and returns
// its answer's Response object for the API's adapter to read. topic is the
// CLS log topic a SearchLog queries ("" for other APIs): its concurrency is
// a budget of its own. The call waits for its budgets as the project
// budget.ProjectOf(ctx) names, or else as the caller's own project.
func (c *Caller) Call(ctx context.Context, api API, topic string, req any) (json.RawMessage, error) {
	if budget.ProjectOf(ctx) == "" {
		ctx = budget.WithProject(ctx, c.project)
	}
	cl, err := c.accounts.client(c.account, c.region, api.service)
	if err != nil {
		return nil, err
	}
	steps := c.accounts.budgets(c.account, api, topic)
	var answer json.RawMessage
	err = c.accounts.breaker(c.account, c.region, api, topic).do(ctx, func() error {
		grants, err := acquire(ctx, steps)
		if err != nil {
			return err
		}
		answer, err = cl.call(ctx, api.Action, req)
		outcome := Classify(err)
		release(ctx, steps, grants, outcome)
		c.accounts.metrics.call(c.account.alias, api.Action, outcome)
		return err
	})
	return answer, err
}

// budgetStep is one limit a call must fit in.
type budgetStep struct {
	limiter budget.Limiter
	// exceeded is the outcome that says the upstream enforced this very
	// limit although the budget kept count: the budget then pauses.
	exceeded Outcome
	backoff  time.Duration
	// holdAbandoned keeps the slot of a call its caller gave up on for this
	// long before freeing it (0: free it at once). A concurrency limit
	// needs it: the upstream may still be running a query whose client
	// hung up, and a new one in the freed slot would be one too many.
	holdAbandoned time.Duration
}

// acquire takes a slot of every step, in order, or none.
func acquire(ctx context.Context, steps []budgetStep) ([]budget.Grant, error) {
	grants := make([]budget.Grant, 0, len(steps))
	prio := budget.PriorityOf(ctx)
	for _, s := range steps {
		g, _, err := s.limiter.Acquire(ctx, prio)
		if err != nil {
			now := time.Now()
			for _, g := range grants {
				g.Done(now)
			}
			return nil, err
		}
		grants = append(grants, g)
	}
	return grants, nil
}

// release ends the call's grants: the budget whose limit the outcome names
// pauses first, so that its Done grants no waiter in between.
func release(ctx context.Context, steps []budgetStep, grants []budget.Grant, outcome Outcome) {
	now := time.Now()
	for i, s := range steps {
		if outcome == s.exceeded {
			s.limiter.Pause(s.backoff)
		}
		if s.holdAbandoned > 0 && ctx.Err() != nil {
			g := grants[i]
			time.AfterFunc(s.holdAbandoned, func() { g.Done(time.Now()) })
			continue
		}
		grants[i].Done(now)
	}
}

// Together makes the calls of one operation (the queries of a CLS page, say)
// at once, and returns the first error. None cancels another: a half-open
// breaker admits one call as its probe and refuses the rest, and the probe
// cancelled with them would count neither way, so the breaker would never
// close again. A call the breaker refused while another of the operation
// succeeded is made once more, after the others: that success closed the
// breaker.
func Together(calls ...func() error) error {
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
	}
	wg.Wait()
	succeeded := false
	for _, err := range errs {
		succeeded = succeeded || err == nil
	}
	for i, err := range errs {
		var open *BreakerOpenError
		if succeeded && errors.As(err, &open) {
			errs[i] = calls[i]()
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
