package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

type config struct {
	endpoint    string
	mix         string
	concurrency int
	duration    time.Duration
	seed        int
	management  string
	baseline    bool
}

// weighted is one operation of the mix with its share.
type weighted struct {
	op     operation
	weight int
}

func parseMix(s string) ([]weighted, error) {
	var mix []weighted
	for _, part := range strings.Split(s, ",") {
		name, w, _ := strings.Cut(strings.TrimSpace(part), "=")
		op, ok := operations[name]
		if !ok {
			return nil, fmt.Errorf("--mix: unknown operation %q (known: %s)", name, strings.Join(operationNames(), ", "))
		}
		weight := 1
		if w != "" {
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("--mix: weight of %s must be a positive integer", name)
			}
			weight = n
		}
		mix = append(mix, weighted{op: op, weight: weight})
	}
	return mix, nil
}

// pick chooses an operation of the mix at random by weight.
func pick(mix []weighted, r *rand.Rand) operation {
	total := 0
	for _, w := range mix {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range mix {
		if n < w.weight {
			return w.op
		}
		n -= w.weight
	}
	return mix[len(mix)-1].op
}

// client makes an Organizations client for an account against a URL, with
// a transport sized for the concurrency.
func client(url, account string, transport http.RoundTripper) *organizations.Client {
	return organizations.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(account, "orgstack-load", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   &http.Client{Transport: transport},
	})
}

func newTransport(concurrency int) *http.Transport {
	return &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute}
}

// load prepares the organization, runs the mix against orgstack and, with
// --baseline, against the bare handler, and prints the reports.
func load(ctx context.Context, cfg config, mix []weighted, out io.Writer) error {
	rec := &recorder{responses: map[string]recorded{}}
	st, err := prepare(ctx, cfg, out)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	// Warm up through the recorder: the bare handler answers these bytes.
	warm := client(cfg.endpoint, cfg.management, rec.wrap(newTransport(cfg.concurrency)))
	for _, w := range mix {
		for i := 0; i < 20; i++ {
			if err := w.op.run(ctx, warm, st, rand.New(rand.NewPCG(uint64(i), 1))); err != nil {
				return fmt.Errorf("warm-up %s: %w", w.op.name, err)
			}
		}
	}
	fmt.Fprintf(out, "orgstack at %s: %d clients for %s\n", cfg.endpoint, cfg.concurrency, cfg.duration)
	got := runMix(ctx, cfg, mix, st, cfg.endpoint, out)
	got.print(out, "orgstack")
	if !cfg.baseline {
		return nil
	}
	url, stopBare, err := rec.serve()
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer stopBare()
	fmt.Fprintf(out, "\nbare net/http handler answering the same bytes: %d clients for %s\n", cfg.concurrency, cfg.duration)
	base := runMix(ctx, cfg, mix, st, url, out)
	base.print(out, "baseline")
	fmt.Fprintf(out, "\nratio to baseline: %.0f%% of the bare handler's throughput (%.0f vs %.0f ops/s)\n",
		100*got.throughput()/base.throughput(), got.throughput(), base.throughput())
	return nil
}

// result is what one run measured.
type result struct {
	elapsed time.Duration
	byOp    map[string][]time.Duration
	errors  map[string]int
	sample  map[string]string // one error message per operation
}

func (r *result) total() int {
	n := 0
	for _, l := range r.byOp {
		n += len(l)
	}
	return n
}

func (r *result) throughput() float64 { return float64(r.total()) / r.elapsed.Seconds() }

func (r *result) print(out io.Writer, label string) {
	fmt.Fprintf(out, "%-10s %-26s %9s %9s %9s %9s %9s %9s %7s\n", label, "operation", "ops", "ops/s", "p50", "p90", "p99", "max", "errors")
	names := make([]string, 0, len(r.byOp))
	for n := range r.byOp {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l := r.byOp[n]
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		fmt.Fprintf(out, "%-10s %-26s %9d %9.0f %9s %9s %9s %9s %7d\n", "", n, len(l), float64(len(l))/r.elapsed.Seconds(),
			pct(l, 50), pct(l, 90), pct(l, 99), pct(l, 100), r.errors[n])
	}
	fmt.Fprintf(out, "%-10s %-26s %9d %9.0f\n", "", "all", r.total(), r.throughput())
	for n, msg := range r.sample {
		fmt.Fprintf(out, "  %s error, e.g.: %s\n", n, msg)
	}
}

func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := (len(sorted)*p + 99) / 100
	if i > 0 {
		i--
	}
	return sorted[min(i, len(sorted)-1)].Round(time.Microsecond).String()
}

// runMix runs the mix from cfg.concurrency clients for cfg.duration and
// prints a progress line each second.
func runMix(ctx context.Context, cfg config, mix []weighted, st *state, url string, out io.Writer) *result {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	c := client(url, cfg.management, newTransport(cfg.concurrency))
	var (
		mu    sync.Mutex
		res   = &result{byOp: map[string][]time.Duration{}, errors: map[string]int{}, sample: map[string]string{}}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < cfg.concurrency; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
			local := map[string][]time.Duration{}
			errs := map[string]int{}
			samples := map[string]string{}
			for ctx.Err() == nil {
				op := pick(mix, r)
				t0 := time.Now()
				err := op.run(ctx, c, st, r)
				if ctx.Err() != nil && err != nil {
					break // the run ended under this call
				}
				if err != nil {
					errs[op.name]++
					samples[op.name] = err.Error()
					continue
				}
				local[op.name] = append(local[op.name], time.Since(t0))
				count.Add(1)
			}
			mu.Lock()
			for n, l := range local {
				res.byOp[n] = append(res.byOp[n], l...)
			}
			for n, e := range errs {
				res.errors[n] += e
			}
			for n, s := range samples {
				res.sample[n] = s
			}
			mu.Unlock()
		}(uint64(w))
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			res.elapsed = time.Since(start)
			fmt.Fprintln(out)
			return res
		case <-tick.C:
			el := time.Since(start)
			fmt.Fprintf(out, "\r  %4.0fs  %9d ops  %8.0f ops/s", el.Seconds(), count.Load(), float64(count.Load())/el.Seconds())
		}
	}
}

// errNotReady reports a precondition the mix needs that the server lacks.
var errNotReady = errors.New("not ready")
