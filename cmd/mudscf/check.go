package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mudscf/mudscf/internal/preflight"
	"github.com/mudscf/mudscf/proxy"
)

// liveChecks build the rows that check a valid proxy configuration against
// the accounts it names: proxy.Checks, which makes the calls the proxy
// makes (credentials, each function, each topic's index, each query form).
type liveChecks func(ctx context.Context, cfg proxy.Config, logger *slog.Logger) ([]preflight.Check, error)

func proxyLiveChecks(ctx context.Context, cfg proxy.Config, logger *slog.Logger) ([]preflight.Check, error) {
	return proxy.Checks(ctx, cfg, logger, time.Now())
}

// checkCommand checks configuration files, one row each, and then, unless
// --offline, the proxy configuration's account with the checks live
// builds from it. Which file is which is said by the flag, as proxy and
// exporter say it with their --config: guessing from the keys would judge
// a file with a mistyped key by the wrong schema.
func checkCommand(live liveChecks) func(*flag.FlagSet) action {
	return func(fs *flag.FlagSet) action {
		proxyPath := fs.String("config", os.Getenv("MUDSCF_CONFIG"), "proxy configuration `FILE` to check, as mudscf proxy --config reads it (MUDSCF_CONFIG)")
		exporterPath := fs.String("exporter-config", os.Getenv("MUDSCF_EXPORTER_CONFIG"), "exporter configuration `FILE` to check, as mudscf exporter --config reads it (MUDSCF_EXPORTER_CONFIG)")
		offline := fs.Bool("offline", false, "check the files alone: call nothing")
		return func(ctx context.Context, stdout io.Writer, logger *slog.Logger) error {
			if *proxyPath == "" && *exporterPath == "" {
				return usageError("give --config FILE (a proxy configuration), --exporter-config FILE, or both")
			}
			table := preflight.NewTable(stdout)
			var cfg proxy.Config
			valid := false
			if *proxyPath != "" {
				table.Run(ctx, preflight.Func("proxy config "+*proxyPath, func(context.Context) preflight.Result {
					c, err := loadProxyConfig(*proxyPath)
					if err != nil {
						return failed(err)
					}
					cfg, valid = c, true
					return preflight.Pass("valid: %s", countProxy(c))
				}))
			}
			if *exporterPath != "" {
				table.Run(ctx, preflight.Func("exporter config "+*exporterPath, func(context.Context) preflight.Result {
					c, err := loadExporterConfig(*exporterPath)
					if err != nil {
						return failed(err)
					}
					return preflight.Pass("valid: %s", plural(len(c.Functions), "function"))
				}))
			}
			if *proxyPath != "" && !*offline {
				switch {
				case !valid:
					table.Note("the account is not checked: the proxy configuration is invalid")
				default:
					checks, err := live(ctx, cfg, logger)
					if err != nil {
						table.Run(ctx, preflight.Func("the account", func(context.Context) preflight.Result { return failed(err) }))
						break
					}
					if len(checks) == 0 {
						table.Note("the configuration names nothing to check live: only the files were checked")
					}
					table.Run(ctx, checks...)
				}
			}
			if !table.Summarize() {
				return errReported
			}
			return nil
		}
	}
}

// failed is the row of a file that cannot be used: one problem per line.
func failed(err error) preflight.Result {
	var ce *configError
	if errors.As(err, &ce) {
		return preflight.Fail("%s", strings.Join(ce.problems, "\n"))
	}
	return preflight.Fail("%v", err)
}

func countProxy(cfg proxy.Config) string {
	fns := 0
	for _, p := range cfg.Projects {
		fns += len(p.Functions)
	}
	return plural(len(cfg.Projects), "project") + ", " + plural(fns, "listed function")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
