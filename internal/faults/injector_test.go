package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/sharedstate"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

// openStore is an empty store on the engine the environment picks
// (testengine: SQLite unless ORGSTACK_TEST_ENGINE=postgres).
func openStore(t testing.TB) store.Store {
	t.Helper()
	return testengine.Open(t)
}

// newKeeper opens the shared state of an instance on st.
func newKeeper(t testing.TB, st store.Store) *sharedstate.Keeper {
	t.Helper()
	k, err := sharedstate.Open(context.Background(), sharedstate.Options{Store: st, Clock: clock.New(clock.Real, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newInjector is the Injector of an instance alone with its shared state.
func newInjector(t testing.TB, st store.Store, rolls func() float64) *Injector {
	t.Helper()
	c := &counted{Store: st}
	return injectorWith(c, newKeeper(t, c), rolls)
}

// injectorWith is an Injector over st whose instance keeps its shared
// state in k, a Keeper over st.
func injectorWith(st *counted, k *sharedstate.Keeper, rolls func() float64) *Injector {
	return New(Options{Store: st, Shared: k, Services: []*protocol.Service{orgapi.Service, acoapi.Service}, Float64: rolls})
}

// counted is a store that counts its write transactions, those of the
// Keeper over it included. (It hides the engine's point read, so that
// its Keeper refreshes in a read transaction.)
type counted struct {
	store.Store
	n atomic.Int64
}

func (c *counted) Write(ctx context.Context, fn func(store.Tx) error) error {
	c.n.Add(1)
	return c.Store.Write(ctx, fn)
}

// writes is how many write transactions in's store has run.
func writes(in *Injector) int64 { return in.store.(*counted).n.Load() }

// inject asks in about one request to op of svc, refreshing the shared
// state first as the server does before every request.
func inject(ctx context.Context, in *Injector, svc *protocol.Service, op *protocol.Operation) (protocol.APIError, error) {
	if err := in.shared.Refresh(ctx); err != nil {
		return nil, err
	}
	return in.Inject(ctx, svc, op, "111111111111")
}

func mustAdd(t testing.TB, in *Injector, s Spec) *Rule {
	t.Helper()
	r, err := in.Add(context.Background(), s)
	if err != nil {
		t.Fatalf("Add(%+v): %v", s, err)
	}
	return r
}

// call asks in about one request to service.operation.
func call(t testing.TB, in *Injector, svc *protocol.Service, op string) protocol.APIError {
	t.Helper()
	o := svc.Operation(op)
	if o == nil {
		t.Fatalf("no operation %s", op)
	}
	e, err := inject(context.Background(), in, svc, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// script is a probability source that answers the given numbers in turn.
func script(t *testing.T, rolls ...float64) func() float64 {
	var i atomic.Int64
	return func() float64 {
		n := i.Add(1) - 1
		if int(n) >= len(rolls) {
			t.Fatalf("roll %d asked for; the script has %d", n+1, len(rolls))
		}
		return rolls[n]
	}
}

func TestInjectNothingWithoutRules(t *testing.T) {
	t.Parallel()
	in := newInjector(t, openStore(t), script(t))
	if e := call(t, in, orgapi.Service, "DescribeOrganization"); e != nil {
		t.Errorf("no rules, yet %v", e)
	}
}

func TestInjectCountExhaustion(t *testing.T) {
	t.Parallel()
	in := newInjector(t, openStore(t), script(t))
	r := mustAdd(t, in, Spec{Service: "organizations", Operation: "DescribeOrganization", Error: "TooManyRequestsException", Count: ptr(2)})
	for i := range 2 {
		e := call(t, in, orgapi.Service, "DescribeOrganization")
		tm, ok := e.(*orgapi.TooManyRequestsException)
		if !ok {
			t.Fatalf("request %d: %T %v, want *TooManyRequestsException", i+1, e, e)
		}
		if tm.Message == nil || *tm.Message == "" || tm.HTTPStatus() != 400 {
			t.Errorf("request %d: message %v status %d", i+1, tm.Message, tm.HTTPStatus())
		}
	}
	for i := range 3 {
		if e := call(t, in, orgapi.Service, "DescribeOrganization"); e != nil {
			t.Fatalf("request %d after the count: %v", i+3, e)
		}
	}
	rules, err := in.Rules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].ID != r.ID || *rules[0].Remaining != 0 || rules[0].Fired != 2 || *rules[0].Count != 2 {
		t.Errorf("after exhaustion: %+v", rules[0])
	}
}

func TestInjectProbability(t *testing.T) {
	t.Parallel()
	// A roll below the probability fires, at or above it does not.
	in := newInjector(t, openStore(t), script(t, 0.2, 0.7, 0.49, 0.5))
	mustAdd(t, in, Spec{Error: "ServiceException", Probability: ptr(0.5)})
	var got []bool
	for range 4 {
		got = append(got, call(t, in, orgapi.Service, "ListRoots") != nil)
	}
	if fmt.Sprint(got) != "[true false true false]" {
		t.Errorf("fired %v, want [true false true false]", got)
	}
}

func TestInjectProbabilitySeeded(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	in := newInjector(t, openStore(t), r.Float64)
	rule := mustAdd(t, in, Spec{Service: "automation", Error: "ThrottlingException", Probability: ptr(0.3)})
	n := 0
	for range 1000 {
		if e := call(t, in, acoapi.Service, "ListAccounts"); e != nil {
			if _, ok := e.(*acoapi.ThrottlingException); !ok {
				t.Fatalf("%T %v", e, e)
			}
			n++
		}
	}
	// The seed makes n fixed; the bounds say it is about 30 %.
	if n < 250 || n > 350 {
		t.Errorf("fired %d of 1000 at probability 0.3", n)
	}
	rules, _ := in.Rules(context.Background())
	if rules[0].ID != rule.ID || rules[0].Fired != n {
		t.Errorf("rule fired %d, counted %d", n, rules[0].Fired)
	}
}

func TestInjectProbabilityZeroNeverFires(t *testing.T) {
	t.Parallel()
	in := newInjector(t, openStore(t), rand.New(rand.NewPCG(3, 4)).Float64)
	mustAdd(t, in, Spec{Error: "TooManyRequestsException", Probability: ptr(0.0)})
	for range 200 {
		if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
			t.Fatalf("probability 0 fired: %v", e)
		}
	}
}

func TestInjectScope(t *testing.T) {
	t.Parallel()
	in := newInjector(t, openStore(t), script(t))
	mustAdd(t, in, Spec{Service: "automation", Error: "AccessDeniedException"})
	mustAdd(t, in, Spec{Service: "organizations", Operation: "CreateOrganizationalUnit", Error: "ConcurrentModificationException"})
	for _, tc := range []struct {
		svc  *protocol.Service
		op   string
		want string // the error code, empty for none
	}{
		{acoapi.Service, "ListAccounts", "AccessDeniedException"},
		{orgapi.Service, "ListAccounts", ""},
		{orgapi.Service, "DescribeOrganization", ""},
		{orgapi.Service, "CreateOrganizationalUnit", "ConcurrentModificationException"},
	} {
		got := ""
		if e := call(t, in, tc.svc, tc.op); e != nil {
			got = e.ErrorCode()
		}
		if got != tc.want {
			t.Errorf("%s %s answered %q, want %q", tc.svc.Name, tc.op, got, tc.want)
		}
	}
}

func TestInjectRuleOrder(t *testing.T) {
	t.Parallel()
	in := newInjector(t, openStore(t), script(t))
	first := mustAdd(t, in, Spec{Error: "ServiceException", Count: ptr(1), Message: "first"})
	mustAdd(t, in, Spec{Error: "TooManyRequestsException", Message: "second"})
	for i, want := range []string{"ServiceException: first", "TooManyRequestsException: second", "TooManyRequestsException: second"} {
		e := call(t, in, orgapi.Service, "ListRoots")
		if e == nil || e.Error() != want {
			t.Errorf("request %d: %v, want %s", i+1, e, want)
		}
	}
	if e := call(t, in, orgapi.Service, "ListRoots"); e.ErrorFault() != protocol.FaultClient {
		t.Errorf("TooManyRequestsException fault = %v", e.ErrorFault())
	}
	// Deleting the second leaves the exhausted first: nothing fires.
	rules, _ := in.Rules(context.Background())
	if ok, err := in.Delete(context.Background(), rules[1].ID); !ok || err != nil {
		t.Fatalf("Delete: %v %v", ok, err)
	}
	if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
		t.Errorf("after deleting the second rule: %v", e)
	}
	if ok, _ := in.Delete(context.Background(), "f-00000000"); ok {
		t.Error("deleted a rule that never existed")
	}
	if rules, _ := in.Rules(context.Background()); len(rules) != 1 || rules[0].ID != first.ID {
		t.Errorf("rules = %+v", rules)
	}
}

func TestServerFaultShape(t *testing.T) {
	t.Parallel()
	in := newInjector(t, openStore(t), script(t))
	mustAdd(t, in, Spec{Service: "organizations", Error: "ServiceException", Count: ptr(1)})
	mustAdd(t, in, Spec{Service: "automation", Error: "InternalServerException", Count: ptr(1)})
	if e := call(t, in, orgapi.Service, "ListRoots"); e.HTTPStatus() != 500 || e.ErrorFault() != protocol.FaultServer {
		t.Errorf("ServiceException: %d %v", e.HTTPStatus(), e.ErrorFault())
	}
	if e := call(t, in, acoapi.Service, "ListAccounts"); e.HTTPStatus() != 500 || e.ErrorFault() != protocol.FaultServer {
		t.Errorf("InternalServerException: %d %v", e.HTTPStatus(), e.ErrorFault())
	}
}

func TestAddLimitsAndClear(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	in := newInjector(t, st, script(t))
	for range MaxRules {
		mustAdd(t, in, Spec{Error: "ServiceException", Probability: ptr(0.0)})
	}
	_, err := in.Add(context.Background(), Spec{Error: "ServiceException"})
	var bad *InputError
	if !errors.As(err, &bad) {
		t.Fatalf("rule %d: %v, want an InputError", MaxRules+1, err)
	}
	if _, err := in.Add(context.Background(), Spec{Error: "Nope"}); !errors.As(err, &bad) {
		t.Fatalf("bad rule: %v, want an InputError", err)
	}
	if err := in.Clear(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rules, _ := in.Rules(context.Background()); len(rules) != 0 {
		t.Errorf("%d rules after Clear", len(rules))
	}
	if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
		t.Errorf("after Clear: %v", e)
	}
}

// TestResetRemovesRules: a reset wipes the rules. A request that began
// before this instance saw the reset finds the rule gone when it tries to
// fire it, and the reset's new generation voids the view.
func TestResetRemovesRules(t *testing.T) {
	t.Parallel()
	st := &counted{Store: openStore(t)}
	k := newKeeper(t, st)
	in := injectorWith(st, k, nil)
	mustAdd(t, in, Spec{Error: "TooManyRequestsException"})
	if call(t, in, orgapi.Service, "ListRoots") == nil {
		t.Fatal("the rule did not fire")
	}
	// A reset behind the Keeper's back: what a sibling's reset is to a
	// request that refreshed before it.
	if err := st.Reset(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if e, err := in.Inject(context.Background(), orgapi.Service, orgapi.Service.Operation("ListRoots"), "111111111111"); e != nil || err != nil {
		t.Errorf("after a reset not yet seen: %v %v", e, err)
	}
	if v := in.view.Load(); len(v.set.Rules) != 0 {
		t.Errorf("the view still holds %d rules after firing found none", len(v.set.Rules))
	}

	mustAdd(t, in, Spec{Error: "TooManyRequestsException"})
	if call(t, in, orgapi.Service, "ListRoots") == nil {
		t.Fatal("the rule did not fire")
	}
	before := k.Revision(revision)
	if err := k.Reset(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if k.Revision(revision) == before {
		t.Fatal("a reset left the rules' revision as it was")
	}
	if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
		t.Errorf("after reset: %v", e)
	}
	if v := in.view.Load(); v.rev != k.Revision(revision) || len(v.set.Rules) != 0 {
		t.Errorf("view after the reset: %+v", v)
	}
	mustAdd(t, in, Spec{Error: "TooManyRequestsException", Count: ptr(1)})
	if call(t, in, orgapi.Service, "ListRoots") == nil {
		t.Error("a rule added after the reset did not fire")
	}
}

// TestPublishKeepsCurrentView: a read that began before a change made
// here and ends after it does not replace the view the change published;
// a view that is no longer current gives way to any other.
func TestPublishKeepsCurrentView(t *testing.T) {
	t.Parallel()
	st := &counted{Store: openStore(t)}
	k := newKeeper(t, st)
	in := injectorWith(st, k, nil)
	ctx := context.Background()
	revise := func() sharedstate.Revision {
		t.Helper()
		rev, err := k.Revise(ctx, revision, func(store.Tx) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	old := k.Revision(revision)
	rev := revise()
	changed, stale, again := &ruleSet{Rules: []*Rule{{ID: "f-1"}}}, &ruleSet{}, &ruleSet{}

	in.publish(&snapshot{set: changed, rev: rev})
	in.publish(&snapshot{set: stale, rev: old})
	if in.view.Load().set != changed {
		t.Error("a read of an older revision replaced the current view")
	}
	// Of the same revision (a firing's write): the later publication wins.
	in.publish(&snapshot{set: again, rev: rev})
	if in.view.Load().set != again {
		t.Error("a view of the current revision was not replaced by another of it")
	}
	// Once another change made the view out of date, anything replaces it.
	revise()
	in.publish(&snapshot{set: stale, rev: old})
	if in.view.Load().set != stale {
		t.Error("a view no longer current was kept")
	}
}

// instances are injectors over one database, as several orgstack
// instances sharing it are; each test gets its own database.
type instances func(t *testing.T, n int) []*Injector

// oneStore is several injectors over one store and one shared state:
// requests served by one process.
func oneStore(t *testing.T, n int) []*Injector {
	st := &counted{Store: openStore(t)}
	k := newKeeper(t, st)
	out := make([]*Injector, n)
	for i := range out {
		out[i] = injectorWith(st, k, nil)
	}
	return out
}

// postgresInstances is several injectors, each over a store and a shared
// state of its own on one PostgreSQL schema: several orgstack processes
// sharing a database.
func postgresInstances(t *testing.T, n int) []*Injector {
	url := testengine.PostgresURL(t)
	schema := testengine.Schema(t, url)
	out := make([]*Injector, n)
	for i := range out {
		st := &counted{Store: testengine.OpenSchema(t, url, schema)}
		out[i] = injectorWith(st, newKeeper(t, st), nil)
	}
	return out
}

var topologies = map[string]instances{"one store": oneStore, "postgres": postgresInstances}

// TestChangesReachEveryInstanceAtOnce: a rule added, deleted or cleared
// through one instance applies, or stops, on the others from their very
// next request.
func TestChangesReachEveryInstanceAtOnce(t *testing.T) {
	t.Parallel()
	for name, open := range topologies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ins := open(t, 3)
			a, b, c := ins[0], ins[1], ins[2]
			ctx := context.Background()
			for _, in := range ins {
				if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
					t.Fatal(e)
				}
			}
			r := mustAdd(t, a, Spec{Error: "TooManyRequestsException"})
			for i, in := range []*Injector{b, c, a} {
				if call(t, in, orgapi.Service, "ListRoots") == nil {
					t.Errorf("instance %d: the next request after a added a rule got no fault", i)
				}
			}
			if ok, err := a.Delete(ctx, r.ID); !ok || err != nil {
				t.Fatal(ok, err)
			}
			for i, in := range []*Injector{b, c, a} {
				if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
					t.Errorf("instance %d: the next request after a deleted the rule: %v", i, e)
				}
			}
			mustAdd(t, c, Spec{Service: "organizations", Error: "ServiceException"})
			if call(t, b, orgapi.Service, "ListRoots") == nil {
				t.Error("b: the next request after c added a rule got no fault")
			}
			if err := a.Clear(ctx); err != nil {
				t.Fatal(err)
			}
			for i, in := range ins {
				if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
					t.Errorf("instance %d: the next request after a cleared the rules: %v", i, e)
				}
			}
			// A delete of a rule that does not exist changes nothing, so
			// no instance need read the rules again.
			rev := a.shared.Revision(revision)
			if ok, err := a.Delete(ctx, "f-00000000"); ok || err != nil {
				t.Errorf("Delete of an unknown rule = %v, %v", ok, err)
			}
			if err := b.shared.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if a.shared.Revision(revision) != rev || b.shared.Revision(revision) != rev {
				t.Error("a Delete that found nothing changed the rules' revision")
			}
		})
	}
}

// TestSpentRuleCostsOneWrite: an instance whose view shows count left on
// a rule that another instance spent pays one write to learn it, not one
// per request; requests that match no rule write nothing.
func TestSpentRuleCostsOneWrite(t *testing.T) {
	t.Parallel()
	for name, open := range topologies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ins := open(t, 2)
			a, b := ins[0], ins[1]
			mustAdd(t, a, Spec{Operation: "ListRoots", Error: "TooManyRequestsException", Count: ptr(2)})
			if call(t, b, orgapi.Service, "ListRoots") == nil || call(t, a, orgapi.Service, "ListRoots") == nil {
				t.Fatal("the rule did not fire on b and then on a")
			}
			// b's view still shows one count left.
			n := writes(b)
			for i := range 5 {
				if e := call(t, b, orgapi.Service, "ListRoots"); e != nil {
					t.Fatalf("request %d after the count was spent: %v", i+1, e)
				}
			}
			if got := writes(b) - n; got != 1 {
				t.Errorf("b made %d writes in 5 requests after a spent the rule, want 1", got)
			}
			n = writes(a)
			for range 5 {
				call(t, a, orgapi.Service, "DescribeOrganization")
			}
			if got := writes(a) - n; got != 0 {
				t.Errorf("5 requests no rule matches made %d writes", got)
			}
		})
	}
}

// TestCountAcrossInstances fires one rule from many goroutines spread
// over several instances: the rule fails exactly its count of requests.
func TestCountAcrossInstances(t *testing.T) {
	t.Parallel()
	for name, open := range topologies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ins := open(t, 3)
			mustAdd(t, ins[0], Spec{Service: "organizations", Error: "TooManyRequestsException", Count: ptr(7)})
			var fired atomic.Int64
			var wg sync.WaitGroup
			for g := range 12 {
				wg.Go(func() {
					in := ins[g%len(ins)]
					for range 5 {
						e, err := inject(context.Background(), in, orgapi.Service, orgapi.Service.Operation("ListRoots"))
						if err != nil {
							t.Error(err)
							return
						}
						if e != nil {
							fired.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if n := fired.Load(); n != 7 {
				t.Errorf("%d requests failed, want exactly the count, 7", n)
			}
			for i, in := range ins {
				rules, err := in.Rules(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if r := rules[0]; r.Fired != 7 || *r.Remaining != 0 {
					t.Errorf("instance %d sees fired %d remaining %d", i, r.Fired, *r.Remaining)
				}
			}
		})
	}
}
