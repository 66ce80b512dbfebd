package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/store"
)

// The rule set is one record, read in one point read; a reset, which
// wipes the store, removes it and every rule with it.
const (
	bucket   = "faults"
	keyRules = "rules"
)

// ruleSet is the stored record: the rules in the order they were added,
// which is the order a request tries them in. Epoch is drawn when the
// record is created (so anew after a reset) and Version grows with every
// change, so that a view read before a change never replaces one taken
// after it. A set read where there is no record has no epoch.
type ruleSet struct {
	Epoch   string  `json:"epoch"`
	Version int64   `json:"version"`
	Rules   []*Rule `json:"rules"`
}

// DefaultRefresh is how long an Injector trusts the rule set it last
// read before reading it again.
const DefaultRefresh = time.Second

// Options configure an Injector.
type Options struct {
	Store store.Store
	// Services are the services rules may name.
	Services []*protocol.Service
	// Float64 draws a number in [0, 1) for each probability roll; nil
	// means math/rand/v2. Tests inject a seeded source.
	Float64 func() float64
	// Refresh bounds how long the rule set read last is trusted; 0 means
	// DefaultRefresh. Now is the time that is measured in; nil: time.Now.
	Refresh time.Duration
	Now     func() time.Time
	// Generation is the store's reset generation as this instance knows
	// it (sharedstate.Keeper.Generation); a view taken in another
	// generation is void, so a reset through any instance drops the rules
	// at once. Nil: resets are noticed within Refresh.
	Generation func() string
}

// Injector applies the stored rules to requests and manages them.
//
// Asking the store on every request would cost a database round trip per
// API call with PostgreSQL (the SQLite engine answers from memory), so
// requests use the rule set this Injector last saw, for up to Refresh.
// That delays nothing done through this instance: adding, deleting and
// firing rules here update its view at once. Rules added through another
// instance sharing the database apply here within Refresh. Deletions and
// counts are never stale: a rule fires only through a write that finds it
// still there with count left. A reset through any instance voids the
// view at once (Options.Generation).
type Injector struct {
	store   store.Store
	catalog *Catalog
	float64 func() float64
	refresh time.Duration
	now     func() time.Time
	gen     func() string
	// view is the rule set as last read or written, shared by concurrent
	// requests and never modified once published.
	view atomic.Pointer[snapshot]
}

// snapshot is a rule set, when it was known to be current, and in which
// reset generation.
type snapshot struct {
	set *ruleSet
	at  time.Time
	gen string
}

// New returns an Injector over the rules in opts.Store.
func New(opts Options) *Injector {
	in := &Injector{store: opts.Store, catalog: NewCatalog(opts.Services...),
		float64: opts.Float64, refresh: opts.Refresh, now: opts.Now, gen: opts.Generation}
	if in.float64 == nil {
		in.float64 = rand.Float64
	}
	if in.refresh <= 0 {
		in.refresh = DefaultRefresh
	}
	if in.now == nil {
		in.now = time.Now
	}
	if in.gen == nil {
		in.gen = func() string { return "" }
	}
	return in
}

// Inject decides whether a request to op of svc fails: it tries each
// rule that matches in turn, rolls its probability, and answers the
// modelled error of the first that fires, built by the service's own
// constructor so that every protocol renders it exactly as that error.
// Firing is a write that takes one from the rule's count, so that across
// all instances a rule with count N fails exactly N requests. A nil
// error and nil APIError let the request through.
func (in *Injector) Inject(ctx context.Context, svc *protocol.Service, op *protocol.Operation, _ string) (protocol.APIError, error) {
	set, err := in.current(ctx)
	if err != nil || set == nil {
		return nil, err
	}
	for _, r := range set.Rules {
		if r.exhausted() || !r.matches(svc, op) {
			continue
		}
		if r.Probability < 1 && in.float64() >= r.Probability {
			continue
		}
		fired, err := in.fire(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		if fired == nil {
			continue // deleted, or its last count went to another request
		}
		if e := svc.NewError(fired.Error, fired.message()); e != nil {
			return e, nil
		}
	}
	return nil, nil
}

// current returns the rule set to apply: the one last seen, unless that
// is older than the refresh interval or from before a reset.
func (in *Injector) current(ctx context.Context) (*ruleSet, error) {
	now, gen := in.now(), in.gen()
	if v := in.view.Load(); v != nil && v.gen == gen && in.fresh(v, now) {
		return v.set, nil
	}
	var set *ruleSet
	err := in.store.Read(ctx, func(tx store.Tx) error {
		var err error
		set, err = load(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	in.publish(&snapshot{set: set, at: now, gen: gen})
	return set, nil
}

// fresh says whether v may still be used at now.
func (in *Injector) fresh(v *snapshot, now time.Time) bool {
	age := now.Sub(v.at)
	return age >= 0 && age < in.refresh
}

// publish makes next the view requests apply, unless the view in place
// is fresh and known to be newer: a read or change that raced with a
// change made here must not hide it for a refresh interval.
func (in *Injector) publish(next *snapshot) {
	for {
		cur := in.view.Load()
		if cur != nil && cur.gen == next.gen && in.fresh(cur, next.at) && older(next.set, cur.set) {
			return
		}
		if in.view.CompareAndSwap(cur, next) {
			return
		}
	}
}

// older says whether a is known to precede b. No record at all precedes
// any record: it is what a read that raced with the first rule's
// creation sees. Within one epoch versions order the sets; across epochs
// (a reset between them) the later read wins.
func older(a, b *ruleSet) bool {
	if a.Epoch == "" {
		return b.Epoch != ""
	}
	return a.Epoch == b.Epoch && a.Version < b.Version
}

// fire records that rule id failed a request and returns a copy of it as
// it is after that, or nil when it no longer exists or has no count left.
func (in *Injector) fire(ctx context.Context, id string) (*Rule, error) {
	var fired *Rule
	err := in.update(ctx, func(set *ruleSet) (bool, error) {
		fired = nil
		r := set.find(id)
		if r == nil || r.exhausted() {
			return false, nil
		}
		if r.Remaining != nil {
			*r.Remaining--
		}
		r.Fired++
		c := *r
		fired = &c
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("faults: record a firing of rule %s: %w", id, err)
	}
	return fired, nil
}

// update runs change on the stored rule set in a write transaction and
// saves the set when change says it changed it. The set as the
// transaction left it becomes the view requests apply.
func (in *Injector) update(ctx context.Context, change func(*ruleSet) (bool, error)) error {
	var set *ruleSet
	at, gen := in.now(), in.gen()
	err := in.store.Write(ctx, func(tx store.Tx) error {
		var err error
		if set, err = load(tx); err != nil {
			return err
		}
		changed, err := change(set)
		if err != nil || !changed {
			return err
		}
		set.Version++
		return save(tx, set)
	})
	if err != nil {
		return err
	}
	in.publish(&snapshot{set: set, at: at, gen: gen})
	return nil
}

// Rules returns the stored rules in the order requests try them.
func (in *Injector) Rules(ctx context.Context) ([]*Rule, error) {
	var set *ruleSet
	err := in.store.Read(ctx, func(tx store.Tx) error {
		var err error
		set, err = load(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return set.Rules, nil
}

// InputError is a rule the admin API refuses, with the reason.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return e.Reason }

// Add checks spec and stores it as a new rule, tried after the existing
// ones.
func (in *Injector) Add(ctx context.Context, spec Spec) (*Rule, error) {
	// Check before the transaction: a refused rule touches nothing.
	if _, err := in.catalog.Rule("", spec); err != nil {
		return nil, &InputError{Reason: err.Error()}
	}
	var added Rule
	err := in.update(ctx, func(set *ruleSet) (bool, error) {
		if len(set.Rules) >= MaxRules {
			return false, &InputError{Reason: fmt.Sprintf("there are already %d fault rules, the most orgstack keeps", MaxRules)}
		}
		id := newID()
		for set.find(id) != nil {
			id = newID()
		}
		r, err := in.catalog.Rule(id, spec)
		if err != nil {
			return false, &InputError{Reason: err.Error()}
		}
		set.Rules = append(set.Rules, r)
		added = *r
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return &added, nil
}

// Delete removes rule id and says whether it existed.
func (in *Injector) Delete(ctx context.Context, id string) (bool, error) {
	var found bool
	err := in.update(ctx, func(set *ruleSet) (bool, error) {
		n := len(set.Rules)
		set.Rules = deleteID(set.Rules, id)
		found = len(set.Rules) < n
		return found, nil
	})
	return found, err
}

// Clear removes every rule.
func (in *Injector) Clear(ctx context.Context) error {
	return in.update(ctx, func(set *ruleSet) (bool, error) {
		set.Rules = nil
		return true, nil
	})
}

func deleteID(rules []*Rule, id string) []*Rule {
	out := rules[:0]
	for _, r := range rules {
		if r.ID != id {
			out = append(out, r)
		}
	}
	return out
}

func (s *ruleSet) find(id string) *Rule {
	for _, r := range s.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// load reads the rule set in tx; an absent record is an empty set.
func load(tx store.Tx) (*ruleSet, error) {
	raw, err := tx.Get(bucket, keyRules)
	if errors.Is(err, store.ErrNotFound) {
		return &ruleSet{}, nil // update gives it an epoch when it saves
	}
	if err != nil {
		return nil, fmt.Errorf("faults: read rules: %w", err)
	}
	return decode(raw)
}

func decode(raw []byte) (*ruleSet, error) {
	set := new(ruleSet)
	if err := json.Unmarshal(raw, set); err != nil {
		return nil, fmt.Errorf("faults: decode rules: %w", err)
	}
	return set, nil
}

// save stores the rule set, also without rules: the record keeps its
// epoch and version until a reset.
func save(tx store.Tx, set *ruleSet) error {
	if set.Epoch == "" {
		set.Epoch = fmt.Sprintf("%016x", rand.Uint64())
	}
	return store.PutJSON(tx, bucket, keyRules, set)
}

// newID is a short id a user can type: "f-" and 8 hex digits.
func newID() string { return fmt.Sprintf("f-%08x", rand.Uint32()) }
