package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func enqueue(t *testing.T, st store.Store, kind string, due time.Time, payload any) string {
	t.Helper()
	var id string
	err := st.Write(context.Background(), func(tx store.Tx) error {
		var err error
		id, err = Enqueue(tx, kind, due, payload)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A virtual clock: jobs run in due order, only once due, and Settle
// returns after the due ones ran.
func TestSettleRunsDueJobsInOrderExactlyOnce(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := clock.New(clock.Virtual, nil)
	r := New(Options{Store: st, Clock: clk})
	var mu sync.Mutex
	var ran []string
	r.Register("note", Kind{Run: func(_ context.Context, tx store.Tx, j Job) error {
		var s string
		if err := j.Decode(&s); err != nil {
			return err
		}
		mu.Lock()
		ran = append(ran, s)
		mu.Unlock()
		return tx.Put("test.notes", s, nil)
	}})
	t0 := clk.Now()
	enqueue(t, st, "note", t0.Add(2*time.Hour), "c")
	enqueue(t, st, "note", t0.Add(time.Hour), "b")
	enqueue(t, st, "note", t0, "a")
	ctx := context.Background()
	if err := r.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1 || ran[0] != "a" {
		t.Fatalf("after Settle at t0 ran %v, want [a]", ran)
	}
	clk.Advance(3 * time.Hour)
	if err := r.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(ran); got != 3 || ran[1] != "b" || ran[2] != "c" {
		t.Fatalf("ran %v, want [a b c]", ran)
	}
	if n, _ := r.Pending(ctx, ""); n != 0 {
		t.Errorf("%d jobs left", n)
	}
}

// The background loop wakes on a clock change and on Kick.
func TestLoopWakesOnClockChangeAndKick(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := clock.New(clock.Virtual, nil)
	r := New(Options{Store: st, Clock: clk, PollInterval: time.Hour})
	done := make(chan string, 4)
	r.Register("note", Kind{Run: func(_ context.Context, _ store.Tx, j Job) error {
		var s string
		j.Decode(&s)
		done <- s
		return nil
	}})
	r.Start()
	defer r.Stop()
	enqueue(t, st, "note", clk.Now().Add(time.Minute), "later")
	enqueue(t, st, "note", clk.Now(), "now")
	r.Kick()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-done:
			if got != want {
				t.Fatalf("ran %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q did not run", want)
		}
	}
	expect("now")
	clk.Advance(time.Minute)
	expect("later")
}

// Real mode: a job due shortly runs when its time comes, without a kick.
func TestLoopRealTimeTimer(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := clock.New(clock.Real, nil)
	r := New(Options{Store: st, Clock: clk, PollInterval: time.Hour})
	done := make(chan struct{})
	r.Register("tick", Kind{Run: func(context.Context, store.Tx, Job) error { close(done); return nil }})
	enqueue(t, st, "tick", clk.Now().Add(50*time.Millisecond), nil)
	r.Start()
	defer r.Stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the job due in 50ms did not run")
	}
}

// A failing job is retried a bounded number of times, its writes rolled
// back each time, then handed to OnFail in the transaction that deletes it.
func TestFailingJobRetriedThenRecorded(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := clock.New(clock.Virtual, nil)
	r := New(Options{Store: st, Clock: clk, Attempts: 3, Backoff: time.Millisecond})
	var tries atomic.Int32
	boom := errors.New("boom")
	r.Register("bad", Kind{
		Run: func(_ context.Context, tx store.Tx, _ Job) error {
			tries.Add(1)
			tx.Put("test.partial", "x", nil)
			return boom
		},
		OnFail: func(_ context.Context, tx store.Tx, _ Job, cause error) error {
			if !errors.Is(cause, boom) {
				t.Errorf("cause = %v", cause)
			}
			return tx.Put("test.failed", "x", nil)
		},
	})
	enqueue(t, st, "bad", clk.Now(), nil)
	ctx := context.Background()
	if err := r.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if tries.Load() != 3 {
		t.Errorf("tried %d times, want 3", tries.Load())
	}
	st.Read(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("test.partial", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Error("a failed attempt's write was kept")
		}
		if _, err := tx.Get("test.failed", "x"); err != nil {
			t.Error("OnFail's write is missing")
		}
		return nil
	})
	if n, _ := r.Pending(ctx, ""); n != 0 {
		t.Errorf("%d jobs left after failing for good", n)
	}
}

// Two runners on one store (two instances): each job runs once.
func TestTwoRunnersRunEachJobOnce(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := clock.New(clock.Virtual, nil)
	var runs atomic.Int32
	mk := func() *Runner {
		r := New(Options{Store: st, Clock: clk})
		r.Register("count", Kind{Run: func(context.Context, store.Tx, Job) error { runs.Add(1); return nil }})
		return r
	}
	a, b := mk(), mk()
	for range 50 {
		enqueue(t, st, "count", clk.Now(), nil)
	}
	var wg sync.WaitGroup
	for _, r := range []*Runner{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); r.Settle(context.Background()) }()
	}
	wg.Wait()
	if runs.Load() != 50 {
		t.Fatalf("%d runs for 50 jobs", runs.Load())
	}
}

// Three runners of three instances on one PostgreSQL database, where a
// job's transaction may run several times (serialization retries), so
// runs are counted by what committed: each job ran once.
func TestRunnersOfInstancesOnPostgreSQLRunEachJobOnce(t *testing.T) {
	u := testengine.PostgresURL(t)
	schema := testengine.Schema(t, u)
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var runners []*Runner
	var stores []store.Store
	for range 3 {
		st := testengine.OpenSchema(t, u, schema)
		clk := clock.New(clock.Virtual, nil)
		clk.Set(now)
		r := New(Options{Store: st, Clock: clk, Backoff: time.Millisecond})
		r.Register("count", Kind{Run: func(_ context.Context, tx store.Tx, j Job) error {
			n, err := tx.Count("test.runs", j.ID+"/")
			if err != nil {
				return err
			}
			return tx.Put("test.runs", fmt.Sprintf("%s/%d", j.ID, n), nil)
		}})
		runners, stores = append(runners, r), append(stores, st)
	}
	const jobs = 60
	for i := range jobs {
		enqueue(t, stores[i%3], "count", now.Add(-time.Duration(i)*time.Second), nil)
	}
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Settle(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	err := stores[0].Read(context.Background(), func(tx store.Tx) error {
		perJob := map[string]int{}
		err := tx.Scan("test.runs", "", "", 0, func(k string, _ []byte) error {
			id, _, _ := strings.Cut(k, "/")
			perJob[id]++
			return nil
		})
		if len(perJob) != jobs {
			t.Errorf("%d jobs ran, want %d", len(perJob), jobs)
		}
		for id, n := range perJob {
			if n != 1 {
				t.Errorf("job %s ran %d times", id, n)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := runners[0].Pending(context.Background(), ""); n != 0 {
		t.Errorf("%d jobs left", n)
	}
}

func TestStopIsIdempotentAndUnknownKindsAreDropped(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := clock.New(clock.Virtual, nil)
	r := New(Options{Store: st, Clock: clk})
	enqueue(t, st, "nobody", clk.Now(), nil)
	r.Start()
	r.Start()
	if err := r.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	r.Stop()
	if n, _ := r.Pending(context.Background(), ""); n != 0 {
		t.Errorf("unknown job kept: %d", n)
	}
}
