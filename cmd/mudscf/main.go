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
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/common/version"

	// The upstream speaks Asia/Shanghai time; distroless images have no
	// zoneinfo, so the binary carries its own.
	_ "time/tzdata"
)

// A subcommand runs with its own arguments until ctx is cancelled.
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error
}

// subcommands in the order usage lists them.
var subcommands = []subcommand{
	{"proxy", "serve the Mudbase logs API from Tencent Cloud SCF", runProxy},
	{"exporter", "export executions as Prometheus metrics and OpenTelemetry spans", runExporter},
	{"simulate", "run the Tencent Cloud SCF API simulator", runSimulate},
	{"demo", "run simulator, proxy and exporter together on loopback", runDemo},
	{"token", "mint an HS256 token for the proxy", runToken},
}

// logLevel is the level of the process's JSON logs; subcommands set it
// from their configuration.
var logLevel slog.LevelVar

func main() {
	// Installed before anything is read, so that a signal during startup
	// cancels it too. The first signal restores the default action before
	// it cancels ctx, so that by the time anything can see the drain begin
	// (readiness failing), a second SIGTERM or Ctrl-C ends a process stuck
	// anywhere. (signal.NotifyContext with context.AfterFunc(ctx, stop)
	// restored it only after the cancel, in a goroutine of its own: a
	// second signal sent as soon as /readyz failed was sometimes swallowed.)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel()
	}()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: &logLevel}))
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, logger))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, logger *slog.Logger) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	case "--version", "-version":
		fmt.Fprintln(stdout, version.Print("mudscf"))
		return 0
	}
	i := slices.IndexFunc(subcommands, func(c subcommand) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "mudscf: unknown subcommand %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := subcommands[i].run(ctx, args[1:], stdout, logger); err != nil {
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
	fmt.Fprintln(w, "usage: mudscf <subcommand> [flags]   (mudscf <subcommand> -h: its flags; mudscf --version)\n\nsubcommands:")
	for _, c := range subcommands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}

// httpTimeouts are the timeouts of the simulator's and the demo's servers:
// slow request headers, slow bodies and idle keep-alive connections are
// all cut off. A variable so that tests can shorten them.
var httpTimeouts = struct{ readHeader, read, write, idle time.Duration }{
	readHeader: 5 * time.Second, read: 30 * time.Second, write: 2 * time.Minute, idle: 2 * time.Minute,
}

// newHTTPServer is an http.Server for h with httpTimeouts. The write
// timeout covers the handler too: long enough for the simulator's
// configured latency faults.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: httpTimeouts.readHeader, ReadTimeout: httpTimeouts.read,
		WriteTimeout: httpTimeouts.write, IdleTimeout: httpTimeouts.idle, MaxHeaderBytes: 64 << 10}
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
