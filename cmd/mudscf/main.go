package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	// The upstream speaks Asia/Shanghai time; distroless images have no
	// zoneinfo, so the binary carries its own.
	_ "time/tzdata"
)

// subcommand runs with its own arguments until ctx is cancelled.
type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error
}

var subcommands = map[string]subcommand{
	"simulate": {"run the Tencent Cloud SCF API simulator", runSimulate},
	"proxy":    {"serve the Mudbase logs API from Tencent Cloud SCF", runProxy},
	"exporter": {"export executions as Prometheus metrics and OpenTelemetry spans", runExporter},
	"demo":     {"run simulator, proxy and exporter together on loopback", runDemo},
	"token":    {"mint an HS256 token for the proxy", runToken},
}

// logLevel is the level of the process's JSON logs; subcommands set it
// from their configuration.
var logLevel slog.LevelVar

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: &logLevel}))
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, logger))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, logger *slog.Logger) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	cmd, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mudscf: unknown subcommand %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout, logger); err != nil {
		if errors.Is(err, errUsage) {
			return 2
		}
		logger.Error("mudscf "+args[0]+" failed", "err", err)
		return 1
	}
	return 0
}

// errUsage is returned after a flag set already printed what was wrong.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mudscf <subcommand> [flags]\n\nsubcommands:")
	for name, c := range subcommands {
		fmt.Fprintf(w, "  %-10s %s\n", name, c.summary)
	}
}

// serve runs srv on l until ctx is cancelled, then lets in-flight requests
// finish for up to grace.
func serve(ctx context.Context, srv *http.Server, l net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}
