package upstream

import (
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
		budgets: map[string]budget.Limiter{}, breakers: map[string]*Breaker{},
	}
}

// Source is the LogSource of a project in region with creds.
func (p *Pool) Source(region string, creds CredentialsConfig) (LogSource, error) {
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
	b, ok := p.budgets[account]
	if !ok {
		b = p.budgetM.Instrument(budget.New(p.budget, p.store, account, p.cfg.Timeout))
		p.budgets[account] = b
	}
	breaker, ok := p.breakers[account+"|"+region]
	if !ok {
		breaker = NewBreaker(&budgeted{next: client, budget: b, backoff: p.budget.Backoff, metrics: p.metrics}, p.cfg.Breaker, p.metrics)
		p.breakers[account+"|"+region] = breaker
	}
	return NewGetFunctionLogsSource(breaker, p.loc), nil
}
