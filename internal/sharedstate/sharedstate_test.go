package sharedstate

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

var epoch = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func wallAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// instance is one orgstack's view of a store: its clock and its Keeper.
type instance struct {
	clk *clock.Controlled
	k   *Keeper
}

func open(t *testing.T, st store.Store, mode clock.Mode, wall func() time.Time) instance {
	t.Helper()
	clk := clock.New(mode, wall)
	k, err := Open(context.Background(), Options{Store: st, Clock: clk, StartMode: mode, Wall: wall})
	if err != nil {
		t.Fatal(err)
	}
	return instance{clk, k}
}

func (in instance) refresh(t *testing.T) {
	t.Helper()
	if err := in.k.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func advance(d time.Duration) func(time.Time) time.Time {
	return func(now time.Time) time.Time { return now.Add(d) }
}

// TestStartStateIsRecordedOnce: instances that start in virtual mode at
// different wall-clock times on one store agree on the first one's time.
func TestStartStateIsRecordedOnce(t *testing.T) {
	t.Parallel()
	st := testengine.Open(t)
	a := open(t, st, clock.Virtual, wallAt(epoch))
	b := open(t, st, clock.Virtual, wallAt(epoch.Add(time.Minute)))
	if !a.clk.Now().Equal(epoch) || !b.clk.Now().Equal(epoch) {
		t.Fatalf("clocks = %v, %v; want both %v", a.clk.Now(), b.clk.Now(), epoch)
	}
	if a.k.Generation() == "" || a.k.Generation() != b.k.Generation() {
		t.Fatalf("generations %q, %q; want one, not empty", a.k.Generation(), b.k.Generation())
	}
}

// TestEarlierRecordFormat: a store written by an orgstack that kept only
// {"mode","now"} restores the same clock.
func TestEarlierRecordFormat(t *testing.T) {
	t.Parallel()
	st := testengine.Open(t)
	err := st.Write(context.Background(), func(tx store.Tx) error {
		return tx.Put(bucket, key, []byte(`{"mode":"virtual","now":"2030-01-02T03:04:05Z"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	a := open(t, st, clock.Real, nil)
	if got := a.clk.State(); got.Mode != clock.Virtual || !got.Now.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("clock = %+v", got)
	}
}

// TestAloneOnTheStore: without other instances, Refresh reads nothing;
// every change is made through the one Keeper, which applies it at once.
func TestAloneOnTheStore(t *testing.T) {
	t.Parallel()
	st := testengine.Open(t)
	if st.Info().Shared {
		t.Skip("the store is shared")
	}
	a := open(t, st, clock.Real, nil)
	// A change behind the Keeper's back stands for what only another
	// process could do; alone on the store, Refresh does not look.
	err := st.Write(context.Background(), func(tx store.Tx) error {
		return tx.Put(bucket, key, []byte(`{"mode":"virtual","now":"2030-01-02T03:04:05Z"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	a.refresh(t)
	if got := a.clk.State().Mode; got != clock.Real {
		t.Fatalf("Refresh on an unshared store changed the clock to %s", got)
	}
	s, err := a.k.SetVirtual(context.Background(), func(time.Time) time.Time { return epoch })
	if err != nil || !s.Now.Equal(epoch) || !a.clk.Now().Equal(epoch) {
		t.Fatalf("SetVirtual = %+v, %v; clock %v", s, err, a.clk.Now())
	}
}

// TestAdvanceStartsFromTheInstancesClock: a test may set an instance's
// clock directly; an advance through the admin API then counts from that
// time, as long as no other instance changed the store meanwhile.
func TestAdvanceStartsFromTheInstancesClock(t *testing.T) {
	t.Parallel()
	a := open(t, testengine.Open(t), clock.Real, nil)
	a.clk.Set(epoch)
	if _, err := a.k.SetVirtual(context.Background(), advance(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := a.clk.Now(); !got.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("after advancing 1h from %v: %v", epoch, got)
	}
}

// TestSharedAcrossInstances runs three Keepers on one PostgreSQL schema:
// a move of the clock or a reset through one is what the others see at
// their next Refresh, and concurrent advances add up.
func TestSharedAcrossInstances(t *testing.T) {
	u := testengine.PostgresURL(t)
	schema := testengine.Schema(t, u)
	ctx := context.Background()
	var in []instance
	for range 3 {
		in = append(in, open(t, testengine.OpenSchema(t, u, schema), clock.Real, nil))
	}
	a, b, c := in[0], in[1], in[2]

	if _, err := a.k.SetVirtual(ctx, func(time.Time) time.Time { return epoch }); err != nil {
		t.Fatal(err)
	}
	changed := b.clk.Changed()
	b.refresh(t)
	if got := b.clk.Now(); !got.Equal(epoch) {
		t.Fatalf("b after a set the clock: %v, want %v", got, epoch)
	}
	select {
	case <-changed:
	default:
		t.Fatal("applying a new clock did not wake b's runner")
	}
	// Unchanged: nothing is applied, so nothing wakes.
	changed = b.clk.Changed()
	b.refresh(t)
	select {
	case <-changed:
		t.Fatal("a refresh that found the state unchanged restored the clock")
	default:
	}

	// Advances through every instance at once all count.
	var wg sync.WaitGroup
	for _, x := range in {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := x.k.SetVirtual(ctx, advance(time.Hour)); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	want := epoch.Add(12 * time.Hour)
	for i, x := range in {
		x.refresh(t)
		if got := x.clk.Now(); !got.Equal(want) {
			t.Errorf("instance %d after 12 concurrent 1h advances: %v, want %v", i, got, want)
		}
	}

	gen := c.k.Generation()
	if err := a.k.Reset(ctx, func(tx store.Tx) error { return tx.Put("seed", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	c.refresh(t)
	if c.k.Generation() == gen || c.k.Generation() != a.k.Generation() {
		t.Errorf("generation after a reset: c %q (was %q), a %q", c.k.Generation(), gen, a.k.Generation())
	}
	if got := c.clk.State().Mode; got != clock.Real {
		t.Errorf("c's clock after a reset: %s, want real (its start mode)", got)
	}
}

// TestLaterRefreshWins: a refresh that began earlier, and may have read an
// older state, never replaces what a later one applied.
func TestLaterRefreshWins(t *testing.T) {
	t.Parallel()
	a := open(t, testengine.Open(t), clock.Real, nil)
	older, newer := a.k.take(), a.k.take()
	if err := a.k.apply(newer, []byte(`{"mode":"virtual","now":"2030-01-02T00:00:00Z","generation":"g2"}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.k.apply(older, []byte(`{"mode":"virtual","now":"2030-01-01T00:00:00Z","generation":"g1"}`)); err != nil {
		t.Fatal(err)
	}
	if got := a.clk.Now(); got.Day() != 2 || a.k.Generation() != "g2" {
		t.Fatalf("clock %v, generation %q; the later refresh's state was replaced", got, a.k.Generation())
	}
}
