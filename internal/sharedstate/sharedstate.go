// Package sharedstate keeps what every orgstack instance on one store must
// agree on besides the domains' own records: the clock (real, or virtual
// and at which instant), the reset generation, a value that changes with
// every reset so that an instance can tell that what it remembers of the
// store (open mode's accounts known to exist) is void, and revisions, one
// per part of the store that instances keep a view of in memory (the
// fault rules), which change with every change of that part.
//
// All live in one small record of the store. An instance whose store
// others share (store.Info.Shared: PostgreSQL) reads that one key at the
// start of every request and runner pass and applies it only when its
// bytes changed, so an unchanged state costs a single point read. An
// instance alone on its store (SQLite) never needs to read it again: every
// change goes through its own Keeper.
package sharedstate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// The record's key. Earlier orgstacks kept only the virtual clock there,
// as {"mode","now"}; such a record still reads as the same clock.
const (
	bucket = "meta"
	key    = "clock"
)

// record is the stored shared state.
type record struct {
	// Mode is the clock's mode; empty means none was ever set, and each
	// instance follows its own start mode.
	Mode clock.Mode `json:"mode,omitempty"`
	// Now is the virtual time; zero in real mode.
	Now time.Time `json:"now,omitzero"`
	// Generation is new after every reset.
	Generation string `json:"generation,omitempty"`
	// Revisions holds, by name, the revision of each part of the store
	// that instances keep a view of: a new random value with every change
	// made through Revise. A reset starts without any; the new generation
	// already voids every view.
	Revisions map[string]string `json:"revisions,omitempty"`
}

// sameClock says whether r and o stand for the same clock in the same
// generation, whatever their revisions.
func (r record) sameClock(o record) bool {
	return r.Mode == o.Mode && r.Now.Equal(o.Now) && r.Generation == o.Generation
}

// A Revision identifies one state of a named part of the store, such as
// the fault rules: it changes with every change of that part made through
// Revise, on any instance, and with every reset. A view of the part that
// an instance took at revision v is current exactly as long as
// Keeper.Revision returns v. Revisions compare with ==.
type Revision struct {
	generation, value string
}

// Options configure a Keeper.
type Options struct {
	Store store.Store
	// Clock is the instance's clock, which the Keeper keeps in step with
	// the stored state.
	Clock *clock.Controlled
	// StartMode is the clock's mode while the store records none: at the
	// first start on an empty store and after every reset.
	StartMode clock.Mode
	// Wall is time.Now unless a test supplies another; a virtual clock
	// starts at the wall-clock time.
	Wall func() time.Time
}

// Keeper keeps one instance's clock, reset generation and revisions in
// step with the store. It is safe for concurrent use.
type Keeper struct {
	st     store.Store
	clk    *clock.Controlled
	start  clock.Mode
	wall   func() time.Time
	shared bool

	// applied is what requests read of the record last applied, without
	// taking mu: they do on every request.
	applied atomic.Pointer[appliedRecord]

	mu sync.Mutex
	// raw is the stored record last applied and rec its decoding.
	raw []byte
	rec record
	// ticket orders refreshes by the moment they began, so that a read
	// that began earlier (and may have seen an older state) never
	// replaces what a later one applied; next hands tickets out.
	ticket, next uint64
}

// Open loads the shared state, recording the start state first when the
// store holds none, and sets the clock to it.
func Open(ctx context.Context, opts Options) (*Keeper, error) {
	if opts.Wall == nil {
		opts.Wall = time.Now
	}
	if opts.StartMode == "" {
		opts.StartMode = clock.Real
	}
	k := &Keeper{st: opts.Store, clk: opts.Clock, start: opts.StartMode, wall: opts.Wall, shared: opts.Store.Info().Shared}
	var raw []byte
	err := k.st.Write(ctx, func(tx store.Tx) error {
		var err error
		raw, err = tx.Get(bucket, key)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Recording the start state makes instances that start on an
		// empty store at once agree on one virtual start time: the first
		// to commit sets it.
		raw, err = json.Marshal(k.startRecord())
		if err != nil {
			return err
		}
		return tx.Create(bucket, key, raw)
	})
	if err != nil {
		return nil, fmt.Errorf("sharedstate: load: %w", err)
	}
	if err := k.apply(k.take(), raw); err != nil {
		return nil, err
	}
	return k, nil
}

// startRecord is the state of a fresh or freshly reset store: the start
// mode (a virtual clock at the current wall-clock time) and a new
// generation.
func (k *Keeper) startRecord() record {
	r := record{Generation: idgen.String(idgen.LowerAlnum, 16)}
	if k.start == clock.Virtual {
		r.Mode, r.Now = clock.Virtual, clock.New(clock.Virtual, k.wall).Now()
	}
	return r
}

// Shared reports whether other processes share the store, so that Refresh
// does any work.
func (k *Keeper) Shared() bool { return k.shared }

// Refresh brings the clock and the generation up to date with the store
// when other instances share it; otherwise they cannot have changed, and
// it does nothing. Call it before anything that depends on the time or on
// the generation: the start of a request, a runner pass.
func (k *Keeper) Refresh(ctx context.Context) error {
	if !k.shared {
		return nil
	}
	t := k.take()
	var raw []byte
	var err error
	if g, ok := k.st.(pointReader); ok {
		raw, err = g.Get(ctx, bucket, key)
	} else {
		err = k.st.Read(ctx, func(tx store.Tx) error {
			var err error
			raw, err = tx.Get(bucket, key)
			return err
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		raw, err = nil, nil // an older orgstack reset the store
	}
	if err != nil {
		return fmt.Errorf("sharedstate: refresh: %w", err)
	}
	return k.apply(t, raw)
}

// appliedRecord is the part of an applied record that requests read; it is
// never modified once stored.
type appliedRecord struct {
	gen  string
	revs map[string]string
}

// pointReader is a store that reads a single key without a transaction,
// more cheaply than Read (the PostgreSQL engine: one round trip instead of
// three). Refresh runs before every request, so the difference shows.
type pointReader interface {
	Get(ctx context.Context, bucket, key string) ([]byte, error)
}

// Generation is the reset generation the instance last saw. Anything an
// instance remembers about the store's records is good only while this
// stays the same.
func (k *Keeper) Generation() string { return k.applied.Load().gen }

// Revision is the revision of the part of the store called name as the
// instance last saw it: as of the last Refresh, or of the last Revise
// through this Keeper when that came later.
func (k *Keeper) Revision(name string) Revision {
	a := k.applied.Load()
	return Revision{generation: a.gen, value: a.revs[name]}
}

// Revise runs fn in a write transaction that also gives the revision
// called name a new value, and returns the revision the transaction
// committed, which is this Keeper's from then on (unless a later Refresh
// brings a newer one). Every other instance sees the new revision at its
// next Refresh, and so knows that its view of that part of the store is
// out of date. When fn fails nothing is written and its error is returned
// (wrapped). Like any Write's, fn may run more than once.
func (k *Keeper) Revise(ctx context.Context, name string, fn func(store.Tx) error) (Revision, error) {
	// Drawn once: a value no committed transaction has used, which is
	// all a retry needs.
	value := idgen.String(idgen.LowerAlnum, 16)
	var raw []byte
	var rev Revision
	err := k.st.Write(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		cur, err := tx.Get(bucket, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		r, err := k.decode(cur)
		if err != nil {
			return err
		}
		if r.Revisions == nil {
			r.Revisions = map[string]string{}
		}
		r.Revisions[name] = value
		rev = Revision{generation: r.Generation, value: value}
		if raw, err = json.Marshal(r); err != nil {
			return err
		}
		return tx.Put(bucket, key, raw)
	})
	if err != nil {
		return Revision{}, fmt.Errorf("sharedstate: revise %s: %w", name, err)
	}
	return rev, k.apply(k.take(), raw)
}

// SetVirtual moves the shared clock, in one transaction, to the virtual
// instant next(now), where now is the clock's current time, and returns
// the new state. Concurrent moves through several instances all take
// effect, one after the other (advancing by an hour from two instances
// advances by two).
func (k *Keeper) SetVirtual(ctx context.Context, next func(now time.Time) time.Time) (clock.State, error) {
	var raw []byte
	var st clock.State
	err := k.st.Write(ctx, func(tx store.Tx) error {
		cur, err := tx.Get(bucket, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// The instance's clock is the current time unless the stored
		// clock changed since it was last applied: then another instance
		// moved it (or reset), and the stored state is the truth. (A test
		// may have set the instance's clock directly; that time counts.)
		now := k.clk.Now()
		r, err := k.decode(cur)
		if err != nil {
			return err
		}
		k.mu.Lock()
		stale := !r.sameClock(k.rec)
		k.mu.Unlock()
		if stale {
			c := clock.New(clock.Real, k.wall)
			c.Restore(k.clockState(r))
			now = c.Now()
		}
		r.Mode, r.Now = clock.Virtual, next(now)
		st = clock.State{Mode: clock.Virtual, Now: r.Now}
		if raw, err = json.Marshal(r); err != nil {
			return err
		}
		return tx.Put(bucket, key, raw)
	})
	if err != nil {
		return clock.State{}, fmt.Errorf("sharedstate: set clock: %w", err)
	}
	return st, k.apply(k.take(), raw)
}

// Reset wipes the store and, in the same transaction, records the start
// state with a new generation and no revisions, and runs seed (when not
// nil) to put back what must always exist. Other instances see the reset
// at their next Refresh: their clocks return to the start state, their
// generation and so every revision changes.
func (k *Keeper) Reset(ctx context.Context, seed func(store.Tx) error) error {
	var raw []byte
	err := k.st.Reset(ctx, func(tx store.Tx) error {
		var err error
		if raw, err = json.Marshal(k.startRecord()); err != nil {
			return err
		}
		if err := tx.Put(bucket, key, raw); err != nil {
			return err
		}
		if seed == nil {
			return nil
		}
		return seed(tx)
	})
	if err != nil {
		return fmt.Errorf("sharedstate: reset: %w", err)
	}
	return k.apply(k.take(), raw)
}

// take hands out the next refresh ticket.
func (k *Keeper) take() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.next++
	return k.next
}

// apply installs a stored record read by the refresh holding ticket t,
// unless a refresh that began later has already applied one. Unchanged
// bytes are not even decoded, and the clock is restored (which wakes the
// runner) only when the record's clock or generation changed, not when
// only a revision did.
func (k *Keeper) apply(t uint64, raw []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t < k.ticket {
		return nil
	}
	k.ticket = t
	if k.raw != nil && bytes.Equal(raw, k.raw) {
		return nil
	}
	r, err := k.decode(raw)
	if err != nil {
		return err
	}
	first := k.raw == nil
	k.raw = bytes.Clone(raw)
	if k.raw == nil {
		k.raw = []byte{} // applied: an absent record
	}
	k.applied.Store(&appliedRecord{gen: r.Generation, revs: r.Revisions})
	if first || !r.sameClock(k.rec) {
		k.clk.Restore(k.clockState(r))
	}
	k.rec = r
	return nil
}

func (k *Keeper) decode(raw []byte) (record, error) {
	var r record
	if len(raw) == 0 {
		return r, nil
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("sharedstate: decode %s/%s: %w", bucket, key, err)
	}
	return r, nil
}

// clockState is the clock a record stands for on this instance.
func (k *Keeper) clockState(r record) clock.State {
	switch r.Mode {
	case clock.Virtual:
		return clock.State{Mode: clock.Virtual, Now: r.Now}
	case clock.Real:
		return clock.State{Mode: clock.Real}
	}
	return clock.New(k.start, k.wall).State()
}
