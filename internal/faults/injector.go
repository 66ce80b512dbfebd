package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/sharedstate"
	"github.com/orgstack/orgstack/internal/store"
)

// The rule set is one record, read in one point read; a reset, which
// wipes the store, removes it and every rule with it.
const (
	bucket   = "faults"
	keyRules = "rules"
)

// revision names the rules' revision in the shared state.
const revision = "faults"

// ruleSet is the stored record: the rules in the order they were added,
// which is the order a request tries them in. (Records of earlier
// orgstacks also hold an epoch and a version, which are ignored.)
type ruleSet struct {
	Rules []*Rule `json:"rules"`
}

// Options configure an Injector.
type Options struct {
	Store store.Store
	// Shared is the instance's shared state, which the caller refreshes
	// before every request (the server does). The rules' revision in it
	// says whether the view of the rules the Injector keeps is current,
	// and the Injector changes rules only through Shared.Revise, so that
	// a change made through any instance voids every instance's view by
	// its next request.
	Shared *sharedstate.Keeper
	// Services are the services rules may name.
	Services []*protocol.Service
	// Float64 draws a number in [0, 1) for each probability roll; nil
	// means math/rand/v2. Tests inject a seeded source.
	Float64 func() float64
}

// Injector applies the stored rules to requests and manages them.
//
// Reading the rules on every request would cost a database round trip
// per API call with PostgreSQL, so requests apply a view of them, read
// again only when the rules' revision in the shared state changed: after
// a rule was added or deleted, or the rules cleared, through any
// instance, or a reset. The shared state is read before every request
// anyway, so a change reaches every instance at its next request, at no
// cost to the requests between changes.
//
// Firing a rule does not change the revision: a rule with a count fires
// only through a write that finds it still there with count left, so a
// view with an out-of-date count never fails a request too many. Counts
// only go down between changes, so such a view never skips a rule that
// may still fire; a firing publishes the rules as its write read them,
// so that an instance whose view holds a rule spent through another pays
// one write for it, not one per request.
type Injector struct {
	store   store.Store
	shared  *sharedstate.Keeper
	catalog *Catalog
	float64 func() float64
	// view is the rule set as last read or written, shared by concurrent
	// requests and never modified once published.
	view atomic.Pointer[snapshot]
}

// snapshot is a rule set and the revision of the rules it is at least as
// new as.
type snapshot struct {
	set *ruleSet
	rev sharedstate.Revision
}

// New returns an Injector over the rules in opts.Store.
func New(opts Options) *Injector {
	in := &Injector{store: opts.Store, shared: opts.Shared, catalog: NewCatalog(opts.Services...), float64: opts.Float64}
	if in.float64 == nil {
		in.float64 = rand.Float64
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
	if err != nil || len(set.Rules) == 0 {
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

// current returns the rule set to apply: the view, unless the rules'
// revision changed since it was taken.
func (in *Injector) current(ctx context.Context) (*ruleSet, error) {
	// The revision is taken before the read: the rules read are then at
	// least as new as it, and a change after it changes it.
	rev := in.shared.Revision(revision)
	if v := in.view.Load(); v != nil && v.rev == rev {
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
	in.publish(&snapshot{set: set, rev: rev})
	return set, nil
}

// publish makes next the view requests apply, unless the view in place
// is current and next is not: a read that began before a change made
// through this instance must not hide that change from the requests that
// follow it (they would only read the rules again, but need not).
func (in *Injector) publish(next *snapshot) {
	for {
		cur := in.view.Load()
		if cur != nil && cur.rev != next.rev && cur.rev == in.shared.Revision(revision) {
			return
		}
		if in.view.CompareAndSwap(cur, next) {
			return
		}
	}
}

// fire records that rule id failed a request and returns a copy of it as
// it is after that, or nil when it no longer exists or has no count left.
// The rules as the write left them, counts up to date, become the view.
func (in *Injector) fire(ctx context.Context, id string) (*Rule, error) {
	rev := in.shared.Revision(revision)
	var set *ruleSet
	var fired *Rule
	err := in.store.Write(ctx, func(tx store.Tx) error {
		var err error
		fired = nil
		if set, err = load(tx); err != nil {
			return err
		}
		r := set.find(id)
		if r == nil || r.exhausted() {
			return nil
		}
		if r.Remaining != nil {
			*r.Remaining--
		}
		r.Fired++
		c := *r
		fired = &c
		return save(tx, set)
	})
	if err != nil {
		return nil, fmt.Errorf("faults: record a firing of rule %s: %w", id, err)
	}
	in.publish(&snapshot{set: set, rev: rev})
	return fired, nil
}

// errUnchanged ends a change that would change nothing, writing nothing.
var errUnchanged = errors.New("faults: nothing to change")

// change runs fn on the stored rule set and saves it, in a write that
// gives the rules a new revision; the set as saved becomes the view. When
// fn returns errUnchanged nothing is written and change returns it.
func (in *Injector) change(ctx context.Context, fn func(*ruleSet) error) error {
	var set *ruleSet
	rev, err := in.shared.Revise(ctx, revision, func(tx store.Tx) error {
		var err error
		if set, err = load(tx); err != nil {
			return err
		}
		if err := fn(set); err != nil {
			return err
		}
		return save(tx, set)
	})
	if err != nil {
		return err
	}
	in.publish(&snapshot{set: set, rev: rev})
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
	err := in.change(ctx, func(set *ruleSet) error {
		if len(set.Rules) >= MaxRules {
			return &InputError{Reason: fmt.Sprintf("there are already %d fault rules, the most orgstack keeps", MaxRules)}
		}
		id := newID()
		for set.find(id) != nil {
			id = newID()
		}
		r, err := in.catalog.Rule(id, spec)
		if err != nil {
			return &InputError{Reason: err.Error()}
		}
		set.Rules = append(set.Rules, r)
		added = *r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &added, nil
}

// Delete removes rule id and says whether it existed; when it did not,
// nothing is written.
func (in *Injector) Delete(ctx context.Context, id string) (bool, error) {
	err := in.change(ctx, func(set *ruleSet) error {
		n := len(set.Rules)
		if set.Rules = deleteID(set.Rules, id); len(set.Rules) == n {
			return errUnchanged
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	return err == nil, err
}

// Clear removes every rule.
func (in *Injector) Clear(ctx context.Context) error {
	return in.change(ctx, func(set *ruleSet) error {
		set.Rules = nil
		return nil
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
		return &ruleSet{}, nil
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

// save stores the rule set.
func save(tx store.Tx, set *ruleSet) error {
	return store.PutJSON(tx, bucket, keyRules, set)
}

// newID is a short id a user can type: "f-" and 8 hex digits.
func newID() string { return fmt.Sprintf("f-%08x", rand.Uint32()) }
