package upstream

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/internal/redisstore"
	"github.com/mudscf/mudscf/internal/upstream/budget"
)

// Accounts holds what the projects on one Tencent account share: one
// budget per API and account (projects on one SecretId share its calls per
// second), one per CLS topic (every project reading a topic shares its
// concurrent queries), and one breaker per account, region and API, and
// per topic for SearchLog (they share the upstream whose health it
// tracks).
type Accounts struct {
	cfg       Config
	budget    budget.Config
	store     *redisstore.Store
	tracer    trace.TracerProvider
	transport http.RoundTripper
	metrics   *Metrics
	budgetM   *budget.Metrics

	mu       sync.Mutex
	drained  bool // Drain was called: every budget, made before or after, is drained
	bySecret map[string]*account
	breakers map[string]*breaker       // by account, region, API and topic
	limiters map[string]budget.Limiter // by API and account, or by topic
	clients  map[string]*client        // by account, region and service
}

// account is one SecretId and what signs its calls.
type account struct {
	secretID string
	alias    string
	cred     common.CredentialIface
	// projects are the projects on the account, whose budget series
	// start at 0.
	projects []string
}

// Options are the dependencies of Accounts.
type Options struct {
	Upstream Config
	// Budget is the proxy's budget: its requestsPerSecond is
	// GetFunctionLogs's (5 at most, Tencent's limit); the other APIs have
	// their documented limits.
	Budget budget.Config
	// Store shares the budgets among replicas; nil keeps them local.
	Store *redisstore.Store
	// TracerProvider traces each upstream call; nil leaves tracing out.
	TracerProvider trace.TracerProvider
	Registerer     prometheus.Registerer
	// Transport carries the calls; nil uses a clone of
	// http.DefaultTransport for each client.
	Transport http.RoundTripper
}

// NewAccounts registers the upstream and budget metrics on
// opts.Registerer.
func NewAccounts(opts Options) *Accounts {
	return &Accounts{
		cfg: opts.Upstream, budget: opts.Budget, store: opts.Store, tracer: opts.TracerProvider, transport: opts.Transport,
		metrics: NewMetrics(opts.Registerer), budgetM: budget.NewMetrics(opts.Registerer),
		bySecret: map[string]*account{}, breakers: map[string]*breaker{},
		limiters: map[string]budget.Limiter{}, clients: map[string]*client{},
	}
}

// Caller is the caller of project's account (creds) in region. Projects
// on one account share its budgets and, per region, its breakers.
func (a *Accounts) Caller(project, region string, creds CredentialsConfig) (*Caller, error) {
	if region == "" {
		return nil, fmt.Errorf("tencent client: region is required")
	}
	cred, err := creds.Resolve()
	if err != nil {
		return nil, err
	}
	if cred == nil {
		if cred, err = credentialChain().GetCredential(); err != nil {
			return nil, fmt.Errorf("tencent client: no credentials in the environment, profile file, TKE OIDC role or CVM role: %w", err)
		}
	}
	secretID, _, _ := cred.GetCredential()
	a.mu.Lock()
	defer a.mu.Unlock()
	acc, err := a.accountLocked(secretID, creds.Account, project, cred)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(acc.projects, project) {
		acc.projects = append(acc.projects, project)
	}
	return &Caller{accounts: a, account: acc, region: region, project: project}, nil
}

// Drain refuses, with budget.ErrDraining, every call waiting for a budget
// slot and every call after: the process is shutting down, and a call not
// yet sent is never sent. Calls already granted go on.
func (a *Accounts) Drain() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.drained = true
	for _, l := range a.limiters {
		l.Drain()
	}
}

// newLimiterLocked keeps l, drained if the accounts are.
func (a *Accounts) newLimiterLocked(key string, l budget.Limiter) budget.Limiter {
	if a.drained {
		l.Drain()
	}
	a.limiters[key] = l
	return l
}

// breaker is the breaker of api for acc in region, and of topic for an API
// limited per topic, made on first use.
func (a *Accounts) breaker(acc *account, region string, api API, topic string) *breaker {
	key := acc.secretID + "|" + region + "|" + api.Action
	if api.PerTopic > 0 {
		key += "|" + topic
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.breakers[key]
	if !ok {
		b = newBreaker(a.cfg.Breaker, breakerLabels{account: acc.alias, region: region, api: api.Action}, a.metrics)
		a.breakers[key] = b
	}
	return b
}

// client is the SDK client of svc for acc in region, made on first use.
func (a *Accounts) client(acc *account, region string, svc service) (*client, error) {
	key := acc.secretID + "|" + region + "|" + svc.name
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[key]; ok {
		return c, nil
	}
	endpoint := a.cfg.Endpoint
	if svc == clsService {
		endpoint = a.cfg.CLSEndpoint
	}
	transport := a.transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if a.tracer != nil {
		transport = otelhttp.NewTransport(transport, otelhttp.WithTracerProvider(a.tracer),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return "tencentcloud " + svc.name + " " + r.Header.Get("X-TC-Action")
			}))
	}
	c, err := newClient(ClientConfig{Region: region, Endpoint: endpoint, Scheme: a.cfg.Scheme,
		Timeout: a.cfg.Timeout, Credential: acc.cred, Transport: transport}, svc)
	if err != nil {
		return nil, err
	}
	a.clients[key] = c
	return c, nil
}

// budgets are the limits a call of api on topic must fit in, in the order
// they are taken: the topic's concurrency (shared by every project and
// account reading the topic), then the account's rate.
func (a *Accounts) budgets(acc *account, api API, topic string) []budgetStep {
	a.mu.Lock()
	defer a.mu.Unlock()
	var steps []budgetStep
	if api.PerTopic > 0 {
		key := api.topicBudgetLabel() + "|" + topic
		l, ok := a.limiters[key]
		if !ok {
			// Its waits are labelled apart from the account's rate, which
			// every query also passes: one label would count each query's
			// wait twice, and say nothing of which budget held it.
			l = a.newLimiterLocked(key, a.budgetM.InstrumentWaits(budget.NewConcurrencyLimiter(api.PerTopic, a.budget, a.store, key, a.cfg.Timeout),
				acc.alias, api.topicBudgetLabel(), acc.projects...))
		}
		// An abandoned query keeps its slot as long as a call may last (the
		// upstream timeout, and a second of slack, as a Redis lease does).
		steps = append(steps, budgetStep{limiter: l, exceeded: TopicBusy, backoff: a.budget.Backoff, holdAbandoned: a.cfg.Timeout + time.Second})
	}
	cfg := a.budget
	cfg.RequestsPerSecond = api.PerSecond
	// GetFunctionLogs keeps the key it had before other APIs had budgets,
	// so that replicas of two versions share it during a rolling update;
	// its rate is the configured one.
	key := api.Action + "|" + acc.secretID
	if api == GetFunctionLogs {
		key, cfg.RequestsPerSecond = acc.secretID, a.budget.RequestsPerSecond
	}
	l, ok := a.limiters[key]
	if !ok {
		l = a.newLimiterLocked(key, a.budgetM.Instrument(budget.New(cfg, a.store, key, a.cfg.Timeout), acc.alias, api.Action, cfg.RequestsPerSecond, acc.projects...))
		a.metrics.account(acc.alias, api)
	}
	return append(steps, budgetStep{limiter: l, exceeded: RateLimited, backoff: cfg.Backoff})
}

// accountLocked is the account of secretID, named in metrics and logs by
// its configured alias; unset, "default" for the first account and the
// project's ID for any other, so that configurations written before
// aliases existed keep working and still never show a SecretId. One alias
// per account and one account per alias: the metrics of two accounts under
// one name would add up two budgets, and an account under two names would
// split one.
func (a *Accounts) accountLocked(secretID, configured, project string, cred common.CredentialIface) (*account, error) {
	known, seen := a.bySecret[secretID]
	switch {
	case configured == "" && seen:
		return known, nil
	case configured == "":
		configured = defaultAccount
		if a.namedLocked(defaultAccount) {
			configured = project
		}
	case seen && known.alias != configured:
		return nil, fmt.Errorf("credentials.account: %q names an account already named %q; projects on one SecretId share its budget and its alias", configured, known.alias)
	case seen:
		return known, nil
	}
	if a.namedLocked(configured) {
		return nil, fmt.Errorf("credentials.account: %q already names another account (another SecretId); give each account its own alias", configured)
	}
	acc := &account{secretID: secretID, alias: configured, cred: cred}
	a.bySecret[secretID] = acc
	return acc, nil
}

func (a *Accounts) namedLocked(alias string) bool {
	for _, acc := range a.bySecret {
		if acc.alias == alias {
			return true
		}
	}
	return false
}
