package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/mudscf/mudscf/internal/loadgen"
)

func main() {
	mixPath := flag.String("mix", "", "JSON file: [{name, weight, urls, header, varyWindow}]")
	clients := flag.Int("clients", 1000, "concurrent clients")
	rate := flag.Float64("rate", 1000, "requests per second over all clients")
	duration := flag.Duration("duration", 60*time.Second, "how long to schedule requests")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	zipfS := flag.Float64("zipf-s", 1.1, "Zipf exponent s (> 1) over each class's URLs")
	zipfV := flag.Float64("zipf-v", 1, "Zipf offset v (>= 1)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()

	if err := run(*mixPath, loadgen.Config{Clients: *clients, Rate: *rate, Duration: *duration,
		Timeout: *timeout, ZipfS: *zipfS, ZipfV: *zipfV, Seed: *seed}); err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

func run(mixPath string, cfg loadgen.Config) error {
	b, err := os.ReadFile(mixPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &cfg.Mix); err != nil {
		return fmt.Errorf("%s: %w", mixPath, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = cfg.Clients
	tr.MaxIdleConnsPerHost = cfg.Clients
	tr.DisableCompression = true
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := loadgen.Run(ctx, cfg, &http.Client{Transport: tr})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
