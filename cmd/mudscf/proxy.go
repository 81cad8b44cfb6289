package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/mudscf/mudscf/proxy"
)

func proxyCommand(fs *flag.FlagSet) action {
	configPath := fs.String("config", os.Getenv("MUDSCF_CONFIG"), "YAML configuration `FILE` (MUDSCF_CONFIG); mudscf check --config FILE checks it")
	listenAddr := fs.String("listen", os.Getenv("MUDSCF_LISTEN"), "public API address, overrides listen (MUDSCF_LISTEN)")
	adminListen := fs.String("admin-listen", os.Getenv("MUDSCF_ADMIN_LISTEN"), "admin address for /metrics, /healthz, /readyz, overrides adminListen (MUDSCF_ADMIN_LISTEN)")
	endpoint := fs.String("upstream-endpoint", os.Getenv("MUDSCF_UPSTREAM_ENDPOINT"), "Tencent Cloud endpoint host[:port], overrides upstream.endpoint (MUDSCF_UPSTREAM_ENDPOINT)")
	scheme := fs.String("upstream-scheme", os.Getenv("MUDSCF_UPSTREAM_SCHEME"), "https or http, overrides upstream.scheme (MUDSCF_UPSTREAM_SCHEME)")
	level := fs.String("log-level", os.Getenv("MUDSCF_LOG_LEVEL"), "debug, info, warn or error, overrides logLevel (MUDSCF_LOG_LEVEL)")
	webConfig := fs.String("web.config.file", os.Getenv("MUDSCF_WEB_CONFIG_FILE"), "prometheus/exporter-toolkit web configuration `FILE` of the admin listener: TLS, basic auth (MUDSCF_WEB_CONFIG_FILE); /healthz and /readyz stay open to probes")
	return func(ctx context.Context, stdout io.Writer, logger *slog.Logger) error {
		if *configPath == "" {
			return usageError("--config (or MUDSCF_CONFIG) is required")
		}
		cfg, err := loadProxyConfig(*configPath)
		if err != nil {
			return err
		}
		override(&cfg.Listen, *listenAddr)
		override(&cfg.AdminListen, *adminListen)
		override(&cfg.Upstream.Endpoint, *endpoint)
		override(&cfg.Upstream.Scheme, *scheme)
		override(&cfg.LogLevel, *level)
		if err := overridden(cfg.Validate); err != nil {
			return err
		}
		if err := logLevel.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return err
		}
		// Checked before anything listens; the toolkit reads the file
		// again at each connection and request, so a fixed file needs no
		// restart, and a broken one fails those.
		if err := web.Validate(*webConfig); err != nil {
			return fmt.Errorf("--web.config.file %s: %w", *webConfig, err)
		}
		tp, shutdownTracing, err := setupTracing(ctx, "mudscf-proxy")
		if err != nil {
			return fmt.Errorf("tracing: %w", err)
		}
		defer func() { _ = shutdownTracing(context.Background()) }() // spans not flushed at exit are lost either way
		return serveProxy(ctx, cfg, proxy.Options{Logger: logger, TracerProvider: tp, WebConfigFile: *webConfig}, stdout)
	}
}

// serveProxy runs a proxy from a complete config on its configured
// addresses. The banner is printed only once the proxy is built and
// listening: a missing secret or a taken port fails without it.
func serveProxy(ctx context.Context, cfg proxy.Config, opts proxy.Options, stdout io.Writer) error {
	srv, err := newProxy(ctx, cfg, opts)
	if err != nil {
		return err
	}
	ls, err := listenAll(address{"listen", cfg.Listen}, address{"adminListen", cfg.AdminListen})
	if err != nil {
		return err
	}
	api, admin := ls[0], ls[1]
	adminURL := "http://" + admin.Addr().String()
	if opts.WebConfigFile != "" {
		adminURL = admin.Addr().String() + " (web configuration " + opts.WebConfigFile + ")"
	}
	fmt.Fprintf(stdout, "mudscf proxy: API on http://%s, metrics and health on %s\n", api.Addr(), adminURL)
	opts.Logger.Info("proxy listening", "api", api.Addr().String(), "admin", admin.Addr().String(), "projects", len(cfg.Projects))
	return srv.Serve(ctx, api, admin)
}

// newProxy builds the proxy, unless a signal ended startup first: then
// nothing is listened on or served.
func newProxy(ctx context.Context, cfg proxy.Config, opts proxy.Options) (*proxy.Server, error) {
	srv, err := proxy.New(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stopped during startup: %w", err)
	}
	return srv, nil
}

func override(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
