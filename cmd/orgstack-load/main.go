// Command orgstack-load drives a running orgstack with the official AWS SDK
// for Go and reports throughput and latency percentiles per operation.
// With --baseline it also runs the same mix, in the same process and with
// the same client, against a bare net/http handler that answers the very
// bytes orgstack answered, so that every report carries the ratio to what
// this machine and client can do at all.
//
//	go run ./cmd/orgstack-load --endpoint http://127.0.0.1:4566 \
//	    --mix describe-organization=4,describe-account=4,list-accounts=1 \
//	    --concurrency 16 --duration 20s --seed 1000 --baseline
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run())
}

func run() int {
	var cfg config
	flag.StringVar(&cfg.endpoint, "endpoint", "http://127.0.0.1:4566", "orgstack's URL")
	flag.StringVar(&cfg.mix, "mix", "describe-organization=1", "operations and their weights: "+strings.Join(operationNames(), ", "))
	flag.IntVar(&cfg.concurrency, "concurrency", 8, "concurrent clients")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long each run lasts")
	flag.IntVar(&cfg.seed, "seed", 20, "accounts to create in the organization before the run (in a tree of OUs)")
	flag.StringVar(&cfg.management, "management-account", "100000000001", "the management account (its 12-digit access key)")
	flag.BoolVar(&cfg.baseline, "baseline", false, "also run the mix against a bare handler answering the same bytes")
	flag.Parse()
	mix, err := parseMix(cfg.mix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "orgstack-load:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := load(ctx, cfg, mix, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "orgstack-load:", err)
		return 1
	}
	return 0
}
