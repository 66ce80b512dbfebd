package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	endpoints   []string
	mix         string
	concurrency int
	duration    time.Duration
	seed        int
	volumes     int
	management  string
	baseline    bool
	each        bool
	markdown    bool
	rounds      int
	label       string
	summary     bool
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

func mixName(mix []weighted) string {
	var parts []string
	for _, w := range mix {
		parts = append(parts, fmt.Sprintf("%s=%d", w.op.name, w.weight))
	}
	return strings.Join(parts, ",")
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

// load prepares the organization, then runs the mix (or, with --each,
// each operation of it on its own) against orgstack and, with --baseline,
// against the bare handler, and prints the reports.
func load(ctx context.Context, cfg config, mix []weighted, out, progress io.Writer) error {
	log := func(format string, args ...any) { fmt.Fprintf(progress, format+"\n", args...) }
	for _, w := range mix {
		if w.op.automation && cfg.volumes == 0 {
			return fmt.Errorf("--mix: %s needs --volumes (Automation over simulated EBS volumes)", w.op.name)
		}
	}
	rec := newRecorder()
	setup := newClients(cfg.endpoints, cfg.management, newTransport(cfg.concurrency))
	st, err := prepare(ctx, cfg, setup, log)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	log("organization: %d member accounts in %d OUs and the root; %d endpoint(s)", len(st.accounts), len(st.ous)-1, len(cfg.endpoints))

	runs := [][]weighted{mix}
	if cfg.each {
		runs = nil
		for _, w := range mix {
			runs = append(runs, []weighted{{op: w.op, weight: 1}})
		}
	}
	var table []row
	for _, m := range runs {
		// Warm up through the recorder: the bare handler answers these bytes.
		warm := newClients(cfg.endpoints, cfg.management, rec.wrap(newTransport(cfg.concurrency)))
		if err := warmUp(ctx, m, warm, st); err != nil {
			return err
		}
		got, base := &result{}, (*result)(nil)
		if cfg.baseline {
			base = &result{}
		}
		for round := range cfg.rounds {
			// With several rounds orgstack and the bare handler take turns,
			// so that a change in the machine's load meanwhile (other
			// processes) falls on both alike.
			log("orgstack: %s, %d clients for %s (round %d of %d)", mixName(m), cfg.concurrency, cfg.duration, round+1, cfg.rounds)
			got.merge(runMix(ctx, cfg, m, st, newClients(cfg.endpoints, cfg.management, newTransport(cfg.concurrency)), progress))
			if cfg.baseline {
				url, stopBare, err := rec.serve()
				if err != nil {
					return fmt.Errorf("baseline: %w", err)
				}
				log("bare net/http handler answering the same bytes: %d clients for %s", cfg.concurrency, cfg.duration)
				base.merge(runMix(ctx, cfg, m, st, newClients([]string{url}, cfg.management, newTransport(cfg.concurrency)), progress))
				stopBare()
			}
		}
		got.sort()
		if base != nil {
			base.sort()
		}
		if !cfg.markdown {
			got.print(out, "orgstack")
			if base != nil {
				base.print(out, "baseline")
				fmt.Fprintf(out, "\nratio to baseline: %.0f%% of the bare handler's throughput (%.0f vs %.0f ops/s)\n\n",
					100*got.throughput()/base.throughput(), got.throughput(), base.throughput())
			}
		}
		table = append(table, rows(m, got, base, cfg.label)...)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if cfg.summary {
		table = table[:1]
	}
	if cfg.markdown {
		printTable(out, table, cfg.baseline, !cfg.summary)
	}
	return nil
}

// warmUp runs each operation of the mix a few times: connections are
// open, caches filled, and the recorder has the responses.
func warmUp(ctx context.Context, mix []weighted, c *clients, st *state) error {
	for _, w := range mix {
		deadline := time.Now().Add(2 * time.Second)
		for i := 0; i < 20 && (i < 2 || time.Now().Before(deadline)); i++ {
			x := &worker{c: c, st: st, r: rand.New(rand.NewPCG(uint64(i), 1)), sample: func(string, time.Duration) {}}
			if err := w.op.run(ctx, x); err != nil {
				return fmt.Errorf("warm-up %s: %w", w.op.name, err)
			}
		}
	}
	return nil
}

// result is what one run measured.
type result struct {
	elapsed time.Duration
	byOp    map[string][]time.Duration // sorted once the run is over
	errors  map[string]int
	sample  map[string]string // one error message per operation
}

// merge adds what another run of the same mix measured.
func (r *result) merge(o *result) {
	if r.byOp == nil {
		r.byOp, r.errors, r.sample = map[string][]time.Duration{}, map[string]int{}, map[string]string{}
	}
	r.elapsed += o.elapsed
	for n, l := range o.byOp {
		r.byOp[n] = append(r.byOp[n], l...)
	}
	for n, e := range o.errors {
		r.errors[n] += e
	}
	for n, s := range o.sample {
		r.sample[n] = s
	}
}

// sort orders the latencies, for the percentiles.
func (r *result) sort() {
	for _, l := range r.byOp {
		slices.Sort(l)
	}
}

// total counts the operations of the mix, not their sub-measurements.
func (r *result) total() int {
	n := 0
	for name, l := range r.byOp {
		if !strings.Contains(name, "/") {
			n += len(l)
		}
	}
	return n
}

func (r *result) throughput() float64 { return float64(r.total()) / r.elapsed.Seconds() }

func (r *result) rate(name string) float64 { return float64(len(r.byOp[name])) / r.elapsed.Seconds() }

func (r *result) print(out io.Writer, label string) {
	fmt.Fprintf(out, "%-10s %-30s %9s %9s %9s %9s %9s %9s %7s\n", label, "operation", "ops", "ops/s", "p50", "p90", "p99", "max", "errors")
	names := make([]string, 0, len(r.byOp))
	for n := range r.byOp {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		l := r.byOp[n]
		fmt.Fprintf(out, "%-10s %-30s %9d %9.0f %9s %9s %9s %9s %7d\n", "", n, len(l), r.rate(n),
			fmtDur(pct(l, 50)), fmtDur(pct(l, 90)), fmtDur(pct(l, 99)), fmtDur(pct(l, 100)), r.errors[n])
	}
	fmt.Fprintf(out, "%-10s %-30s %9d %9.0f\n", "", "all", r.total(), r.throughput())
	for n, msg := range r.sample {
		fmt.Fprintf(out, "  %s error, e.g.: %s\n", n, msg)
	}
}

// pct returns the p-th percentile of sorted latencies (p=100: the
// maximum), or -1 when there are none.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return -1
	}
	i := (len(sorted)*p + 99) / 100
	if i > 0 {
		i--
	}
	return sorted[min(i, len(sorted)-1)]
}

func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// runMix runs the mix from cfg.concurrency clients for cfg.duration and
// writes a progress line each second.
func runMix(ctx context.Context, cfg config, mix []weighted, st *state, c *clients, progress io.Writer) *result {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var (
		mu    sync.Mutex
		res   = &result{byOp: map[string][]time.Duration{}, errors: map[string]int{}, sample: map[string]string{}}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	start := time.Now()
	for w := range cfg.concurrency {
		wg.Go(func() {
			local := map[string][]time.Duration{}
			errs := map[string]int{}
			samples := map[string]string{}
			x := &worker{c: c, st: st, r: rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))}
			x.sample = func(name string, d time.Duration) { local[name] = append(local[name], d) }
			for ctx.Err() == nil {
				op := pick(mix, x.r)
				t0 := time.Now()
				err := op.run(ctx, x)
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
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			res.elapsed = time.Since(start)
			fmt.Fprint(progress, "\r\033[K")
			return res
		case <-tick.C:
			el := time.Since(start)
			fmt.Fprintf(progress, "\r  %4.0fs  %9d ops  %8.0f ops/s", el.Seconds(), count.Load(), float64(count.Load())/el.Seconds())
		}
	}
}

// row is one line of the Markdown table.
type row struct {
	name          string
	ops           float64 // per second
	p50, p99, max time.Duration
	errors        int
	base          float64 // the bare handler's ops per second, 0 without --baseline
	baseP99       time.Duration
	unit          string
}

// rows turns a run into table rows: the mix as a whole when it has
// several operations, and each operation and sub-measurement.
func rows(mix []weighted, got, base *result, label string) []row {
	var out []row
	add := func(name, key, unit string) {
		l := got.byOp[key]
		r := row{name: name, ops: got.rate(key), p50: pct(l, 50), p99: pct(l, 99), max: pct(l, 100), errors: got.errors[key], unit: unit}
		if base != nil {
			r.base, r.baseP99 = base.rate(key), pct(base.byOp[key], 99)
		}
		out = append(out, r)
	}
	if len(mix) > 1 || label != "" {
		var all, baseAll []time.Duration
		errs := 0
		for _, w := range mix {
			all = append(all, got.byOp[w.op.name]...)
			errs += got.errors[w.op.name]
			if base != nil {
				baseAll = append(baseAll, base.byOp[w.op.name]...)
			}
		}
		slices.Sort(all)
		slices.Sort(baseAll)
		name := label
		if name == "" {
			name = "mix " + mixName(mix)
		}
		r := row{name: name, ops: got.throughput(), p50: pct(all, 50), p99: pct(all, 99), max: pct(all, 100), errors: errs, unit: "ops/s"}
		if base != nil {
			r.base, r.baseP99 = base.throughput(), pct(baseAll, 99)
		}
		out = append(out, r)
	}
	for _, w := range mix {
		unit := "ops/s"
		if w.op.name == "list-accounts" {
			unit = "walks/s"
		}
		add(w.op.title, w.op.name, unit)
		if _, ok := got.byOp[pageSample(w.op.name)]; ok {
			add(w.op.title+", per page", pageSample(w.op.name), "pages/s")
		}
	}
	return out
}

func printTable(out io.Writer, table []row, baseline, header bool) {
	switch {
	case !header:
	case baseline:
		fmt.Fprintln(out, "| operation | throughput | p50 | p99 | max | errors | bare handler | bare p99 | ratio |")
		fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	default:
		fmt.Fprintln(out, "| operation | throughput | p50 | p99 | max | errors |")
		fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|")
	}
	for _, r := range table {
		fmt.Fprintf(out, "| %s | %.0f %s | %s | %s | %s | %d |", r.name, r.ops, r.unit, fmtDur(r.p50), fmtDur(r.p99), fmtDur(r.max), r.errors)
		if baseline {
			ratio := "-"
			if r.base > 0 {
				ratio = fmt.Sprintf("%.0f%%", 100*r.ops/r.base)
			}
			fmt.Fprintf(out, " %.0f %s | %s | %s |", r.base, r.unit, fmtDur(r.baseP99), ratio)
		}
		fmt.Fprintln(out)
	}
}
