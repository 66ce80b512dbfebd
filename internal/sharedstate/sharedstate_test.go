package sharedstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	st := testengine.Open(t)
	a := open(t, st, clock.Real, nil)
	a.clk.Set(epoch)
	// Another instance's change of a revision leaves the stored clock as
	// it was: a's clock still counts.
	b := open(t, st, clock.Real, nil)
	if _, err := b.k.Revise(context.Background(), "faults", func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
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

// stored is the shared record as the store holds it.
func stored(t *testing.T, st store.Store) map[string]any {
	t.Helper()
	var m map[string]any
	err := st.Read(context.Background(), func(tx store.Tx) error {
		raw, err := tx.Get(bucket, key)
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &m)
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// unchanged fails the test if ch, a clock's Changed channel, is closed:
// the clock was restored, which wakes the runner for nothing.
func unchanged(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Errorf("%s restored the clock", what)
	default:
	}
}

// TestRevise: Revise commits fn's writes and a new revision of the name
// in one transaction, and applies it at once; other names keep theirs.
// When fn fails, nothing is written.
func TestRevise(t *testing.T) {
	t.Parallel()
	st := testengine.Open(t)
	a := open(t, st, clock.Virtual, wallAt(epoch))
	ctx := context.Background()
	r0, other := a.k.Revision("faults"), a.k.Revision("other")
	if r0 != other {
		t.Errorf("names never revised differ: %v, %v", r0, other)
	}
	changed := a.clk.Changed()
	r1, err := a.k.Revise(ctx, "faults", func(tx store.Tx) error { return tx.Put("faults", "rules", []byte("1")) })
	if err != nil {
		t.Fatal(err)
	}
	if r1 == r0 || a.k.Revision("faults") != r1 || a.k.Revision("other") != other {
		t.Errorf("after Revise: returned %v (was %v), Revision %v, other %v (was %v)", r1, r0, a.k.Revision("faults"), a.k.Revision("other"), other)
	}
	unchanged(t, changed, "a Revise")
	if got := a.clk.Now(); !got.Equal(epoch) {
		t.Errorf("clock after a Revise: %v, want %v", got, epoch)
	}
	if m := stored(t, st); m["mode"] != "virtual" || m["generation"] != a.k.Generation() {
		t.Errorf("the record lost its clock or generation: %v", m)
	}

	boom := errors.New("boom")
	_, err = a.k.Revise(ctx, "faults", func(tx store.Tx) error {
		if err := tx.Put("faults", "rules", []byte("2")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Revise with a failing fn: %v, want it wrapped", err)
	}
	if a.k.Revision("faults") != r1 {
		t.Error("a failed Revise changed the revision")
	}
	err = st.Read(ctx, func(tx store.Tx) error {
		v, err := tx.Get("faults", "rules")
		if err == nil && string(v) != "1" {
			err = fmt.Errorf("faults/rules = %q, want the first Revise's 1", v)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	// A second Revise: each revision is new.
	r2, err := a.k.Revise(ctx, "faults", func(store.Tx) error { return nil })
	if err != nil || r2 == r1 || r2 == r0 {
		t.Errorf("second Revise: %v, %v (before: %v, %v)", r2, err, r0, r1)
	}
}

// TestResetVoidsRevisions: a reset stores no revisions, and its new
// generation makes every revision differ from any before it, also of a
// name never revised.
func TestResetVoidsRevisions(t *testing.T) {
	t.Parallel()
	st := testengine.Open(t)
	a := open(t, st, clock.Real, nil)
	ctx := context.Background()
	never := a.k.Revision("other")
	revised, err := a.k.Revise(ctx, "faults", func(store.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := a.k.Reset(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := a.k.Revision("faults"); got == revised {
		t.Error("the revision survived a reset")
	}
	if got := a.k.Revision("other"); got == never {
		t.Error("a name never revised has the same revision after a reset")
	}
	if m := stored(t, st); m["revisions"] != nil {
		t.Errorf("the record after a reset: %v", m)
	}
}

// TestRecordWithoutRevisions: a record an earlier orgstack wrote, without
// revisions, reads as revisions never changed, and a Revise keeps its
// clock and generation.
func TestRecordWithoutRevisions(t *testing.T) {
	t.Parallel()
	st := testengine.Open(t)
	err := st.Write(context.Background(), func(tx store.Tx) error {
		return tx.Put(bucket, key, []byte(`{"mode":"virtual","now":"2030-01-02T03:04:05Z","generation":"g1"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	a := open(t, st, clock.Real, nil)
	if a.k.Revision("faults") != (Revision{generation: "g1"}) {
		t.Errorf("Revision = %+v", a.k.Revision("faults"))
	}
	if _, err := a.k.Revise(context.Background(), "faults", func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	m := stored(t, st)
	if m["mode"] != "virtual" || m["now"] != "2030-01-02T03:04:05Z" || m["generation"] != "g1" {
		t.Errorf("the record after a Revise: %v", m)
	}
	if revs, _ := m["revisions"].(map[string]any); len(revs) != 1 || revs["faults"] == "" {
		t.Errorf("revisions = %v", m["revisions"])
	}
}

// TestRevisionsAcrossInstances runs three Keepers on one PostgreSQL
// schema: a Revise through one is what the others see at their next
// Refresh, without their clocks being restored; concurrent Revises and
// clock moves through all of them all take effect.
func TestRevisionsAcrossInstances(t *testing.T) {
	u := testengine.PostgresURL(t)
	schema := testengine.Schema(t, u)
	ctx := context.Background()
	var in []instance
	for range 3 {
		in = append(in, open(t, testengine.OpenSchema(t, u, schema), clock.Real, nil))
	}
	a, b := in[0], in[1]
	if _, err := a.k.SetVirtual(ctx, func(time.Time) time.Time { return epoch }); err != nil {
		t.Fatal(err)
	}
	b.refresh(t)

	before := b.k.Revision("faults")
	rev, err := a.k.Revise(ctx, "faults", func(store.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if b.k.Revision("faults") != before {
		t.Fatal("b's revision changed before it refreshed")
	}
	changed := b.clk.Changed()
	b.refresh(t)
	if got := b.k.Revision("faults"); got != rev {
		t.Errorf("b after a revised: %v, want %v", got, rev)
	}
	unchanged(t, changed, "applying another instance's Revise")

	// Each instance, at once, revises four times (counting in the
	// store) and advances the clock by an hour four times.
	var (
		mu   sync.Mutex
		revs = map[Revision]bool{}
		wg   sync.WaitGroup
	)
	for _, x := range in {
		for range 4 {
			wg.Go(func() {
				r, err := x.k.Revise(ctx, "faults", func(tx store.Tx) error {
					n := 0
					if v, err := tx.Get("test", "count"); err == nil {
						n = int(v[0])
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
					return tx.Put("test", "count", []byte{byte(n + 1)})
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				revs[r] = true
				mu.Unlock()
			})
			wg.Go(func() {
				if _, err := x.k.SetVirtual(ctx, advance(time.Hour)); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if len(revs) != 12 {
		t.Errorf("12 Revises returned %d distinct revisions", len(revs))
	}
	err = a.k.st.Read(ctx, func(tx store.Tx) error {
		v, err := tx.Get("test", "count")
		if err == nil && v[0] != 12 {
			err = fmt.Errorf("the Revises' fns counted %d, want 12", v[0])
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	want := epoch.Add(12 * time.Hour)
	for _, x := range in {
		x.refresh(t)
	}
	final := a.k.Revision("faults")
	if !revs[final] {
		t.Errorf("a's revision %v is none of the Revises'", final)
	}
	for i, x := range in {
		if got := x.clk.Now(); !got.Equal(want) {
			t.Errorf("instance %d after 12 concurrent 1h advances: %v, want %v", i, got, want)
		}
		if got := x.k.Revision("faults"); got != final {
			t.Errorf("instance %d's revision %v, a's %v", i, got, final)
		}
	}
}
