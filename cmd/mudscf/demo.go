package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mudscf/mudscf/exporter"
	"github.com/mudscf/mudscf/internal/jwtauth"
	"github.com/mudscf/mudscf/internal/tencentsim"
	"github.com/mudscf/mudscf/internal/upstream"
	"github.com/mudscf/mudscf/proxy"
)

// The demo's seed identities, from Mudbase's getLogs example.
const (
	demoProject  = "proj_AsIu33tafZGe"
	demoFunction = "MVPQVsgjuHBlvWFB"
	// demoCLSProject serves the same functions, read from CLS.
	demoCLSProject = "proj_ClsDemo01"
	demoMember     = "usr_morgan_de"
)

// The demo's default addresses: the proxy's API where Mudbase's is, and
// the rest beside it, away from the monitoring stack a user may run next
// to it (Prometheus 9090, Alertmanager 9093, the exporters' 9100-9999,
// OpenTelemetry's Prometheus exporter 9464, OTLP 4317/4318, Grafana 3000).
const (
	defaultDemoAddr         = "127.0.0.1:8080"
	defaultDemoAdminAddr    = "127.0.0.1:8081"
	defaultDemoExporterAddr = "127.0.0.1:8082"
)

func demoCommand(fs *flag.FlagSet) action {
	addr := fs.String("addr", defaultDemoAddr, "Mudbase API address of the proxy")
	adminAddr := fs.String("admin-addr", defaultDemoAdminAddr, "proxy /metrics, /healthz, /readyz address")
	simAddr := fs.String("sim-addr", defaultSimAddr, "SCF simulator address")
	exporterAddr := fs.String("exporter-addr", defaultDemoExporterAddr, "exporter /metrics address")
	jwtSecret := fs.String("jwt-secret", "", "HS256 secret of the demo's tokens (default: random)")
	exporterAccessLog := fs.Bool("exporter-access-log", false, "log the proxy's access-log line of each of the demo exporter's polls too (off: only the banner, your requests and warnings reach the terminal)")
	return func(ctx context.Context, stdout io.Writer, logger *slog.Logger) error {
		if *jwtSecret == "" {
			b := make([]byte, 32)
			_, _ = rand.Read(b) // crypto/rand never fails on Linux
			*jwtSecret = hex.EncodeToString(b)
		}
		return runDemo(ctx, demoOptions{
			addr: *addr, adminAddr: *adminAddr, simAddr: *simAddr, exporterAddr: *exporterAddr,
			jwtSecret: *jwtSecret, exporterAccessLog: *exporterAccessLog,
		}, stdout, logger)
	}
}

type demoOptions struct {
	addr, adminAddr, simAddr, exporterAddr string
	jwtSecret                              string
	exporterAccessLog                      bool
}

func runDemo(ctx context.Context, o demoOptions, stdout io.Writer, logger *slog.Logger) error {
	simCfg := tencentsim.DefaultConfig()
	sim, err := tencentsim.New(simCfg)
	if err != nil {
		return err
	}
	account := simCfg.Accounts[0]
	// The proxy reads credentials and the JWT secret by variable name, as
	// in production; the demo hands them over in its own environment.
	os.Setenv("MUDSCF_DEMO_SECRET_ID", account.SecretID)
	os.Setenv("MUDSCF_DEMO_SECRET_KEY", account.SecretKey)
	os.Setenv("MUDSCF_DEMO_JWT_SECRET", o.jwtSecret)
	ls, err := listenAll(address{"--sim-addr", o.simAddr}, address{"--addr", o.addr},
		address{"--admin-addr", o.adminAddr}, address{"--exporter-addr", o.exporterAddr})
	if err != nil {
		return err
	}
	simListener, api, admin, expListener := ls[0], ls[1], ls[2], ls[3]
	closeAll := func() {
		for _, l := range ls {
			l.Close()
		}
	}
	expCfg := demoExporterConfig(api.Addr().String())
	expCfg.ApplyDefaults()
	cfg := demoConfig(api.Addr().String(), admin.Addr().String(), simListener.Addr().String())
	cfg.ApplyDefaults()
	if err := errors.Join(expCfg.Validate(), cfg.Validate()); err != nil {
		closeAll()
		return err
	}
	token, err := jwtauth.MintToken([]byte(o.jwtSecret), cfg.JWT, jwtauth.TokenClaims{Subject: demoMember, TTL: 24 * time.Hour}, time.Now())
	if err != nil {
		closeAll()
		return err
	}

	tp, shutdownTracing, err := setupTracing(ctx, "mudscf-demo")
	if err != nil {
		closeAll()
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() { _ = shutdownTracing(context.Background()) }() // spans not flushed at exit are lost either way

	proxyLogger := logger
	if !o.exporterAccessLog {
		proxyLogger = slog.New(withoutExporterPolls{logger.Handler()})
	}
	srv, err := newProxy(ctx, cfg, proxy.Options{Logger: proxyLogger, TracerProvider: tp})
	if err != nil {
		closeAll()
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(ctx, newHTTPServer(sim), simListener, 5*time.Second) })
	g.Go(func() error { return srv.Serve(ctx, api, admin) })
	g.Go(func() error {
		return serveExporterOn(ctx, expCfg, exporter.Options{Transport: &exporterPollIDs{next: http.DefaultTransport.(*http.Transport).Clone()}}, expListener, logger, nil)
	})
	fmt.Fprintf(stdout, `mudscf demo
  Mudbase API    http://%[1]s/api/functions/projects/{projectId}/functions/{functionId}/logs
  proxy metrics  http://%[2]s/metrics   (health: /healthz, /readyz)
  exporter       http://%[9]s/metrics   (executions as metrics; spans by OTLP when OTEL_* is set)
  SCF simulator  http://%[3]s   (ground truth: /_sim/truth)
  JWT secret     %[4]s   (HS256; set with --jwt-secret)
  token for %[5]s (24h):
    %[6]s

Try (%[7]s reads GetFunctionLogs, %[10]s the same functions from CLS):
  curl -s -H 'Authorization: Bearer %[6]s' 'http://%[1]s/api/functions/projects/%[7]s/functions/%[8]s/logs?limit=2'
  curl -s -H 'Authorization: Bearer %[6]s' 'http://%[1]s/api/functions/projects/%[10]s/functions/%[8]s/logs?limit=2'

`, api.Addr(), admin.Addr(), simListener.Addr(), o.jwtSecret, demoMember, token, demoProject, demoFunction, expListener.Addr(), demoCLSProject)
	return g.Wait()
}

// exporterPollPrefix starts the X-Request-Id of every request of the
// demo's exporter, which the proxy puts in its access log: so that the
// demo can tell the exporter's polls from a user's requests.
const exporterPollPrefix = "demo-exporter-"

// exporterPollIDs is the demo exporter's transport: it names each request
// exporterPollPrefix and a number.
type exporterPollIDs struct {
	next http.RoundTripper
	n    atomic.Uint64
}

func (t *exporterPollIDs) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context()) // a RoundTripper must not change the caller's request
	req.Header.Set("X-Request-Id", exporterPollPrefix+strconv.FormatUint(t.n.Add(1), 10))
	return t.next.RoundTrip(req)
}

// withoutExporterPolls drops the proxy's access-log records of the demo
// exporter's polls, which would scroll the banner off the terminal every
// poll. The proxy's warnings about them stay.
type withoutExporterPolls struct{ slog.Handler }

func (h withoutExporterPolls) Handle(ctx context.Context, r slog.Record) error {
	if r.Level <= slog.LevelInfo && r.Message == "request" {
		poll := false
		r.Attrs(func(a slog.Attr) bool {
			poll = a.Key == "request_id" && strings.HasPrefix(a.Value.String(), exporterPollPrefix)
			return !poll
		})
		if poll {
			return nil
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h withoutExporterPolls) WithAttrs(as []slog.Attr) slog.Handler {
	return withoutExporterPolls{h.Handler.WithAttrs(as)}
}

func (h withoutExporterPolls) WithGroup(name string) slog.Handler {
	return withoutExporterPolls{h.Handler.WithGroup(name)}
}

// demoExporterConfig polls every demo function through the proxy, with
// tokens minted from the demo's JWT secret at background priority: the
// getFunctionLogs project's one by one, the cls project whole.
func demoExporterConfig(apiAddr string) exporter.Config {
	var fns []exporter.FunctionConfig
	for id, f := range demoFunctions {
		fns = append(fns, exporter.FunctionConfig{Project: demoProject, Function: id, Name: f.Name, Region: "ap-guangzhou"})
	}
	slices.SortFunc(fns, func(a, b exporter.FunctionConfig) int { return strings.Compare(a.Function, b.Function) })
	return exporter.Config{
		Endpoint:  "http://" + apiAddr,
		Auth:      exporter.AuthConfig{JWTSecretEnv: "MUDSCF_DEMO_JWT_SECRET"}, //nolint:gosec // the variable's name, not a secret
		Interval:  10 * time.Second,
		Functions: fns,
		Projects:  []exporter.ProjectConfig{{Project: demoCLSProject, Region: "ap-guangzhou"}},
	}
}

var demoFunctions = map[string]proxy.FunctionConfig{
	demoFunction:               {Name: "APITest"},
	"65a4f0c2e4b0a1b2c3d4e5f1": {Name: "orders-webhook"},
	"65a4f0c2e4b0a1b2c3d4e5f2": {Name: "thumbnail-worker"},
	"65a4f0c2e4b0a1b2c3d4e5f3": {Name: "nightly-report"},
}

// demoConfig serves the seed's project and function, and three more
// functions of the simulator under ObjectId-shaped IDs; and the same
// functions under the same IDs in a second project read from CLS, whose
// topics the proxy asks SCF's GetFunction for.
func demoConfig(addr, adminAddr, simAddr string) proxy.Config {
	creds := upstream.CredentialsConfig{SecretIDEnv: "MUDSCF_DEMO_SECRET_ID", SecretKeyEnv: "MUDSCF_DEMO_SECRET_KEY"} //nolint:gosec // variables' names, not secrets
	return proxy.Config{
		Listen: addr, AdminListen: adminAddr,
		// No load balancer routes to the demo: nothing to drain.
		DrainDelay: new(time.Duration(0)),
		// The simulator serves SCF and CLS on one address.
		Upstream: upstream.Config{Endpoint: simAddr, CLSEndpoint: simAddr, Scheme: "http"},
		JWT:      jwtauth.Config{Algorithms: []string{"HS256"}, SecretEnv: "MUDSCF_DEMO_JWT_SECRET"}, //nolint:gosec // the variable's name, not a secret
		Projects: map[string]proxy.ProjectConfig{
			demoProject: {
				Region:      "ap-guangzhou",
				Credentials: creds,
				Readers:     jwtauth.Readers{Subjects: []string{demoMember}, Roles: []string{"admin"}},
				Functions:   demoFunctions,
			},
			demoCLSProject: {
				Region:      "ap-guangzhou",
				Source:      proxy.SourceCLS,
				Credentials: creds,
				Readers:     jwtauth.Readers{Subjects: []string{demoMember}, Roles: []string{"admin"}},
				Functions:   demoFunctions,
			},
		},
	}
}
