package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	// The upstream speaks Asia/Shanghai time; distroless images have no
	// zoneinfo, so the binary carries its own.
	_ "time/tzdata"
)

// A subcommand defines its flags on fs and returns what runs once they
// are parsed: run parses them the same way for all, so that -h and bad
// flags are handled alike everywhere.
type subcommand struct {
	name    string
	summary string
	flags   func(fs *flag.FlagSet) action
}

// An action runs a subcommand until ctx is cancelled.
type action func(ctx context.Context, stdout io.Writer, logger *slog.Logger) error

// subcommands in the order usage lists them.
var subcommands = []subcommand{
	{"proxy", "serve the Mudbase logs API from Tencent Cloud SCF", proxyCommand},
	{"exporter", "export executions as Prometheus metrics and OpenTelemetry spans", exporterCommand},
	{"check", "check proxy and exporter configuration files, then the account they name", checkCommand(proxyLiveChecks)},
	{"simulate", "run the Tencent Cloud SCF API simulator", simulateCommand},
	{"demo", "run simulator, proxy and exporter together on loopback", demoCommand},
	{"token", "mint an HS256 token for the proxy", tokenCommand},
	{"version", "print the version (as --version does)", versionCommand},
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
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel()
	}()
	if bi, ok := debug.ReadBuildInfo(); ok {
		versionFromBuildInfo(bi)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: &logLevel, ReplaceAttr: durationsInSeconds}))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, logger)
	cancel()
	os.Exit(code)
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
		printVersion(stdout)
		return 0
	}
	i := slices.IndexFunc(subcommands, func(c subcommand) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "mudscf: unknown subcommand %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	sub := subcommands[i]
	fs := flag.NewFlagSet("mudscf "+sub.name, flag.ContinueOnError)
	act := sub.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mudscf %s [flags]\n\n%s\n", sub.name, sub.summary)
		if hasFlags(fs) {
			fmt.Fprintln(fs.Output(), "\nflags:")
			fs.PrintDefaults()
		}
	}
	// Help that was asked for goes to stdout with exit status 0; a bad
	// flag goes to stderr with 2.
	var parsed bytes.Buffer
	fs.SetOutput(&parsed)
	err := fs.Parse(args[1:])
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		stdout.Write(parsed.Bytes())
		return 0
	case err != nil:
		stderr.Write(parsed.Bytes())
		return 2
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "mudscf %s: unexpected argument %q\n\n", sub.name, fs.Arg(0))
		fs.Usage()
		return 2
	}
	err = act(ctx, stdout, logger)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "mudscf %s: %s\n\n", sub.name, ue)
		fs.Usage()
		return 2
	case errors.Is(err, errReported):
		return 1
	case stderrIsTerminal(stderr):
		fmt.Fprintf(stderr, "mudscf %s: %s\n", sub.name, plainText(err))
		return 1
	default:
		logger.Error("mudscf "+sub.name+" failed", "err", err)
		return 1
	}
}

// usageError is a subcommand called without what it needs; run prints it
// with the subcommand's usage and exits 2, as for a bad flag.
type usageError string

func (e usageError) Error() string { return string(e) }

// errReported ends a subcommand that has already said why it failed (check
// prints its table): exit status 1 and nothing more.
var errReported = errors.New("failed; already reported")

// stderrIsTerminal says whether a person reads w. A failure is then
// printed as plain text; otherwise (a container's log, a pipe) it stays a
// JSON log line. A variable so that tests can be that person.
var stderrIsTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// plainText is err for a terminal: a configuration file's problems one
// per line under the file's name, as check prints them.
func plainText(err error) string {
	var ce *configError
	if errors.As(err, &ce) {
		return "config " + ce.path + " is invalid:\n  " + strings.Join(ce.problems, "\n  ")
	}
	return err.Error()
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

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

// durationsInSeconds writes every duration attribute in seconds, the unit
// of every mudscf metric, under its key with "_seconds" added: slog's
// JSON writes a time.Duration as integer nanoseconds, which nobody reads
// at a glance (the access log's "duration", the exporter's waits).
func durationsInSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	key := a.Key
	if !strings.HasSuffix(key, "_seconds") {
		key += "_seconds"
	}
	return slog.Float64(key, a.Value.Duration().Seconds())
}
