// Command orgstack-load drives running orgstack instances with the
// official AWS SDK for Go (and, for Compute Optimizer Automation, which no
// Go SDK covers, with literal awsJson1_0 requests) and reports throughput
// and latency percentiles per operation. With --baseline it also runs the
// same mix, in the same process and with the same client, against a bare
// net/http handler that answers the very bytes orgstack answered, so that
// every report carries the ratio to what this machine and client can do
// at all.
//
//	go run ./cmd/orgstack-load --endpoint http://127.0.0.1:4566 \
//	    --mix describe-organization=4,describe-account=4,list-accounts-page=1 \
//	    --concurrency 8 --duration 20s --seed 1000 --baseline
//
// --each runs each operation of the mix on its own, --markdown prints the
// results as a Markdown table, --endpoint a,b,c takes several instances
// in turn, request by request. --measure-start runs the command given
// after -- (an orgstack serving prepared state) several times and reports
// the time from its start to its first answer:
//
//	orgstack-load --measure-start -- orgstack serve --data-dir DIR
//
// docs/performance.md and scripts/perf.sh put it all together.
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
	var endpoints string
	var start bool
	var serverPIDs string
	var startRuns int
	flag.StringVar(&endpoints, "endpoint", "http://127.0.0.1:4566", "orgstack's URL; several, comma-separated, are taken in turn request by request")
	flag.StringVar(&cfg.mix, "mix", "describe-organization=1", "operations and their weights: "+strings.Join(operationNames(), ", "))
	flag.IntVar(&cfg.concurrency, "concurrency", 8, "concurrent clients")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long each run lasts")
	flag.IntVar(&cfg.seed, "seed", 20, "accounts to create in the organization before the run (in a tree of OUs)")
	flag.IntVar(&cfg.volumes, "volumes", 0, "simulated EBS volumes to generate over the accounts, with Compute Optimizer Automation set up (needed by list-recommended-actions)")
	flag.StringVar(&cfg.management, "management-account", "100000000001", "the management account (its 12-digit access key)")
	flag.BoolVar(&cfg.baseline, "baseline", false, "also run the mix against a bare handler answering the same bytes, in this process")
	flag.BoolVar(&cfg.baselineProcess, "baseline-process", false, "also run the mix against the same bare handler in a process of its own, as orgstack is")
	serveRecorded := flag.String("serve-recorded", "", "(used by --baseline-process) serve the responses recorded in this file on 127.0.0.1")
	flag.BoolVar(&cfg.each, "each", false, "run each operation of the mix on its own, one after the other")
	flag.BoolVar(&cfg.markdown, "markdown", false, "print the results as a Markdown table (progress goes to standard error)")
	flag.IntVar(&cfg.rounds, "rounds", 1, "run orgstack and the bare handler this many times each, taking turns, and report all rounds together")
	flag.StringVar(&cfg.label, "label", "", "with --markdown: the name of the row of the whole mix, or of the --measure-start row")
	flag.BoolVar(&cfg.summary, "summary", false, "with --markdown: print only the row of the whole mix, without a header (for tables built from several runs)")
	flag.StringVar(&serverPIDs, "server-pid", "", "process ids of the orgstack instances (comma-separated): the report then also gives the CPU time per operation, clients and servers together, and the ratio of the bare handler's to orgstack's")
	flag.BoolVar(&start, "measure-start", false, "measure the time from starting the command after -- to its first answer, instead of running a mix")
	flag.IntVar(&startRuns, "start-runs", 5, "with --measure-start: how many starts")
	flag.Parse()
	if *serveRecorded != "" {
		if err := serveRecordedFile(*serveRecorded, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "orgstack-load:", err)
			return 1
		}
		return 0
	}
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimRight(strings.TrimSpace(e), "/"); e != "" {
			cfg.endpoints = append(cfg.endpoints, e)
		}
	}
	if len(cfg.endpoints) == 0 || cfg.concurrency < 1 || cfg.duration <= 0 || cfg.rounds < 1 {
		fmt.Fprintln(os.Stderr, "orgstack-load: --endpoint, --concurrency, --duration and --rounds must be given")
		return 2
	}
	var err error
	if cfg.serverPIDs, err = parsePIDs(serverPIDs); err != nil {
		fmt.Fprintln(os.Stderr, "orgstack-load:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if start {
		if err := measureStart(ctx, cfg, flag.Args(), max(startRuns, 1), os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "orgstack-load:", err)
			return 1
		}
		return 0
	}
	mix, err := parseMix(cfg.mix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "orgstack-load:", err)
		return 2
	}
	if err := load(ctx, cfg, mix, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orgstack-load:", err)
		return 1
	}
	return 0
}
