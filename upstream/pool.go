package upstream

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/upstream/budget"
)

// Pool builds the sources of every project, sharing one budget per upstream
// account (projects on one SecretId share its calls per second) and one
// breaker per account and region (they share the upstream whose health it
// tracks).
type Pool struct {
	cfg      Config
	budget   budget.Config
	store    *redisstore.Store
	loc      *time.Location
	tracer   trace.TracerProvider
	metrics  *Metrics
	budgets  map[string]budget.Limiter
	breakers map[string]*Breaker
	aliases  map[string]string // SecretId to alias
	budgetM  *budget.Metrics
}

// PoolOptions are a Pool's dependencies.
type PoolOptions struct {
	Upstream Config
	Budget   budget.Config
	// Store shares the budgets among replicas; nil keeps them local.
	Store *redisstore.Store
	// Location is the upstream's time zone.
	Location *time.Location
	// TracerProvider traces each upstream call; nil leaves tracing out.
	TracerProvider trace.TracerProvider
	Registerer     prometheus.Registerer
}

// NewPool registers the upstream and budget metrics on opts.Registerer.
func NewPool(opts PoolOptions) *Pool {
	return &Pool{
		cfg: opts.Upstream, budget: opts.Budget, store: opts.Store, loc: opts.Location, tracer: opts.TracerProvider,
		metrics: NewMetrics(opts.Registerer), budgetM: budget.NewMetrics(opts.Registerer),
		budgets: map[string]budget.Limiter{}, breakers: map[string]*Breaker{}, aliases: map[string]string{},
	}
}

// Source is the LogSource of project in region with creds.
func (p *Pool) Source(project, region string, creds CredentialsConfig) (LogSource, error) {
	cred, err := creds.Resolve()
	if err != nil {
		return nil, err
	}
	var transport http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if p.tracer != nil {
		transport = otelhttp.NewTransport(transport, otelhttp.WithTracerProvider(p.tracer),
			otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return "tencentcloud scf GetFunctionLogs" }))
	}
	client, err := NewClient(ClientConfig{
		Region: region, Endpoint: p.cfg.Endpoint, Scheme: p.cfg.Scheme,
		Timeout: p.cfg.Timeout, Credential: cred, Transport: transport,
	})
	if err != nil {
		return nil, err
	}
	account := client.SecretID()
	alias, err := p.alias(account, creds.Account, project)
	if err != nil {
		return nil, err
	}
	b, ok := p.budgets[account]
	if !ok {
		b = p.budgetM.Instrument(budget.New(p.budget, p.store, account, p.cfg.Timeout), alias, getLogs, p.budget.RequestsPerSecond)
		p.budgets[account] = b
		p.metrics.account(alias, getLogs)
	}
	breaker, ok := p.breakers[account+"|"+region]
	if !ok {
		caller := &budgeted{next: client, budget: b, backoff: p.budget.Backoff, account: alias, metrics: p.metrics}
		breaker = NewBreaker(caller, p.cfg.Breaker, alias, p.metrics)
		p.breakers[account+"|"+region] = breaker
	}
	return NewGetFunctionLogsSource(breaker, p.loc), nil
}

// alias names account in metrics and logs: its configured alias; unset,
// "default" for the first account and the project's ID for any other, so
// that configurations written before aliases existed keep working and
// still never show a SecretId. One alias per account and one account per
// alias: the metrics of two accounts under one name would add up two
// budgets, and an account under two names would split one.
func (p *Pool) alias(account, configured, project string) (string, error) {
	known, seen := p.aliases[account]
	switch {
	case configured == "" && seen:
		return known, nil
	case configured == "":
		configured = DefaultAccount
		if p.named(DefaultAccount) {
			configured = project
		}
	case seen && known != configured:
		return "", fmt.Errorf("credentials.account: %q names an account already named %q; projects on one SecretId share its budget and its alias", configured, known)
	}
	if !seen && p.named(configured) {
		return "", fmt.Errorf("credentials.account: %q already names another account (another SecretId); give each account its own alias", configured)
	}
	p.aliases[account] = configured
	return configured, nil
}

func (p *Pool) named(alias string) bool {
	for _, a := range p.aliases {
		if a == alias {
			return true
		}
	}
	return false
}
