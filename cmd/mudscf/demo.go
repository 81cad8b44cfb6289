package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
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

func runDemo(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "Mudbase API address of the proxy")
	adminAddr := fs.String("admin-addr", "127.0.0.1:9090", "proxy /metrics, /healthz, /readyz address")
	simAddr := fs.String("sim-addr", "127.0.0.1:9000", "SCF simulator address")
	exporterAddr := fs.String("exporter-addr", "127.0.0.1:9464", "exporter /metrics address")
	jwtSecret := fs.String("jwt-secret", "", "HS256 secret of the demo's tokens (default: random)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *jwtSecret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand never fails on Linux
		*jwtSecret = hex.EncodeToString(b)
	}

	simCfg := tencentsim.DefaultConfig()
	sim, err := tencentsim.New(simCfg)
	if err != nil {
		return err
	}
	simListener, err := net.Listen("tcp", *simAddr)
	if err != nil {
		return err
	}
	account := simCfg.Accounts[0]
	// The proxy reads credentials and the JWT secret by variable name, as
	// in production; the demo hands them over in its own environment.
	os.Setenv("MUDSCF_DEMO_SECRET_ID", account.SecretID)
	os.Setenv("MUDSCF_DEMO_SECRET_KEY", account.SecretKey)
	os.Setenv("MUDSCF_DEMO_JWT_SECRET", *jwtSecret)
	api, admin, err := listenPair(*addr, *adminAddr)
	if err != nil {
		simListener.Close()
		return err
	}
	expListener, err := net.Listen("tcp", *exporterAddr)
	if err != nil {
		simListener.Close()
		api.Close()
		admin.Close()
		return err
	}
	expCfg := demoExporterConfig(api.Addr().String())
	expCfg.ApplyDefaults()
	if err := expCfg.Validate(); err != nil {
		return err
	}
	cfg := demoConfig(api.Addr().String(), admin.Addr().String(), simListener.Addr().String())
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	token, err := jwtauth.MintToken([]byte(*jwtSecret), cfg.JWT, jwtauth.TokenClaims{Subject: demoMember, TTL: 24 * time.Hour}, time.Now())
	if err != nil {
		return err
	}

	tp, shutdownTracing, err := setupTracing(ctx, "mudscf-demo")
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer shutdownTracing(context.Background())

	srv, err := newProxy(ctx, cfg, tp, logger)
	if err != nil {
		simListener.Close()
		api.Close()
		admin.Close()
		expListener.Close()
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serve(ctx, newHTTPServer(sim), simListener, 5*time.Second) })
	g.Go(func() error { return srv.Serve(ctx, api, admin) })
	g.Go(func() error { return serveExporterOn(ctx, expCfg, expListener, logger, nil) })
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

`, api.Addr(), admin.Addr(), simListener.Addr(), *jwtSecret, demoMember, token, demoProject, demoFunction, expListener.Addr(), demoCLSProject)
	return g.Wait()
}

// demoExporterConfig polls every demo function through the proxy, with
// tokens minted from the demo's JWT secret at background priority.
func demoExporterConfig(apiAddr string) exporter.Config {
	var fns []exporter.FunctionConfig
	for id, f := range demoFunctions {
		fns = append(fns, exporter.FunctionConfig{Project: demoProject, Function: id, Name: f.Name, Region: "ap-guangzhou"})
	}
	slices.SortFunc(fns, func(a, b exporter.FunctionConfig) int { return strings.Compare(a.Function, b.Function) })
	return exporter.Config{
		Endpoint:  "http://" + apiAddr,
		Auth:      exporter.AuthConfig{JWTSecretEnv: "MUDSCF_DEMO_JWT_SECRET"},
		Interval:  10 * time.Second,
		Functions: fns,
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
	creds := upstream.CredentialsConfig{SecretIDEnv: "MUDSCF_DEMO_SECRET_ID", SecretKeyEnv: "MUDSCF_DEMO_SECRET_KEY"}
	return proxy.Config{
		Listen: addr, AdminListen: adminAddr,
		// No load balancer routes to the demo: nothing to drain.
		DrainDelay: new(time.Duration(0)),
		// The simulator serves SCF and CLS on one address.
		Upstream: upstream.Config{Endpoint: simAddr, CLSEndpoint: simAddr, Scheme: "http"},
		JWT:      jwtauth.Config{Algorithms: []string{"HS256"}, SecretEnv: "MUDSCF_DEMO_JWT_SECRET"},
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
