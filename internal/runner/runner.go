// Package runner is orgstack's one background runner: everything AWS does
// asynchronously (finishing a CreateAccount request, moving a closed
// account from PENDING_CLOSURE to SUSPENDED, and later handshake expiry,
// automation schedules and event steps) is a job in the store, due at an
// instant of the orgstack clock.
//
// Jobs live in the store, not in memory, so that they survive restarts and
// several instances on one database share them. Each job runs inside one
// store.Write that also deletes it: whichever instance commits first runs
// it, the others find it gone, so it runs exactly once.
//
// The runner wakes at the next due time (a timer in real time; a change of
// the clock in virtual time), when a domain kicks it after enqueueing, and
// every pollInterval as a safety net for jobs enqueued by another instance.
// Settle runs every job due now before it returns, which is what the admin
// clock endpoint and tests call to see the outcome of moving time.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// bucket holds the jobs: due time (dueLayout, UTC, fixed width so that
// byte order is time order) + "/" + job id -> job record.
const bucket = "runner.jobs"

const dueLayout = "2006-01-02T15:04:05.000000000Z"

// Clock is what the runner needs of the orgstack clock: the time, and a
// channel closed when virtual time is set or advanced.
type Clock interface {
	Now() time.Time
	Changed() <-chan struct{}
}

// Job is one piece of background work.
type Job struct {
	ID      string          `json:"id"`
	Kind    string          `json:"kind"`
	Due     time.Time       `json:"due"`
	Payload json.RawMessage `json:"payload"`
}

// Decode unmarshals the job's payload into v.
func (j Job) Decode(v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return fmt.Errorf("runner: decode %s job %s: %w", j.Kind, j.ID, err)
	}
	return nil
}

func (j Job) key() string { return j.Due.UTC().Format(dueLayout) + "/" + j.ID }

// Handler does a job inside the transaction that deletes it. Returning an
// error rolls both back; the runner retries.
type Handler func(ctx context.Context, tx store.Tx, job Job) error

// FailHandler records that a job failed for good, after its retries, in
// the transaction that deletes it (CreateAccount: FAILED with
// INTERNAL_FAILURE). It may be nil.
type FailHandler func(ctx context.Context, tx store.Tx, job Job, cause error) error

// Kind is how a domain handles one kind of job.
type Kind struct {
	Run    Handler
	OnFail FailHandler
}

// Options configure a Runner.
type Options struct {
	Store  store.Store
	Clock  Clock
	Logger *slog.Logger
	// Attempts bounds how often a failing job is tried before its
	// FailHandler runs (default 4).
	Attempts int
	// Backoff is the wall-clock wait before the first retry; it doubles
	// with each retry (default 50ms). Retries wait in real time, not on
	// the orgstack clock, so a frozen virtual clock cannot stall them.
	Backoff time.Duration
	// PollInterval bounds how long the runner sleeps without looking at
	// the store (default 1s).
	PollInterval time.Duration
	// Refresh, when set, brings the clock up to date before each pass
	// decides what is due: another instance sharing the store may have
	// moved virtual time.
	Refresh func(ctx context.Context) error
}

// Runner runs the jobs of a store.
type Runner struct {
	opts Options
	log  *slog.Logger

	mu    sync.RWMutex
	kinds map[string]Kind

	runMu sync.Mutex // one pass over due jobs at a time in this process
	kick  chan struct{}

	lifeMu sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a runner; Start sets it going.
func New(opts Options) *Runner {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 4
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 50 * time.Millisecond
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	return &Runner{
		opts:  opts,
		log:   opts.Logger.With("component", "runner"),
		kinds: map[string]Kind{},
		kick:  make(chan struct{}, 1),
	}
}

// Register sets how jobs of a kind are run. Domains register their kinds
// when they are built, before Start.
func (r *Runner) Register(kind string, k Kind) {
	if k.Run == nil {
		panic("runner: Register " + kind + " without a handler")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[kind]; dup {
		panic("runner: kind " + kind + " registered twice")
	}
	r.kinds[kind] = k
}

// Enqueue stores a job due at the given instant, inside the caller's
// transaction, so that the job exists exactly when the change that asked
// for it commits. Call Kick after the transaction commits to have it run
// without waiting for the next poll.
func Enqueue(tx store.Tx, kind string, due time.Time, payload any) (string, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("runner: encode %s payload: %w", kind, err)
	}
	j := Job{ID: idgen.String(idgen.LowerAlnum, 16), Kind: kind, Due: due.UTC(), Payload: b}
	if err := store.CreateJSON(tx, bucket, j.key(), j); err != nil {
		return "", fmt.Errorf("runner: enqueue %s: %w", kind, err)
	}
	return j.ID, nil
}

// Cancel deletes a job, given its id and due time, inside the caller's
// transaction; for domains that drop work they had asked for. Cancelling
// a job that already ran is not an error.
func Cancel(tx store.Tx, due time.Time, id string) error {
	return tx.Delete(bucket, Job{ID: id, Due: due}.key())
}

// Kick wakes the runner to look for due jobs. It never blocks.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Start runs the runner in the background until Stop.
func (r *Runner) Start() {
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	if r.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go r.loop(ctx, r.done)
}

// Stop ends the background loop and waits for it; a job in progress
// finishes or rolls back first. Stop is idempotent.
func (r *Runner) Stop() {
	r.lifeMu.Lock()
	cancel, done := r.cancel, r.done
	r.cancel, r.done = nil, nil
	r.lifeMu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (r *Runner) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	for {
		// Take the change channel before looking, so that a change of
		// the clock while we run is not missed.
		changed := r.opts.Clock.Changed()
		if err := r.Settle(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("running due jobs", "error", err)
		}
		wait := r.opts.PollInterval
		if next, ok, err := r.nextDue(ctx); err != nil {
			if ctx.Err() == nil {
				r.log.Error("looking for the next job", "error", err)
			}
		} else if ok {
			// In virtual time this timer may fire early or late; a
			// pass that finds nothing due is harmless, and a move of
			// the clock wakes us through changed.
			if d := next.Sub(r.opts.Clock.Now()); d < wait {
				wait = max(d, 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.kick:
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// nextDue returns the due time of the earliest job.
func (r *Runner) nextDue(ctx context.Context) (time.Time, bool, error) {
	var next time.Time
	var ok bool
	err := r.opts.Store.Read(ctx, func(tx store.Tx) error {
		ok = false
		return store.ScanJSON(tx, bucket, "", "", 1, func(_ string, j *Job) error {
			next, ok = j.Due, true
			return nil
		})
	})
	return next, ok, err
}

// Settle runs every job due at the clock's current time, earliest first,
// including jobs that those jobs enqueue for no later than now, and
// returns when none is left due. It returns the first error that was not
// a job's own failure (those are retried, then handed to OnFail).
func (r *Runner) Settle(ctx context.Context) error {
	r.runMu.Lock()
	defer r.runMu.Unlock()
	for pass := 0; ; pass++ {
		if pass == maxSettlePasses {
			return fmt.Errorf("runner: jobs still due after %d passes; a job keeps re-enqueueing itself for now", pass)
		}
		if r.opts.Refresh != nil {
			if err := r.opts.Refresh(ctx); err != nil {
				return err
			}
		}
		now := r.opts.Clock.Now()
		due, err := r.dueJobs(ctx, now, 100)
		if err != nil || len(due) == 0 {
			return err
		}
		for _, j := range due {
			if err := ctx.Err(); err != nil {
				return err
			}
			r.runJob(ctx, j)
		}
	}
}

// dueJobs reads up to limit jobs due at or before now.
func (r *Runner) dueJobs(ctx context.Context, now time.Time, limit int) ([]Job, error) {
	bound := now.UTC().Format(dueLayout) + "/\xff"
	var out []Job
	err := r.opts.Store.Read(ctx, func(tx store.Tx) error {
		out = out[:0]
		return tx.Scan(bucket, "", "", limit, func(key string, v []byte) error {
			if key > bound {
				return store.ErrStop
			}
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("runner: decode job %s: %w", key, err)
			}
			out = append(out, j)
			return nil
		})
	})
	return out, err
}

// runJob tries a job up to Attempts times, each try one transaction that
// also deletes it; after the last failure OnFail records the failure in
// the transaction that deletes the job.
func (r *Runner) runJob(ctx context.Context, j Job) {
	r.mu.RLock()
	k, known := r.kinds[j.Kind]
	r.mu.RUnlock()
	if !known {
		// A job of a kind nobody handles (a newer binary enqueued it, or
		// the domain is not wired) would otherwise block nothing but be
		// tried forever; drop it and say so.
		r.log.Error("dropping a job of an unknown kind", "kind", j.Kind, "job", j.ID)
		if err := r.opts.Store.Write(ctx, func(tx store.Tx) error { return tx.Delete(bucket, j.key()) }); err != nil {
			r.log.Error("dropping job", "job", j.ID, "error", err)
		}
		return
	}
	var cause error
	backoff := r.opts.Backoff
	for attempt := 1; attempt <= r.opts.Attempts; attempt++ {
		err := r.opts.Store.Write(ctx, func(tx store.Tx) error {
			if _, err := tx.Get(bucket, j.key()); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return errGone // another instance or pass ran it
				}
				return err
			}
			if err := tx.Delete(bucket, j.key()); err != nil {
				return err
			}
			return k.Run(ctx, tx, j)
		})
		if err == nil || errors.Is(err, errGone) {
			return
		}
		if ctx.Err() != nil {
			return // stopping: the job stays for the next start
		}
		cause = err
		r.log.Warn("job failed", "kind", j.Kind, "job", j.ID, "attempt", attempt, "error", err)
		if attempt == r.opts.Attempts {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	r.log.Error("job failed for good", "kind", j.Kind, "job", j.ID, "attempts", r.opts.Attempts, "error", cause)
	err := r.opts.Store.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(bucket, j.key()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return errGone
			}
			return err
		}
		if err := tx.Delete(bucket, j.key()); err != nil {
			return err
		}
		if k.OnFail == nil {
			return nil
		}
		return k.OnFail(ctx, tx, j, cause)
	})
	if err != nil && !errors.Is(err, errGone) {
		// Even recording the failure failed: drop the job so that it
		// cannot block the queue, and leave the trace in the log.
		r.log.Error("recording a job's failure", "kind", j.Kind, "job", j.ID, "error", err)
		if err := r.opts.Store.Write(ctx, func(tx store.Tx) error { return tx.Delete(bucket, j.key()) }); err != nil {
			r.log.Error("dropping job", "job", j.ID, "error", err)
		}
	}
}

// maxSettlePasses stops Settle from spinning on a job that enqueues a
// successor due at the same virtual instant forever.
const maxSettlePasses = 1000

var errGone = errors.New("runner: job already run")

// Pending counts the jobs waiting, for health reporting and tests.
func (r *Runner) Pending(ctx context.Context, kindPrefix string) (int, error) {
	n := 0
	err := r.opts.Store.Read(ctx, func(tx store.Tx) error {
		n = 0
		return store.ScanJSON(tx, bucket, "", "", 0, func(_ string, j *Job) error {
			if strings.HasPrefix(j.Kind, kindPrefix) {
				n++
			}
			return nil
		})
	})
	return n, err
}
