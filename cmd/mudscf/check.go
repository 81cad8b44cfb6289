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

	"github.com/mudscf/mudscf/internal/preflight"
	"github.com/mudscf/mudscf/proxy"
)

// proxyLiveChecks are the rows that check a valid proxy configuration
// against the account it names, with the calls the proxy will make
// (credentials, each function, each topic's index, each query form: issue
// 19). None exist yet; they are added here, as preflight.Checks built
// from cfg.
func proxyLiveChecks(cfg proxy.Config) []preflight.Check { return nil }

// checkCommand checks configuration files, one row each, and then, unless
// --offline, the proxy configuration's account with the checks live
// builds from it. Which file is which is said by the flag, as proxy and
// exporter say it with their --config: guessing from the keys would judge
// a file with a mistyped key by the wrong schema.
func checkCommand(live func(proxy.Config) []preflight.Check) func(*flag.FlagSet) action {
	return func(fs *flag.FlagSet) action {
		proxyPath := fs.String("config", os.Getenv("MUDSCF_CONFIG"), "proxy configuration `FILE` to check, as mudscf proxy --config reads it (MUDSCF_CONFIG)")
		exporterPath := fs.String("exporter-config", os.Getenv("MUDSCF_EXPORTER_CONFIG"), "exporter configuration `FILE` to check, as mudscf exporter --config reads it (MUDSCF_EXPORTER_CONFIG)")
		offline := fs.Bool("offline", false, "check the files alone: call nothing")
		return func(ctx context.Context, stdout io.Writer, _ *slog.Logger) error {
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
					checks := live(cfg)
					if len(checks) == 0 {
						table.Note("no live checks of the account exist yet: only the files were checked")
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
