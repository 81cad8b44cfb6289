package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"go.opentelemetry.io/otel/trace"

	"github.com/mudscf/mudscf/exporter"
)

func runExporter(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("exporter", flag.ContinueOnError)
	configPath := fs.String("config", os.Getenv("MUDSCF_EXPORTER_CONFIG"), "YAML configuration file (MUDSCF_EXPORTER_CONFIG)")
	listen := fs.String("listen", os.Getenv("MUDSCF_EXPORTER_LISTEN"), "metrics address, overrides listen (MUDSCF_EXPORTER_LISTEN)")
	endpoint := fs.String("endpoint", os.Getenv("MUDSCF_EXPORTER_ENDPOINT"), "Mudbase API base URL, overrides endpoint (MUDSCF_EXPORTER_ENDPOINT)")
	checkpoint := fs.String("checkpoint", os.Getenv("MUDSCF_EXPORTER_CHECKPOINT"), "checkpoint file, overrides checkpoint (MUDSCF_EXPORTER_CHECKPOINT)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *configPath == "" {
		return errors.New("--config (or MUDSCF_EXPORTER_CONFIG) is required")
	}
	cfg, err := exporter.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	override(&cfg.Listen, *listen)
	override(&cfg.Endpoint, *endpoint)
	override(&cfg.Checkpoint, *checkpoint)
	if err := cfg.Validate(); err != nil {
		return err
	}
	tp, shutdownTracing, err := setupTracing(ctx, "mudscf-exporter")
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer shutdownTracing(context.Background())
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "mudscf exporter: metrics on http://%s/metrics, polling %s\n", l.Addr(), cfg.Endpoint)
	return serveExporterOn(ctx, cfg, l, tp, logger)
}

func serveExporterOn(ctx context.Context, cfg exporter.Config, l net.Listener, tp trace.TracerProvider, logger *slog.Logger) error {
	exp, err := exporter.New(cfg, exporter.Options{Logger: logger, TracerProvider: tp})
	if err != nil {
		l.Close()
		return err
	}
	logger.Info("exporter polling", "endpoint", cfg.Endpoint, "functions", len(cfg.Functions), "metrics", l.Addr().String())
	return exp.Serve(ctx, l)
}
