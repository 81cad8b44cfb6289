package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/prometheus/exporter-toolkit/web"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.yaml.in/yaml/v2"

	"github.com/mudscf/mudscf/exporter"
)

func exporterCommand(fs *flag.FlagSet) action {
	configPath := fs.String("config", os.Getenv("MUDSCF_EXPORTER_CONFIG"), "YAML configuration `FILE` (MUDSCF_EXPORTER_CONFIG); mudscf check --exporter-config FILE checks it")
	listenAddr := fs.String("listen", os.Getenv("MUDSCF_EXPORTER_LISTEN"), "metrics address, overrides listen (MUDSCF_EXPORTER_LISTEN)")
	endpoint := fs.String("endpoint", os.Getenv("MUDSCF_EXPORTER_ENDPOINT"), "Mudbase API base URL, overrides endpoint (MUDSCF_EXPORTER_ENDPOINT)")
	checkpoint := fs.String("checkpoint", os.Getenv("MUDSCF_EXPORTER_CHECKPOINT"), "checkpoint file, overrides checkpoint (MUDSCF_EXPORTER_CHECKPOINT)")
	level := fs.String("log-level", os.Getenv("MUDSCF_LOG_LEVEL"), "debug, info, warn or error, overrides logLevel (MUDSCF_LOG_LEVEL)")
	webConfig := fs.String("web.config.file", os.Getenv("MUDSCF_EXPORTER_WEB_CONFIG"), "exporter-toolkit web configuration `FILE` of the metrics listener: TLS, basic auth (MUDSCF_EXPORTER_WEB_CONFIG); /healthz and /readyz stay without authentication")
	return func(ctx context.Context, stdout io.Writer, logger *slog.Logger) error {
		if *configPath == "" {
			return usageError("--config (or MUDSCF_EXPORTER_CONFIG) is required")
		}
		cfg, err := loadExporterConfig(*configPath)
		if err != nil {
			return err
		}
		override(&cfg.Listen, *listenAddr)
		override(&cfg.Endpoint, *endpoint)
		override(&cfg.Checkpoint, *checkpoint)
		override(&cfg.LogLevel, *level)
		if err := overridden(cfg.Validate); err != nil {
			return err
		}
		if err := logLevel.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return fmt.Errorf("config: logLevel: %w", err)
		}
		l, err := listen("listen", cfg.Listen)
		if err != nil {
			return err
		}
		return serveExporterOn(ctx, cfg, exporter.Options{WebConfigFile: *webConfig}, l, logger, func(addr net.Addr) {
			fmt.Fprintf(stdout, "mudscf exporter: metrics on %s://%s/metrics, polling %s\n", webScheme(*webConfig), addr, cfg.Endpoint)
		})
	}
}

// serveExporterOn runs the exporter on l until ctx ends, with opts (its
// transport, its web configuration; spans and logger are set here);
// started is called once it has started (its credentials read and its
// checkpoint written).
func serveExporterOn(ctx context.Context, cfg exporter.Config, opts exporter.Options, l net.Listener, logger *slog.Logger, started func(net.Addr)) error {
	spans, res, shutdownSpans, err := executionSpans(ctx)
	if err != nil {
		l.Close()
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		if err := shutdownSpans(context.Background()); err != nil {
			logger.Warn("flushing execution spans at exit", "error", err)
		}
	}()
	opts.Logger, opts.SpanProcessor, opts.Resource = logger, spans, res
	exp, err := exporter.New(cfg, opts)
	if err != nil {
		l.Close()
		return err
	}
	if started != nil {
		started(l.Addr())
	}
	logger.Info("exporter polling", "endpoint", cfg.Endpoint, "functions", len(cfg.Functions), "projects", len(cfg.Projects), "metrics", l.Addr().String())
	return exp.Serve(ctx, l)
}

// executionSpans returns the processor execution spans go to, a batcher
// over the OTLP (or other autoexport) exporter, when the standard OTEL_*
// variables ask for traces (nil otherwise), and the resource every
// function's starts from: OTEL_RESOURCE_ATTRIBUTES and the SDK's. The
// exporter gives each function its own service.name on top of it.
func executionSpans(ctx context.Context) (sdktrace.SpanProcessor, *resource.Resource, func(context.Context) error, error) {
	noopShutdown := func(context.Context) error { return nil }
	if !tracesRequested() {
		return nil, nil, noopShutdown, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, nil, noopShutdown, err
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, nil, noopShutdown, err
	}
	bsp := sdktrace.NewBatchSpanProcessor(exp)
	return bsp, res, bsp.Shutdown, nil
}

// webScheme is the scheme the metrics listener serves with the web
// configuration at path: https when it has a server certificate. (The
// listener itself validates the file and fails on a bad one.)
func webScheme(path string) string {
	if path == "" {
		return "http"
	}
	b, err := os.ReadFile(path) //nolint:gosec // G703: the operator's own --web.config.file
	var c web.Config
	if err != nil || yaml.Unmarshal(b, &c) != nil || c.TLSConfig.TLSCert == "" && c.TLSConfig.TLSCertPath == "" {
		return "http"
	}
	return "https"
}
