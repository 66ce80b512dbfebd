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
	// baselineProcess also runs the bare handler in a process of its own.
	baselineProcess bool
	each            bool
	markdown        bool
	rounds          int
	label           string
	summary         bool
	serverPIDs      []int // orgstack processes whose CPU time the report counts
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

// A baseline is a bare handler answering the bytes orgstack answered.
type baseline struct {
	name string // in reports
	// start serves the recorded responses and returns the URL, the
	// processes besides this one whose CPU time the handler spends, and
	// how to stop it.
	start func(rec *recorder) (url string, pids []int, stop func(), err error)
}

var (
	// inProcess is the bare handler of the issue that asked for the tool:
	// in this process, with the clients.
	inProcess = baseline{name: "bare handler", start: func(rec *recorder) (string, []int, func(), error) {
		url, stop, err := rec.serve()
		return url, nil, stop, err
	}}
	// ownProcess is the same handler in a process of its own, as orgstack
	// is: it pays, as orgstack does, for requests and answers crossing
	// from one process to another.
	ownProcess = baseline{name: "bare process", start: func(rec *recorder) (string, []int, func(), error) {
		return rec.serveProcess()
	}}
)

// load prepares the organization, then runs the mix (or, with --each,
// each operation of it on its own) against orgstack and the baselines,
// and prints the reports.
func load(ctx context.Context, cfg config, mix []weighted, out, progress io.Writer) error {
	log := func(format string, args ...any) { fmt.Fprintf(progress, format+"\n", args...) }
	for _, w := range mix {
		if w.op.automation && cfg.volumes == 0 {
			return fmt.Errorf("--mix: %s needs --volumes (Automation over simulated EBS volumes)", w.op.name)
		}
	}
	var bases []baseline
	if cfg.baseline {
		bases = append(bases, inProcess)
	}
	if cfg.baselineProcess {
		bases = append(bases, ownProcess)
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
		// Warm up through the recorder: the bare handlers answer these bytes.
		warm := newClients(cfg.endpoints, cfg.management, rec.wrap(newTransport(cfg.concurrency)))
		if err := warmUp(ctx, m, warm, st); err != nil {
			return err
		}
		got := &result{}
		based := make([]*result, len(bases))
		for round := range cfg.rounds {
			// With several rounds orgstack and the bare handlers take
			// turns, so that a change in the machine's load meanwhile
			// (other processes) falls on all alike.
			log("orgstack: %s, %d clients for %s (round %d of %d)", mixName(m), cfg.concurrency, cfg.duration, round+1, cfg.rounds)
			got.merge(runMix(ctx, cfg, m, st, newClients(cfg.endpoints, cfg.management, newTransport(cfg.concurrency)), cfg.serverPIDs, progress))
			for i, b := range bases {
				url, pids, stop, err := b.start(rec)
				if err != nil {
					return fmt.Errorf("%s: %w", b.name, err)
				}
				log("%s answering the same bytes: %d clients for %s", b.name, cfg.concurrency, cfg.duration)
				if based[i] == nil {
					based[i] = &result{}
				}
				// A bare handler changes nothing: what its answers make the
				// clients believe (where an account now is) must not reach
				// the state the next orgstack run starts from.
				based[i].merge(runMix(ctx, cfg, m, st.clone(), newClients([]string{url}, cfg.management, newTransport(cfg.concurrency)), pids, progress))
				stop()
			}
		}
		got.sort()
		for _, b := range based {
			b.sort()
		}
		if cfg.markdown {
			// The table counts errors; say what they were.
			for n, msg := range got.sample {
				log("%s error (%d in all), e.g.: %s", n, got.errors[n], msg)
			}
		}
		if !cfg.markdown {
			got.print(out, "orgstack")
			for i, b := range based {
				b.print(out, bases[i].name)
				fmt.Fprintf(out, "\nratio to the %s: %.0f%% of its throughput (%.0f vs %.0f ops/s)\n\n",
					bases[i].name, 100*got.throughput()/b.throughput(), got.throughput(), b.throughput())
			}
		}
		table = append(table, rows(m, got, based, cfg.label)...)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if cfg.summary {
		table = table[:1]
	}
	if cfg.markdown {
		printTable(out, table, bases, !cfg.summary, len(cfg.serverPIDs) > 0)
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
	cpu     cpuTimes
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
	r.cpu.self += o.cpu.self
	r.cpu.others += o.cpu.others
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
	if n := r.total(); n > 0 {
		fmt.Fprintf(out, "CPU time per operation: this process (clients) %s", fmtDur(perOp(r.cpu.self, n)))
		if r.cpu.others > 0 {
			fmt.Fprintf(out, ", orgstack %s", fmtDur(perOp(r.cpu.others, n)))
		}
		fmt.Fprintln(out)
	}
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
// The CPU time of this process and of the processes pids is measured too.
func runMix(ctx context.Context, cfg config, mix []weighted, st *state, c *clients, pids []int, progress io.Writer) *result {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var (
		mu    sync.Mutex
		res   = &result{byOp: map[string][]time.Duration{}, errors: map[string]int{}, sample: map[string]string{}}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	clock := cpuClock{pids: pids}
	cpu0, cpuErr := clock.read()
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
			if cpu1, err := clock.read(); err == nil && cpuErr == nil {
				res.cpu = cpu1.sub(cpu0)
			}
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
	unit          string
	// cpu is the CPU time per operation of the clients and orgstack.
	cpu   time.Duration
	bases []baseRow
}

// baseRow is what a baseline measured for a row.
type baseRow struct {
	ops float64
	p99 time.Duration
	cpu time.Duration // of the clients and the bare handler
}

// perOp divides CPU time by a count of operations.
func perOp(d time.Duration, n int) time.Duration {
	if n == 0 {
		return -1
	}
	return d / time.Duration(n)
}

// rows turns a run into table rows: the mix as a whole when it has
// several operations (or a label), and each operation and sub-measurement.
func rows(mix []weighted, got *result, bases []*result, label string) []row {
	var out []row
	// With several operations in a run, the CPU time cannot be told
	// apart by operation: only the row of the whole mix gets it.
	single := len(mix) == 1
	add := func(name, key, unit string) {
		l := got.byOp[key]
		r := row{name: name, ops: got.rate(key), p50: pct(l, 50), p99: pct(l, 99), max: pct(l, 100), errors: got.errors[key], unit: unit, cpu: -1}
		if single {
			r.cpu = perOp(got.cpu.self+got.cpu.others, len(l))
		}
		for _, b := range bases {
			br := baseRow{ops: b.rate(key), p99: pct(b.byOp[key], 99), cpu: -1}
			if single {
				br.cpu = perOp(b.cpu.self+b.cpu.others, len(b.byOp[key]))
			}
			r.bases = append(r.bases, br)
		}
		out = append(out, r)
	}
	if len(mix) > 1 || label != "" {
		name := label
		if name == "" {
			name = "mix " + mixName(mix)
		}
		r := row{name: name, ops: got.throughput(), unit: "ops/s", cpu: perOp(got.cpu.self+got.cpu.others, got.total())}
		r.p50, r.p99, r.max = mixPercentiles(mix, got)
		for _, w := range mix {
			r.errors += got.errors[w.op.name]
		}
		for _, b := range bases {
			_, p99, _ := mixPercentiles(mix, b)
			r.bases = append(r.bases, baseRow{ops: b.throughput(), p99: p99, cpu: perOp(b.cpu.self+b.cpu.others, b.total())})
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

// mixPercentiles are the p50, p99 and maximum over every operation of the mix.
func mixPercentiles(mix []weighted, r *result) (p50, p99, max time.Duration) {
	var all []time.Duration
	for _, w := range mix {
		all = append(all, r.byOp[w.op.name]...)
	}
	slices.Sort(all)
	return pct(all, 50), pct(all, 99), pct(all, 100)
}

// printTable prints the rows in Markdown: orgstack's figures, then each
// baseline's and the ratio to it; with cpu, also the CPU time per
// operation of each side and the ratio of those.
func printTable(out io.Writer, table []row, bases []baseline, header, cpu bool) {
	if header {
		cols := []string{"operation", "throughput", "p50", "p99", "max", "errors"}
		if cpu {
			cols = append(cols, "CPU/op")
		}
		for _, b := range bases {
			cols = append(cols, b.name, b.name+" p99")
			if cpu {
				cols = append(cols, b.name+" CPU/op")
			}
			cols = append(cols, "ratio to "+b.name)
			if cpu {
				cols = append(cols, "CPU ratio to "+b.name)
			}
		}
		fmt.Fprintln(out, "| "+strings.Join(cols, " | ")+" |")
		fmt.Fprintln(out, "|---"+strings.Repeat("|---:", len(cols)-1)+"|")
	}
	for _, r := range table {
		cells := []string{r.name, fmt.Sprintf("%.0f %s", r.ops, r.unit), fmtDur(r.p50), fmtDur(r.p99), fmtDur(r.max), fmt.Sprint(r.errors)}
		if cpu {
			cells = append(cells, fmtDur(r.cpu))
		}
		for _, b := range r.bases {
			cells = append(cells, fmt.Sprintf("%.0f %s", b.ops, r.unit), fmtDur(b.p99))
			if cpu {
				cells = append(cells, fmtDur(b.cpu))
			}
			cells = append(cells, percent(r.ops, b.ops))
			if cpu {
				cells = append(cells, percent(float64(b.cpu), float64(r.cpu)))
			}
		}
		fmt.Fprintln(out, "| "+strings.Join(cells, " | ")+" |")
	}
}

// percent is a/b as a percentage, or "-" when either is unknown.
func percent(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}
