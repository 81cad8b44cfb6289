package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mudscf/mudscf/internal/tencentsim"
)

// defaultSimAddr is the simulator's address in `mudscf simulate` and the
// demo. Not 9000: php-fpm, MinIO, SonarQube and ClickHouse all default to
// it.
const defaultSimAddr = "127.0.0.1:8083"

func simulateCommand(fs *flag.FlagSet) action {
	addr := fs.String("addr", defaultSimAddr, "listen address")
	configPath := fs.String("config", "", "YAML file with accounts, functions and faults (default: the built-in demo account and functions)")
	secretID := fs.String("secret-id", "", "the SecretId to accept, replacing the configured accounts")
	secretKey := fs.String("secret-key", "", "the SecretKey for --secret-id (or MUDSCF_SIM_SECRET_KEY, which keeps it out of the process list)")
	seed := fs.Int64("seed", 0, "seed of the synthetic executions (0: the config's, default 1)")
	passthrough := fs.Bool("passthrough", false, "benchmark aid: serve GET /_sim/passthrough/logs?function=F&limit=N&offset=M for a generic HTTP cache, under the same 5/s limit")
	var faults tencentsim.Faults
	fs.DurationVar(&faults.Latency, "fault-latency", 0, "added latency before each GetFunctionLogs answer")
	fs.IntVar(&faults.HTTPStatus, "fault-http-status", 0, "answer GetFunctionLogs with this HTTP status")
	fs.BoolVar(&faults.MalformedJSON, "fault-malformed-json", false, "answer GetFunctionLogs with malformed JSON")
	fs.BoolVar(&faults.ResetConnection, "fault-reset", false, "reset the connection instead of answering")
	fs.StringVar(&faults.ErrorCode, "fault-error-code", "", "answer GetFunctionLogs with this Tencent error code")
	return func(ctx context.Context, stdout io.Writer, logger *slog.Logger) error {
		cfg := tencentsim.DefaultConfig()
		if *configPath != "" {
			var err error
			if cfg, err = tencentsim.LoadConfig(*configPath); err != nil {
				return err
			}
		}
		if *secretKey == "" {
			*secretKey = os.Getenv("MUDSCF_SIM_SECRET_KEY")
		}
		switch {
		case *secretID != "" && *secretKey != "":
			cfg.Accounts = []tencentsim.Account{{SecretID: *secretID, SecretKey: *secretKey}}
		case *secretID != "" || *secretKey != "":
			return usageError("--secret-id and --secret-key go together")
		}
		if *seed != 0 {
			cfg.Seed = *seed
		}
		cfg.Passthrough = *passthrough
		if faults != (tencentsim.Faults{}) {
			cfg.Faults = faults
		}
		sim, err := tencentsim.New(cfg)
		if err != nil {
			return err
		}
		l, err := listen("--addr", *addr)
		if err != nil {
			return err
		}
		ids := make([]string, len(cfg.Accounts))
		for i, a := range cfg.Accounts {
			ids[i] = a.SecretID
		}
		logger.Info("SCF simulator listening", "addr", l.Addr().String(), "secretIds", ids, "functions", len(cfg.Functions))
		fmt.Fprintf(stdout, "Tencent Cloud SCF simulator on http://%s (API 3.0 at /, ground truth at /_sim/truth, faults at /_sim/faults)\n", l.Addr())
		return serve(ctx, newHTTPServer(sim), l, 5*time.Second)
	}
}
