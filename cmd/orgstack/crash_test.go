package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/postgres"
	"github.com/orgstack/orgstack/internal/store/sqlite"
	"github.com/orgstack/orgstack/internal/store/testengine"
	"github.com/orgstack/orgstack/internal/testkit"
)

// The crash tests run a mixed write load from several clients against an
// orgstack process, stop the process (SIGKILL at random moments, or
// SIGTERM), restart it on the same data directory and port, and require
// every acknowledged write and the organization's invariants.
//
// Each client owns its resources (OUs, accounts, policies, rules), so the
// value it last had acknowledged for each of them is the value the server
// must hold. A write that got no answer because the process died may have
// been applied or not, but never in part: the client reads back every
// value the write touched once the server is back, requires all of them
// as before or all as after, and goes on from there. Automation writes
// carry a client token and are then sent again: the retry must get the
// answer of the first attempt when that was applied (idempotency records
// are durable with the write), or apply now.

// crashManagement is the management account of the crash tests.
const crashManagement = "100000000001"

// crashSeed is the seed of the clients' choices, from ORGSTACK_TEST_SEED
// when set so that a failure's choices can be replayed (the moments of the
// kills still vary).
func crashSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ORGSTACK_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("ORGSTACK_TEST_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (set ORGSTACK_TEST_SEED=%d to repeat the clients' choices)", seed, seed)
	return seed
}

// TestMixedWritesSurviveRepeatedSIGKILL kills a loaded server five times
// at random moments and checks, after each restart, every acknowledged
// write and the invariants: on SQLite in a data directory, and on a
// PostgreSQL schema when ORGSTACK_TEST_POSTGRES is set.
func TestMixedWritesSurviveRepeatedSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	for _, engine := range crashEngines {
		t.Run(engine.name, func(t *testing.T) {
			w := newCrashWorld(t, crashSeed(t), engine.open(t), false)
			for k := range 5 {
				time.Sleep(time.Duration(150+w.rng.IntN(600)) * time.Millisecond)
				if err := w.srv.stop(syscall.SIGKILL); err == nil {
					t.Fatal("orgstack exited cleanly after SIGKILL")
				}
				w.verifyStore(fmt.Sprintf("after kill %d", k+1))
				w.srv.start()
				w.verify(fmt.Sprintf("after kill %d", k+1))
			}
			time.Sleep(300 * time.Millisecond)
			w.finish()
		})
	}
}

// TestSIGTERMFinishesMixedWrites stops a loaded server with SIGTERM: every
// request it had started must be answered, so a write that got no answer
// must not have been applied, and every answered write is there after the
// restart.
func TestSIGTERMFinishesMixedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	for _, engine := range crashEngines {
		t.Run(engine.name, func(t *testing.T) {
			w := newCrashWorld(t, crashSeed(t), engine.open(t), true)
			time.Sleep(400 * time.Millisecond)
			if err := w.srv.stop(syscall.SIGTERM); err != nil {
				t.Errorf("orgstack exited with %v after SIGTERM, want a clean exit", err)
			}
			w.verifyStore("after SIGTERM")
			w.srv.start()
			w.verify("after SIGTERM")
			time.Sleep(200 * time.Millisecond) // the restarted server takes writes
			w.finish()
		})
	}
}

// crashStore is where successive server processes keep their state: the
// flags that name it, and how the test opens it while no server runs.
type crashStore struct {
	args []string
	open func(context.Context) (store.Store, error)
}

var crashEngines = []struct {
	name string
	open func(t *testing.T) crashStore
}{
	{"sqlite", func(t *testing.T) crashStore {
		dir := t.TempDir()
		return crashStore{args: []string{"--data-dir", dir}, open: func(ctx context.Context) (store.Store, error) {
			return sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "orgstack.db")})
		}}
	}},
	{"postgres", func(t *testing.T) crashStore {
		u := testengine.PostgresURL(t)
		schema := testengine.Schema(t, u)
		return crashStore{args: []string{"--store", testengine.SchemaURL(t, u, schema)}, open: func(ctx context.Context) (store.Store, error) {
			return postgres.Open(ctx, postgres.Options{URL: u, Schema: schema, MaxConns: 2})
		}}
	}},
}

// crashServer is one store served by successive orgstack processes on
// one port, so that clients keep their endpoint.
type crashServer struct {
	t     *testing.T
	args  []string
	url   string
	store crashStore

	mu    sync.Mutex
	child *child
	// epoch counts starts and stops: odd while the server is down. A call
	// that fails without an answer must have overlapped a stop.
	epoch atomic.Int64
	up    chan struct{} // closed while the server is up
}

func newCrashServer(t *testing.T, st crashStore) *crashServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &crashServer{t: t, url: "http://" + addr, store: st, up: make(chan struct{}),
		args: append(slices.Clone(st.args), "--listen", addr)}
	s.epoch.Store(1)
	s.start()
	return s
}

func (s *crashServer) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.child = startChild(s.t, s.args...)
	if s.child.url != s.url {
		s.t.Fatalf("orgstack listens on %s, want %s", s.child.url, s.url)
	}
	s.epoch.Add(1)
	close(s.up)
}

// stop sends sig and waits for the process to exit.
func (s *crashServer) stop(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up = make(chan struct{})
	s.epoch.Add(1)
	return s.child.signal(s.t, sig)
}

func (s *crashServer) waitUp() {
	s.mu.Lock()
	up := s.up
	s.mu.Unlock()
	<-up
}

// gate parks the clients so that the test can read a quiet organization.
type gate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	closed bool
	active int // clients running
	parked int // clients waiting at the closed gate
}

// join and leave count the running clients.
func (g *gate) join() {
	g.mu.Lock()
	g.active++
	g.mu.Unlock()
}

func (g *gate) leave() {
	g.mu.Lock()
	g.active--
	g.cond.Broadcast()
	g.mu.Unlock()
}

func newGate() *gate {
	g := &gate{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// pass returns at once while the gate is open, else when it opens.
func (g *gate) pass() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		return
	}
	g.parked++
	g.cond.Broadcast()
	for g.closed {
		g.cond.Wait()
	}
	g.parked--
}

// close closes the gate and waits until every running client is parked
// at it.
func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.parked < g.active {
		g.cond.Wait()
	}
}

func (g *gate) open() {
	g.mu.Lock()
	g.closed = false
	g.cond.Broadcast()
	g.mu.Unlock()
}

// crashWorld is the server, the organization and its clients.
type crashWorld struct {
	t      *testing.T
	srv    *crashServer
	hc     *http.Client
	mgmt   *organizations.Client
	aco    testkit.Automation
	rootID string
	rng    *rand.Rand // the test's own choices (kill moments)
	// strict requires that a write without an answer was not applied.
	strict bool

	clients []*crashClient
	gate    *gate
	stop    atomic.Bool
	done    sync.WaitGroup
}

func newCrashWorld(t *testing.T, seed uint64, st crashStore, strict bool) *crashWorld {
	w := &crashWorld{t: t, srv: newCrashServer(t, st), rng: rand.New(rand.NewPCG(seed, 0)), gate: newGate(), strict: strict}
	w.hc = &http.Client{Timeout: 20 * time.Second}
	w.mgmt = testkit.Orgs(w.srv.url, crashManagement, w.hc)
	w.aco = testkit.Automation{Endpoint: w.srv.url, HTTP: w.hc}
	ctx := context.Background()
	if _, err := w.mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := testkit.Admin(ctx, w.hc, w.srv.url, "POST", "/_orgstack/quotas", map[string]any{
		"accountsPerOrganization": 1000, "concurrentAccountCreations": 100, "createdAccountRemovalWait": "0s",
	}); err != nil {
		t.Fatal(err)
	}
	roots, err := w.mgmt.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	w.rootID = aws.ToString(roots.Roots[0].Id)
	// SCPs are enabled in a new organization.
	for _, typ := range []types.PolicyType{types.PolicyTypeTagPolicy} {
		if _, err := w.mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(w.rootID), PolicyType: typ}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("compute-optimizer.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	if r, err := w.aco.Call(ctx, crashManagement, "UpdateEnrollmentConfiguration", map[string]any{"status": "Active"}); err != nil || !r.OK() {
		t.Fatalf("opt in: %v %v", r, err)
	}
	for i := range 4 {
		c := &crashClient{w: w, id: i, rng: rand.New(rand.NewPCG(seed, uint64(i+1))), cells: map[cell]string{},
			pending: map[string]string{}, policyType: map[string]types.PolicyType{},
			acked: map[string]int{}, unanswered: map[string]int{}, applied: map[string]int{}}
		c.setup(ctx)
		w.clients = append(w.clients, c)
	}
	for _, c := range w.clients {
		w.done.Add(1)
		w.gate.join()
		go c.run()
	}
	return w
}

// verify parks the clients, checks the organization and every value each
// client had acknowledged, and lets them go on.
func (w *crashWorld) verify(when string) {
	w.t.Helper()
	w.gate.close()
	defer w.gate.open()
	ctx := context.Background()
	var departed []string
	wantMembers := map[string]bool{crashManagement: true}
	wantOUs, wantPolicies, wantRules := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range w.clients {
		c.settle(ctx, true)
		departed = append(departed, c.departed...)
		for _, a := range c.accounts {
			wantMembers[a] = true
		}
		for _, ou := range c.ous {
			wantOUs[ou] = true
		}
		for _, p := range c.policies {
			wantPolicies[p] = true
		}
		for _, r := range c.rules {
			wantRules[r.arn] = true
		}
	}
	snap, problems := testkit.Check(ctx, testkit.Target{Endpoint: w.srv.url, Management: crashManagement, HTTP: w.hc, Departed: departed})
	for _, p := range problems {
		w.t.Errorf("%s: %s", when, p)
	}
	if got := slices.Sorted(maps.Keys(snap.Accounts)); !slices.Equal(got, slices.Sorted(maps.Keys(wantMembers))) {
		w.t.Errorf("%s: members %v, want %v", when, got, slices.Sorted(maps.Keys(wantMembers)))
	}
	if got := slices.Sorted(maps.Keys(snap.OUs)); !slices.Equal(got, slices.Sorted(maps.Keys(wantOUs))) {
		w.t.Errorf("%s: OUs %v, want %v", when, got, slices.Sorted(maps.Keys(wantOUs)))
	}
	var customer []string
	for id, p := range snap.Policies {
		if !p.AwsManaged {
			customer = append(customer, id)
		}
	}
	if sort.Strings(customer); !slices.Equal(customer, slices.Sorted(maps.Keys(wantPolicies))) {
		w.t.Errorf("%s: customer policies %v, want %v", when, customer, slices.Sorted(maps.Keys(wantPolicies)))
	}
	if got := w.listRules(ctx); !slices.Equal(got, slices.Sorted(maps.Keys(wantRules))) {
		w.t.Errorf("%s: automation rules %v, want %v", when, got, slices.Sorted(maps.Keys(wantRules)))
	}
	checked := 0
	for _, c := range w.clients {
		for _, k := range slices.SortedFunc(maps.Keys(c.cells), cell.compare) {
			got, err := c.read(ctx, k)
			if err != nil {
				w.t.Errorf("%s: client %d reading %v: %v", when, c.id, k, err)
				continue
			}
			if want := c.cells[k]; got != want {
				w.t.Errorf("%s: client %d: %v = %q, want %q, its last acknowledged value", when, c.id, k, got, want)
			}
			checked++
		}
	}
	w.t.Logf("%s: %d members, %d OUs, %d policies, %d rules, %d acknowledged values checked", when, len(snap.Accounts), len(snap.OUs), len(snap.Policies), len(wantRules), checked)
	if w.t.Failed() {
		w.t.FailNow()
	}
}

func (w *crashWorld) listRules(ctx context.Context) []string {
	var arns []string
	token := ""
	for {
		in := map[string]any{"maxResults": 100}
		if token != "" {
			in["nextToken"] = token
		}
		r, err := w.aco.Call(ctx, crashManagement, "ListAutomationRules", in)
		if err != nil || !r.OK() {
			w.t.Errorf("ListAutomationRules: %v %v", r, err)
			return nil
		}
		for _, x := range r.List("automationRules") {
			arn, _ := x.(map[string]any)["ruleArn"].(string)
			arns = append(arns, arn)
		}
		if token = r.Str("nextToken"); token == "" {
			sort.Strings(arns)
			return arns
		}
	}
}

// verifyStore opens the store of the stopped server, as the next process
// will, and checks its records and indexes.
func (w *crashWorld) verifyStore(when string) {
	w.t.Helper()
	ctx := context.Background()
	st, err := w.srv.store.open(ctx)
	if err != nil {
		w.t.Fatalf("%s: opening the store: %v", when, err)
	}
	defer st.Close()
	problems, err := testkit.VerifyStore(ctx, st)
	if err != nil {
		w.t.Fatalf("%s: %v", when, err)
	}
	for _, p := range problems {
		w.t.Errorf("%s: store: %s", when, p)
	}
}

// finish stops the clients, verifies a last time, through the API and in
// the store, and reports what they did.
func (w *crashWorld) finish() {
	w.t.Helper()
	w.stop.Store(true) // the clients end their last write and stop
	w.verify("at the end")
	w.done.Wait()
	if err := w.srv.stop(syscall.SIGTERM); err != nil {
		w.t.Errorf("orgstack exited with %v after SIGTERM, want a clean exit", err)
	}
	w.verifyStore("at the end")
	acked, unanswered, applied := map[string]int{}, map[string]int{}, map[string]int{}
	for _, c := range w.clients {
		for k, v := range c.acked {
			acked[k] += v
		}
		for k, v := range c.unanswered {
			unanswered[k] += v
		}
		for k, v := range c.applied {
			applied[k] += v
		}
	}
	w.t.Logf("acknowledged writes: %v", acked)
	w.t.Logf("calls without an answer: %v, of which found applied: %v", unanswered, applied)
}

// cell is one value a client owns: kind is parent (an account's or OU's
// parent), tag (res's tag sub), attach (policy res attached to target
// sub), assoc (account res under central Automation management), rule
// (res's revision and status) or ruletag (rule res's tag sub). The empty
// value means absent, detached, not associated or deleted.
type cell struct{ kind, res, sub string }

func (c cell) compare(d cell) int {
	return strings.Compare(c.kind+"|"+c.res+"|"+c.sub, d.kind+"|"+d.res+"|"+d.sub)
}

type crashRule struct {
	arn  string
	tags []string // keys
}

// crashClient is one client and what it had acknowledged.
type crashClient struct {
	w   *crashWorld
	id  int
	rng *rand.Rand

	ous        []string
	accounts   []string
	departed   []string
	pending    map[string]string // CreateAccount request id -> account name
	policies   []string
	policyType map[string]types.PolicyType
	rules      []crashRule
	cells      map[cell]string
	n          int // names its creations

	// acked counts acknowledged writes, unanswered those without an
	// answer and applied those of them found applied after the restart.
	acked, unanswered, applied map[string]int
}

func (c *crashClient) orgs() *organizations.Client { return c.w.mgmt }

func (c *crashClient) name(kind string) string {
	c.n++
	return fmt.Sprintf("c%d-%s%d", c.id, kind, c.n)
}

func (c *crashClient) fail(format string, args ...any) {
	c.w.t.Errorf("client %d: "+format, append([]any{c.id}, args...)...)
}

func (c *crashClient) setup(ctx context.Context) {
	for range 2 {
		c.createOU(ctx)
		c.createAccount(ctx)
	}
	c.createPolicy(ctx, types.PolicyTypeServiceControlPolicy)
	c.createPolicy(ctx, types.PolicyTypeTagPolicy)
	c.createRule(ctx)
	c.settle(ctx, true)
}

func (c *crashClient) run() {
	defer c.w.done.Done()
	defer c.w.gate.leave()
	ctx := context.Background()
	for {
		c.w.gate.pass()
		if c.w.stop.Load() || c.w.t.Failed() {
			return
		}
		c.step(ctx)
	}
}

// step runs one write chosen at random among those that apply now.
func (c *crashClient) step(ctx context.Context) {
	type choice struct {
		weight int
		run    func()
	}
	var choices []choice
	add := func(weight int, ok bool, run func()) {
		if ok {
			choices = append(choices, choice{weight, run})
		}
	}
	add(1, len(c.ous) < 6, func() { c.createOU(ctx) })
	add(1, len(c.accounts)+len(c.pending) < 5, func() { c.createAccount(ctx) })
	add(3, len(c.pending) > 0, func() { c.settle(ctx, false) })
	add(1, len(c.accounts) > 2, func() { c.removeAccount(ctx) })
	add(4, len(c.accounts) > 0, func() { c.moveAccount(ctx) })
	add(4, true, func() { c.tag(ctx) })
	add(2, true, func() { c.untag(ctx) })
	add(1, len(c.policies) < 5, func() {
		c.createPolicy(ctx, []types.PolicyType{types.PolicyTypeServiceControlPolicy, types.PolicyTypeTagPolicy}[c.rng.IntN(2)])
	})
	add(3, true, func() { c.attach(ctx) })
	add(2, true, func() { c.detach(ctx) })
	add(2, len(c.accounts) > 0, func() { c.associate(ctx, true) })
	add(2, len(c.accounts) > 0, func() { c.associate(ctx, false) })
	add(1, len(c.rules) < 3, func() { c.createRule(ctx) })
	add(2, len(c.rules) > 0, func() { c.updateRule(ctx) })
	add(1, len(c.rules) > 1, func() { c.deleteRule(ctx) })
	add(2, len(c.rules) > 0, func() { c.tagRule(ctx) })
	add(1, len(c.rules) > 0, func() { c.untagRule(ctx) })
	total := 0
	for _, ch := range choices {
		total += ch.weight
	}
	n := c.rng.IntN(total)
	for _, ch := range choices {
		if n -= ch.weight; n < 0 {
			ch.run()
			return
		}
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// taggable are the client's accounts, OUs and policies.
func (c *crashClient) taggable() []string {
	return slices.Concat(c.accounts, c.ous, c.policies)
}

// targets are the client's accounts and OUs.
func (c *crashClient) targets() []string { return slices.Concat(c.accounts, c.ous) }

// call runs one attempt and reports whether it got an answer: nil for a
// success, the error response otherwise. A call without an answer is
// allowed only while the server is stopping or down.
func (c *crashClient) call(op string, fn func() error) (answered bool, err error) {
	e0 := c.w.srv.epoch.Load()
	err = fn()
	if err == nil || !testkit.NoResponse(err) {
		return true, err
	}
	if e0%2 == 0 && c.w.srv.epoch.Load() == e0 {
		c.fail("%s got no answer from a running server: %v", op, err)
	}
	c.unanswered[op]++
	c.w.srv.waitUp()
	return false, err
}

// write runs a write whose effect on the client's cells is after, and
// returns whether it was applied. An idempotent write (one with a client
// token) is sent again after an attempt without an answer, and must then
// succeed.
func (c *crashClient) write(ctx context.Context, op string, after map[cell]string, fn func() error, idempotent bool) bool {
	for {
		answered, err := c.call(op, fn)
		if answered {
			if err != nil {
				c.fail("%s: %v", op, err)
				return false
			}
			c.acked[op]++
			maps.Copy(c.cells, after)
			return true
		}
		applied, ok := c.resolve(ctx, op, after)
		if !ok {
			return false
		}
		if !idempotent {
			if applied {
				maps.Copy(c.cells, after)
			}
			return applied
		}
		// Send it again with the same token.
	}
}

// resolve reads back the cells of a write that got no answer: all as
// before (not applied) or all as after (applied).
func (c *crashClient) resolve(ctx context.Context, op string, after map[cell]string) (applied, ok bool) {
	got := map[cell]string{}
	before := map[cell]string{}
	for k := range after {
		v, err := c.read(ctx, k)
		if err != nil {
			c.fail("%s: reading %v back: %v", op, k, err)
			return false, false
		}
		got[k], before[k] = v, c.cells[k]
	}
	switch {
	case maps.Equal(got, before):
		return false, true
	case maps.Equal(got, after):
		if c.w.strict {
			c.fail("%s was applied but never answered (%v)", op, after)
			return true, false
		}
		c.applied[op]++
		return true, true
	}
	c.fail("%s was applied in part: %v, before %v, after %v", op, got, before, after)
	return false, false
}

// read asks the server for the value of a cell.
func (c *crashClient) read(ctx context.Context, k cell) (string, error) {
	switch k.kind {
	case "parent":
		out, err := c.orgs().ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(k.res)})
		if testkit.ErrorCode(err) == "ChildNotFoundException" {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if len(out.Parents) != 1 {
			return "", fmt.Errorf("%s has %d parents", k.res, len(out.Parents))
		}
		return aws.ToString(out.Parents[0].Id), nil
	case "tag":
		out, err := c.orgs().ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(k.res)})
		if testkit.ErrorCode(err) == "TargetNotFoundException" {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		for _, tg := range out.Tags {
			if aws.ToString(tg.Key) == k.sub {
				return aws.ToString(tg.Value), nil
			}
		}
		return "", nil
	case "attach":
		out, err := c.orgs().ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(k.sub), Filter: c.policyType[k.res]})
		if testkit.ErrorCode(err) == "TargetNotFoundException" {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		for _, p := range out.Policies {
			if aws.ToString(p.Id) == k.res {
				return "1", nil
			}
		}
		return "", nil
	case "assoc":
		r, err := c.w.aco.Call(ctx, k.res, "GetEnrollmentConfiguration", nil)
		if err == nil {
			err = r.Err()
		}
		if err != nil {
			return "", err
		}
		if r.Str("organizationRuleMode") == "AnyAllowed" {
			return "1", nil
		}
		return "", nil
	case "rule":
		r, err := c.w.aco.Call(ctx, crashManagement, "GetAutomationRule", map[string]any{"ruleArn": k.res})
		if err == nil {
			err = r.Err()
		}
		if testkit.ErrorCode(err) == "ResourceNotFoundException" {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d %s", r.Num("ruleRevision"), r.Str("status")), nil
	case "ruletag":
		r, err := c.w.aco.Call(ctx, crashManagement, "ListTagsForResource", map[string]any{"resourceArn": k.res})
		if err == nil {
			err = r.Err()
		}
		if testkit.ErrorCode(err) == "ResourceNotFoundException" {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		for _, x := range r.List("tags") {
			if tg, _ := x.(map[string]any); tg["key"] == k.sub {
				v, _ := tg["value"].(string)
				return v, nil
			}
		}
		return "", nil
	}
	return "", fmt.Errorf("unknown cell kind %q", k.kind)
}

// create runs a creation that carries no client token: after an attempt
// without an answer, find looks for the resource by its unique name.
func (c *crashClient) create(ctx context.Context, op string, fn func() (string, error), find func() (string, error)) (string, bool) {
	var id string
	answered, err := c.call(op, func() (err error) { id, err = fn(); return err })
	if answered {
		if err != nil {
			c.fail("%s: %v", op, err)
			return "", false
		}
		c.acked[op]++
		return id, true
	}
	id, err = find()
	switch {
	case err != nil:
		c.fail("%s: looking for it after a crash: %v", op, err)
	case id != "" && c.w.strict:
		c.fail("%s was applied but never answered (%s)", op, id)
	case id != "":
		c.applied[op]++
	}
	return id, id != ""
}

func (c *crashClient) createOU(ctx context.Context) {
	parent := c.w.rootID
	if len(c.ous) > 0 && c.rng.IntN(2) == 0 {
		parent = c.ous[0] // at most two levels: far from the depth limit
	}
	name := c.name("ou")
	id, ok := c.create(ctx, "CreateOrganizationalUnit", func() (string, error) {
		out, err := c.orgs().CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(name)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.OrganizationalUnit.Id), nil
	}, func() (string, error) {
		for pg := organizations.NewListOrganizationalUnitsForParentPaginator(c.orgs(), &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)}); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				return "", err
			}
			for _, ou := range out.OrganizationalUnits {
				if aws.ToString(ou.Name) == name {
					return aws.ToString(ou.Id), nil
				}
			}
		}
		return "", nil
	})
	if ok {
		c.ous = append(c.ous, id)
		c.cells[cell{"parent", id, ""}] = parent
	}
}

func (c *crashClient) createAccount(ctx context.Context) {
	name := c.name("acct")
	id, ok := c.create(ctx, "CreateAccount", func() (string, error) {
		out, err := c.orgs().CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.CreateAccountStatus.Id), nil
	}, func() (string, error) {
		for pg := organizations.NewListCreateAccountStatusPaginator(c.orgs(), &organizations.ListCreateAccountStatusInput{}); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				return "", err
			}
			for _, s := range out.CreateAccountStatuses {
				if aws.ToString(s.AccountName) == name {
					return aws.ToString(s.Id), nil
				}
			}
		}
		return "", nil
	})
	if ok {
		c.pending[id] = name
	}
}

// settle turns finished account creations into accounts; with wait it
// waits for all of them (the runner finishes them after a restart too).
func (c *crashClient) settle(ctx context.Context, wait bool) {
	deadline := time.Now().Add(15 * time.Second)
	for _, req := range slices.Sorted(maps.Keys(c.pending)) {
		for {
			var out *organizations.DescribeCreateAccountStatusOutput
			answered, err := c.call("DescribeCreateAccountStatus", func() (err error) {
				out, err = c.orgs().DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(req)})
				return err
			})
			if !answered {
				continue
			}
			if err != nil {
				c.fail("DescribeCreateAccountStatus(%s): %v", req, err)
				return
			}
			st := out.CreateAccountStatus
			if st.State == types.CreateAccountStateSucceeded {
				id := aws.ToString(st.AccountId)
				delete(c.pending, req)
				c.accounts = append(c.accounts, id)
				c.cells[cell{"parent", id, ""}] = c.w.rootID
				c.cells[cell{"assoc", id, ""}] = ""
				break
			}
			if st.State != types.CreateAccountStateInProgress {
				c.fail("creation %s of %s: %s %s", req, c.pending[req], st.State, st.FailureReason)
				delete(c.pending, req)
				break
			}
			if !wait {
				break
			}
			if time.Now().After(deadline) {
				c.fail("creation %s of %s still in progress after 15s", req, c.pending[req])
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func (c *crashClient) removeAccount(ctx context.Context) {
	i := c.rng.IntN(len(c.accounts))
	a := c.accounts[i]
	// A created account needs its standalone information before it can go.
	for {
		answered, err := c.call("standalone", func() error {
			_, err := testkit.Admin(ctx, c.w.hc, c.w.srv.url, "POST", "/_orgstack/accounts/"+a+"/standalone",
				map[string]bool{"contactInfo": true, "paymentMethod": true, "phoneVerified": true, "eula": true})
			return err
		})
		if answered && err != nil {
			c.fail("standalone %s: %v", a, err)
			return
		}
		if answered {
			break
		}
	}
	after := map[cell]string{}
	for k := range c.cells {
		if (k.kind == "parent" || k.kind == "assoc" || k.kind == "tag") && k.res == a || k.kind == "attach" && k.sub == a {
			after[k] = ""
		}
	}
	if c.write(ctx, "RemoveAccountFromOrganization", after, func() error {
		_, err := c.orgs().RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(a)})
		return err
	}, false) {
		c.accounts = slices.Delete(c.accounts, i, i+1)
		c.departed = append(c.departed, a)
	}
}

func (c *crashClient) moveAccount(ctx context.Context) {
	a := pick(c.rng, c.accounts)
	src := c.cells[cell{"parent", a, ""}]
	dst := pick(c.rng, append([]string{c.w.rootID}, c.ous...))
	if dst == src {
		return
	}
	c.write(ctx, "MoveAccount", map[cell]string{{"parent", a, ""}: dst}, func() error {
		_, err := c.orgs().MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a), SourceParentId: aws.String(src), DestinationParentId: aws.String(dst)})
		return err
	}, false)
}

var tagKeys = []string{"team", "env", "cost", "owner"}

func (c *crashClient) tag(ctx context.Context) {
	res, key := pick(c.rng, c.taggable()), pick(c.rng, tagKeys)
	value := c.name("v")
	c.write(ctx, "TagResource", map[cell]string{{"tag", res, key}: value}, func() error {
		_, err := c.orgs().TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(res), Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}})
		return err
	}, false)
}

func (c *crashClient) untag(ctx context.Context) {
	var present []cell
	for k, v := range c.cells {
		if k.kind == "tag" && v != "" {
			present = append(present, k)
		}
	}
	if len(present) == 0 {
		return
	}
	slices.SortFunc(present, cell.compare)
	k := pick(c.rng, present)
	c.write(ctx, "UntagResource", map[cell]string{k: ""}, func() error {
		_, err := c.orgs().UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(k.res), TagKeys: []string{k.sub}})
		return err
	}, false)
}

var policyContent = map[types.PolicyType]string{
	types.PolicyTypeServiceControlPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	types.PolicyTypeTagPolicy:            `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`,
}

func (c *crashClient) createPolicy(ctx context.Context, typ types.PolicyType) {
	name := c.name("policy")
	id, ok := c.create(ctx, "CreatePolicy", func() (string, error) {
		out, err := c.orgs().CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(name), Description: aws.String("crash test"),
			Type: typ, Content: aws.String(policyContent[typ])})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Policy.PolicySummary.Id), nil
	}, func() (string, error) {
		for pg := organizations.NewListPoliciesPaginator(c.orgs(), &organizations.ListPoliciesInput{Filter: typ}); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				return "", err
			}
			for _, p := range out.Policies {
				if aws.ToString(p.Name) == name {
					return aws.ToString(p.Id), nil
				}
			}
		}
		return "", nil
	})
	if ok {
		c.policies = append(c.policies, id)
		c.policyType[id] = typ
	}
}

func (c *crashClient) attach(ctx context.Context) {
	if len(c.policies) == 0 || len(c.targets()) == 0 {
		return
	}
	k := cell{"attach", pick(c.rng, c.policies), pick(c.rng, c.targets())}
	if c.cells[k] != "" {
		return
	}
	c.write(ctx, "AttachPolicy", map[cell]string{k: "1"}, func() error {
		_, err := c.orgs().AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(k.res), TargetId: aws.String(k.sub)})
		return err
	}, false)
}

func (c *crashClient) detach(ctx context.Context) {
	var attached []cell
	for k, v := range c.cells {
		if k.kind == "attach" && v != "" {
			attached = append(attached, k)
		}
	}
	if len(attached) == 0 {
		return
	}
	slices.SortFunc(attached, cell.compare)
	k := pick(c.rng, attached)
	c.write(ctx, "DetachPolicy", map[cell]string{k: ""}, func() error {
		_, err := c.orgs().DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(k.res), TargetId: aws.String(k.sub)})
		return err
	}, false)
}

// associate associates (or disassociates) one of the client's accounts
// in Automation, with a client token.
func (c *crashClient) associate(ctx context.Context, on bool) {
	a := pick(c.rng, c.accounts)
	k := cell{"assoc", a, ""}
	want, op := "1", "AssociateAccounts"
	if !on {
		want, op = "", "DisassociateAccounts"
	}
	if c.cells[k] == want {
		return
	}
	token := c.name("token")
	c.write(ctx, op, map[cell]string{k: want}, func() error {
		r, err := c.w.aco.Call(ctx, crashManagement, op, map[string]any{"accountIds": []string{a}, "clientToken": token})
		if err != nil {
			return err
		}
		if err := r.Err(); err != nil {
			return err
		}
		if done := r.Strings("accountIds"); !slices.Equal(done, []string{a}) {
			// A success that says the account was not changed.
			return &smithy.GenericAPIError{Code: "Refused", Message: fmt.Sprintf("%s answered %v", op, r.Body)}
		}
		return nil
	}, true)
}

func (c *crashClient) createRule(ctx context.Context) {
	name, token := c.name("rule"), c.name("token")
	in := map[string]any{
		"name": name, "ruleType": "AccountRule", "status": "Active", "clientToken": token,
		"recommendedActionTypes": []string{"SnapshotAndDeleteUnattachedEbsVolume"},
		"schedule":               map[string]any{"scheduleExpression": "30 12 * * *", "scheduleExpressionTimezone": "UTC", "executionWindowInMinutes": 60},
		"tags":                   []map[string]string{{"key": "owner", "value": name}},
	}
	var arn string
	var revision int64
	// The rule's ARN is known only from the answer: the cells are written
	// once it has one.
	for {
		answered, err := c.call("CreateAutomationRule", func() error {
			r, err := c.w.aco.Call(ctx, crashManagement, "CreateAutomationRule", in)
			if err != nil {
				return err
			}
			arn, revision = r.Str("ruleArn"), r.Num("ruleRevision")
			return r.Err()
		})
		if answered && err != nil {
			c.fail("CreateAutomationRule: %v", err)
			return
		}
		if answered {
			break
		}
		// Without an answer the rule may exist: the same token must
		// return it rather than make a second one (verify counts them).
	}
	c.acked["CreateAutomationRule"]++
	c.rules = append(c.rules, crashRule{arn: arn, tags: []string{"owner"}})
	c.cells[cell{"rule", arn, ""}] = fmt.Sprintf("%d Active", revision)
	c.cells[cell{"ruletag", arn, "owner"}] = name
}

// ruleState is a rule's revision and status as its cell holds them.
func (c *crashClient) ruleState(arn string) (int64, string) {
	f := strings.Fields(c.cells[cell{"rule", arn, ""}])
	rev, _ := strconv.ParseInt(f[0], 10, 64)
	return rev, f[1]
}

func (c *crashClient) updateRule(ctx context.Context) {
	r := pick(c.rng, c.rules)
	rev, status := c.ruleState(r.arn)
	next := map[string]string{"Active": "Inactive", "Inactive": "Active"}[status]
	token := c.name("token")
	c.write(ctx, "UpdateAutomationRule", map[cell]string{{"rule", r.arn, ""}: fmt.Sprintf("%d %s", rev+1, next)}, func() error {
		return c.acoWrite(ctx, "UpdateAutomationRule", map[string]any{"ruleArn": r.arn, "ruleRevision": rev, "status": next, "clientToken": token})
	}, true)
}

func (c *crashClient) deleteRule(ctx context.Context) {
	i := c.rng.IntN(len(c.rules))
	r := c.rules[i]
	rev, _ := c.ruleState(r.arn)
	after := map[cell]string{{"rule", r.arn, ""}: ""}
	for k := range c.cells {
		if k.kind == "ruletag" && k.res == r.arn {
			after[k] = ""
		}
	}
	token := c.name("token")
	if c.write(ctx, "DeleteAutomationRule", after, func() error {
		return c.acoWrite(ctx, "DeleteAutomationRule", map[string]any{"ruleArn": r.arn, "ruleRevision": rev, "clientToken": token})
	}, true) {
		c.rules = slices.Delete(c.rules, i, i+1)
	}
}

func (c *crashClient) tagRule(ctx context.Context) {
	r := pick(c.rng, c.rules)
	rev, status := c.ruleState(r.arn)
	key, value, token := pick(c.rng, tagKeys), c.name("v"), c.name("token")
	c.write(ctx, "TagResource(rule)", map[cell]string{
		{"rule", r.arn, ""}: fmt.Sprintf("%d %s", rev+1, status), {"ruletag", r.arn, key}: value,
	}, func() error {
		return c.acoWrite(ctx, "TagResource", map[string]any{"resourceArn": r.arn, "ruleRevision": rev,
			"tags": []map[string]string{{"key": key, "value": value}}, "clientToken": token})
	}, true)
}

func (c *crashClient) untagRule(ctx context.Context) {
	r := pick(c.rng, c.rules)
	var present []string
	for _, key := range tagKeys {
		if c.cells[cell{"ruletag", r.arn, key}] != "" {
			present = append(present, key)
		}
	}
	if len(present) == 0 {
		return
	}
	rev, status := c.ruleState(r.arn)
	key, token := pick(c.rng, present), c.name("token")
	c.write(ctx, "UntagResource(rule)", map[cell]string{
		{"rule", r.arn, ""}: fmt.Sprintf("%d %s", rev+1, status), {"ruletag", r.arn, key}: "",
	}, func() error {
		return c.acoWrite(ctx, "UntagResource", map[string]any{"resourceArn": r.arn, "ruleRevision": rev, "tagKeys": []string{key}, "clientToken": token})
	}, true)
}

// acoWrite calls an Automation write as the management account.
func (c *crashClient) acoWrite(ctx context.Context, op string, in map[string]any) error {
	r, err := c.w.aco.Call(ctx, crashManagement, op, in)
	if err != nil {
		return err
	}
	return r.Err()
}
