package upstream

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/upstream/budget"
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
	breakers map[string]*guard // by account and region
	aliases  map[string]string // SecretId to alias
	budgetM  *budget.Metrics

	// mu guards budgets: a CLS topic's is made when first queried.
	mu      sync.Mutex
	budgets map[string]budget.Limiter // by API and account, or by topic
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
		budgets: map[string]budget.Limiter{}, breakers: map[string]*guard{}, aliases: map[string]string{},
	}
}

// getFunctionPerSecond is Tencent's documented limit of SCF GetFunction
// calls per second.
const getFunctionPerSecond = 100

// Source is the LogSource of project in region with creds.
func (p *Pool) Source(project, region string, creds CredentialsConfig) (LogSource, error) {
	client, alias, err := p.client(project, region, creds)
	if err != nil {
		return nil, err
	}
	account := client.SecretID()
	logs := budgetedLogs{next: client, budgeted: p.budgeted(account, alias, getLogs, p.budget)}
	guard := p.guard(account, region, alias)
	rate := p.budget
	rate.RequestsPerSecond = getRequestStatusPerSecond
	status := budgetedRequestStatus{next: client, guard: guard, budgeted: p.budgeted(account, alias, getRequestStatus, rate)}
	return requestStatusSource{logs: newGetFunctionLogsSource(&breaker{next: logs, guard: guard}, p.loc), status: status, loc: p.loc}, nil
}

// guard is the breaker of account in region, one for every API called
// there.
func (p *Pool) guard(account, region, alias string) *guard {
	key := account + "|" + region
	g, ok := p.breakers[key]
	if !ok {
		g = newGuard(p.cfg.Breaker, alias, p.metrics)
		p.breakers[key] = g
	}
	return g
}

// CLSSource is the LogSource of project in region with creds that reads
// CLS: each function's topic from configured (by namespace and name) or
// else from SCF's GetFunction, within that API's budget. SearchLog spends
// the account's budget of calls per second and the topic's of concurrent
// queries, shared by every project reading the topic.
func (p *Pool) CLSSource(project, region string, creds CredentialsConfig, configured map[FunctionKey]string) (LogSource, error) {
	client, alias, err := p.client(project, region, creds)
	if err != nil {
		return nil, err
	}
	cred, err := creds.Resolve()
	if err != nil {
		return nil, err
	}
	cls, err := NewCLSClient(p.clientConfig(region, cred, clsService))
	if err != nil {
		return nil, err
	}
	account := client.SecretID()
	rate := p.budget
	rate.RequestsPerSecond = searchLogPerSecond
	search := budgetedSearch{
		next: cls,
		rate: p.budgeted(account, alias, searchLog, rate),
		topicOf: func(topic string) *budgeted {
			return p.topicBudget(topic, alias)
		},
	}
	describer, err := p.Describer(project, region, creds)
	if err != nil {
		return nil, err
	}
	return guardedSource{next: NewCLSSource(search, NewTopics(describer, configured), p.loc), guard: p.guard(account, region, alias)}, nil
}

// topicBudget is the concurrency limit of a CLS topic, made on first use.
// Its calls are counted as the account's SearchLog calls.
func (p *Pool) topicBudget(topic, alias string) *budgeted {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := "SearchLog-topic|" + topic
	l, ok := p.budgets[key]
	if !ok {
		// Its waits are labelled apart from the account's SearchLog rate,
		// which every query also passes: one label would count each
		// query's wait twice, and say nothing of which budget held it.
		l = p.budgetM.InstrumentWaits(budget.NewConcurrencyLimiter(searchLogConcurrency, p.budget.MaxWait, p.store, key, p.cfg.Timeout),
			alias, searchLogTopic)
		p.budgets[key] = l
	}
	// An abandoned query keeps its slot as long as a call may last (the
	// upstream timeout, and a second of slack, as a Redis lease does).
	return &budgeted{budget: l, api: searchLog, backoff: p.budget.Backoff, account: alias, metrics: p.metrics,
		exceeded:      func(err error) bool { return isCode(err, TopicConcurrencyExceeded) },
		holdAbandoned: p.cfg.Timeout + time.Second}
}

// Describer looks up functions of project in region with creds.
func (p *Pool) Describer(project, region string, creds CredentialsConfig) (*Describer, error) {
	client, alias, err := p.client(project, region, creds)
	if err != nil {
		return nil, err
	}
	cfg := p.budget
	cfg.RequestsPerSecond = getFunctionPerSecond
	return &Describer{client: client, budgeted: p.budgeted(client.SecretID(), alias, getFunction, cfg)}, nil
}

// client builds the SDK client of creds in region, and names its account.
func (p *Pool) client(project, region string, creds CredentialsConfig) (*Client, string, error) {
	cred, err := creds.Resolve()
	if err != nil {
		return nil, "", err
	}
	cfg := p.clientConfig(region, cred, scfService)
	client, err := NewClient(cfg)
	if err != nil {
		return nil, "", err
	}
	alias, err := p.alias(client.SecretID(), creds.Account, project)
	if err != nil {
		return nil, "", err
	}
	return client, alias, nil
}

// clientConfig is how the client of service (scf or cls) in region with
// cred calls Tencent.
func (p *Pool) clientConfig(region string, cred common.CredentialIface, service string) ClientConfig {
	endpoint := p.cfg.Endpoint
	if service == clsService {
		endpoint = p.cfg.CLSEndpoint
	}
	var transport http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if p.tracer != nil {
		transport = otelhttp.NewTransport(transport, otelhttp.WithTracerProvider(p.tracer),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return "tencentcloud " + service + " " + r.Header.Get("X-TC-Action")
			}))
	}
	return ClientConfig{Region: region, Endpoint: endpoint, Scheme: p.cfg.Scheme,
		Timeout: p.cfg.Timeout, Credential: cred, Transport: transport}
}

// budgeted is the budget of api on account, one per pair, shared by every
// project and region on the account.
func (p *Pool) budgeted(account, alias, api string, cfg budget.Config) *budgeted {
	// GetFunctionLogs keeps the key it had before other APIs had budgets,
	// so that replicas of two versions share it during a rolling update.
	key := account
	if api != getLogs {
		key = api + "|" + account
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.budgets[key]
	if !ok {
		l = p.budgetM.Instrument(budget.New(cfg, p.store, key, p.cfg.Timeout), alias, api, cfg.RequestsPerSecond)
		p.budgets[key] = l
		p.metrics.account(alias, api)
	}
	return &budgeted{budget: l, api: api, backoff: cfg.Backoff, account: alias, metrics: p.metrics}
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
		configured = defaultAccount
		if p.named(defaultAccount) {
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
