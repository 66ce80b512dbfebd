package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

// openStore is an empty store on the engine the environment picks
// (testengine: SQLite unless ORGSTACK_TEST_ENGINE=postgres).
func openStore(t testing.TB) store.Store {
	t.Helper()
	return testengine.Open(t)
}

func newInjector(t testing.TB, st store.Store, rolls func() float64) *Injector {
	return New(Options{Store: st, Services: []*protocol.Service{orgapi.Service, acoapi.Service}, Float64: rolls})
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
	e, err := in.Inject(context.Background(), svc, o, "111111111111")
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

// TestResetRemovesRules: a reset wipes the rules; an Injector whose view
// still holds one finds it gone when it tries to fire it, and drops the
// view as soon as the reset generation changes.
func TestResetRemovesRules(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var gen atomic.Value
	gen.Store("g1")
	in := New(Options{Store: st, Services: []*protocol.Service{orgapi.Service},
		Generation: func() string { return gen.Load().(string) }})
	mustAdd(t, in, Spec{Error: "TooManyRequestsException"})
	if call(t, in, orgapi.Service, "ListRoots") == nil {
		t.Fatal("the rule did not fire")
	}
	if err := st.Reset(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
		t.Errorf("after reset: %v", e)
	}
	gen.Store("g2")
	if e := call(t, in, orgapi.Service, "ListRoots"); e != nil {
		t.Errorf("after reset, in the new generation: %v", e)
	}
	if v := in.view.Load(); v == nil || v.gen != "g2" || len(v.set.Rules) != 0 {
		t.Errorf("view in the new generation: %+v", v)
	}
	// The first rule after a reset starts a new epoch and is seen at once.
	mustAdd(t, in, Spec{Error: "TooManyRequestsException", Count: ptr(1)})
	if call(t, in, orgapi.Service, "ListRoots") == nil {
		t.Error("a rule added after the reset did not fire")
	}
}

// fakeClock is a time the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestViewAcrossInstances: a rule added through one instance applies on
// another once that one's view is older than the refresh interval;
// deleted and exhausted rules stop at once everywhere.
func TestViewAcrossInstances(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	open := func() *Injector {
		return New(Options{Store: st, Services: []*protocol.Service{orgapi.Service, acoapi.Service}, Now: clk.now, Refresh: time.Second})
	}
	a, b := open(), open()
	if e := call(t, b, orgapi.Service, "ListRoots"); e != nil {
		t.Fatal(e)
	}
	r := mustAdd(t, a, Spec{Error: "TooManyRequestsException", Count: ptr(3)})
	if call(t, a, orgapi.Service, "ListRoots") == nil {
		t.Error("the instance that added the rule does not apply it")
	}
	if e := call(t, b, orgapi.Service, "ListRoots"); e != nil {
		t.Errorf("b applied the rule before its view aged: %v", e)
	}
	clk.advance(999 * time.Millisecond)
	if e := call(t, b, orgapi.Service, "ListRoots"); e != nil {
		t.Errorf("b applied the rule before its view aged: %v", e)
	}
	clk.advance(time.Millisecond)
	if call(t, b, orgapi.Service, "ListRoots") == nil {
		t.Fatal("b does not apply the rule a refresh interval later")
	}
	// b's view holds the rule with one count left; a deletes it: b stops
	// at once.
	if ok, err := a.Delete(context.Background(), r.ID); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if e := call(t, b, orgapi.Service, "ListRoots"); e != nil {
		t.Errorf("b applied a deleted rule: %v", e)
	}
}

// TestPublishKeepsNewerView: a read that began before a change made here
// and ends after it does not bring back the view without the change.
func TestPublishKeepsNewerView(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	in := New(Options{Store: openStore(t), Services: []*protocol.Service{orgapi.Service}, Now: clk.now})
	changed := &ruleSet{Epoch: "e1", Version: 2, Rules: []*Rule{{ID: "f-1"}}}
	for _, tc := range []struct {
		name    string
		stale   *ruleSet
		replace bool
	}{
		{"no record yet", &ruleSet{}, false},
		{"older version", &ruleSet{Epoch: "e1", Version: 1}, false},
		{"same version", &ruleSet{Epoch: "e1", Version: 2}, true},
		{"newer version", &ruleSet{Epoch: "e1", Version: 3}, true},
		{"another epoch", &ruleSet{Epoch: "e2", Version: 1}, true},
	} {
		in.view.Store(nil)
		in.publish(&snapshot{set: changed, at: clk.now()})
		in.publish(&snapshot{set: tc.stale, at: clk.now()})
		if got := in.view.Load().set == tc.stale; got != tc.replace {
			t.Errorf("%s: replaced = %v, want %v", tc.name, got, tc.replace)
		}
		// Once the view has aged, any read replaces it.
		in.publish(&snapshot{set: changed, at: clk.now().Add(-time.Hour)})
		in.publish(&snapshot{set: tc.stale, at: clk.now()})
		if in.view.Load().set != tc.stale {
			t.Errorf("%s: an aged view was kept", tc.name)
		}
	}
	// A view of the next reset generation replaces one of the last,
	// however fresh.
	in.publish(&snapshot{set: changed, at: clk.now(), gen: "g1"})
	empty := &ruleSet{}
	in.publish(&snapshot{set: empty, at: clk.now(), gen: "g2"})
	if in.view.Load().set != empty {
		t.Error("a view of the old generation was kept")
	}
}

// instances are injectors over one database, as several orgstack
// processes sharing it are; each test gets its own database.
type instances func(t *testing.T, n int) []*Injector

// oneStore is several injectors over one store, as in one process.
func oneStore(t *testing.T, n int) []*Injector {
	st := openStore(t)
	out := make([]*Injector, n)
	for i := range out {
		out[i] = newInjector(t, st, nil)
	}
	return out
}

// postgresInstances is several injectors, each over a store of its own
// on one PostgreSQL schema: several orgstack processes sharing a database.
func postgresInstances(t *testing.T, n int) []*Injector {
	url := testengine.PostgresURL(t)
	schema := testengine.Schema(t, url)
	out := make([]*Injector, n)
	for i := range out {
		out[i] = newInjector(t, testengine.OpenSchema(t, url, schema), nil)
	}
	return out
}

// TestCountAcrossInstances fires one rule from many goroutines spread
// over several instances: the rule fails exactly its count of requests.
func TestCountAcrossInstances(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]instances{"one store": oneStore, "postgres": postgresInstances} {
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
						e, err := in.Inject(context.Background(), orgapi.Service, orgapi.Service.Operation("ListRoots"), "111111111111")
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
