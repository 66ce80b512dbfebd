package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/store/sqlite"
	"github.com/orgstack/orgstack/internal/store/testengine"
	"github.com/orgstack/orgstack/internal/testkit"
)

// The concurrency tests let many clients change the same things at once:
// move the same accounts, attach and detach the same policies, tag the
// same resources, associate the same members, update the same rule, take
// accounts out of the organization and back while others work on them.
// Every answer must be a success or an error the operation documents and
// that the race can explain (the allow lists below, each checked against
// the model); the organization's invariants must hold after each round
// (testkit.Check); and the outcome must be one some serial order of the
// successful calls gives.
//
// They run on a SQLite database file (separate reader and writer
// connections and the read cache, as orgstack serves by default) and, when
// ORGSTACK_TEST_POSTGRES is set, on PostgreSQL, whose SERIALIZABLE
// transactions really run at once and retry.

// raceSeed is the seed of the clients' choices, from ORGSTACK_TEST_SEED
// when set.
func raceSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ORGSTACK_TEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("ORGSTACK_TEST_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (ORGSTACK_TEST_SEED=%d repeats the clients' choices, not their timing)", seed, seed)
	return seed
}

// onEachEngine runs fn on a fresh orgstack per store engine.
func onEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "orgstack.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, startEnv(t, st, app.Config{Version: "test"}))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, startEnv(t, testengine.Postgres(t), app.Config{Version: "test"}))
	})
}

// raceClients and raceSteps size each round: modest, so that the suite
// stays fast under -race, yet enough for the same resources to collide.
const (
	raceClients = 8
	raceSteps   = 12
	raceRounds  = 3
)

// event is one call of a race.
type event struct {
	client     int
	op, key    string // the operation and what it acted on
	arg        string // what the serial-order checks need: a move's "src dst", a tag's value, ...
	result     string // for successes that report per item, what they said
	start, end time.Time
	code       string // the error code, "" for a success
}

func (ev event) ok() bool { return ev.code == "" }

// race is one organization that clients race on.
type race struct {
	t    *testing.T
	e    *env
	hc   *http.Client
	seed uint64
	aco  testkit.Automation

	allowed map[string]map[string]bool // operation -> error codes the race explains

	mu  sync.Mutex
	log []event // this round's calls
}

func newRace(t *testing.T, e *env) *race {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * raceClients}}
	t.Cleanup(hc.CloseIdleConnections)
	return &race{t: t, e: e, hc: hc, seed: raceSeed(t), aco: testkit.Automation{Endpoint: e.URL, HTTP: hc}, allowed: map[string]map[string]bool{}}
}

// allow says which errors op may answer in this race. Each must be one the
// model declares for op: what AWS documents is the bound.
func (r *race) allow(svc *protocol.Service, op string, codes ...string) {
	r.t.Helper()
	o := svc.Operation(op)
	if o == nil {
		r.t.Fatalf("%s has no operation %s", svc.Name, op)
	}
	if r.allowed[op] == nil {
		r.allowed[op] = map[string]bool{}
	}
	for _, code := range codes {
		if !slices.Contains(o.Errors, code) {
			r.t.Fatalf("%s does not declare %s", op, code)
		}
		r.allowed[op][code] = true
	}
}

func (r *race) orgs(account string) *organizations.Client {
	return testkit.Orgs(r.e.URL, account, r.hc)
}

// do runs one call, records it and judges its answer.
func (r *race) do(client int, op, key, arg string, fn func() (result string, err error)) event {
	ev := event{client: client, op: op, key: key, arg: arg, start: time.Now()}
	result, err := fn()
	ev.end, ev.result, ev.code = time.Now(), result, testkit.ErrorCode(err)
	switch {
	case err == nil:
	case testkit.NoResponse(err):
		r.t.Errorf("client %d %s(%s %s): no answer: %v", client, op, key, arg, err)
		ev.code = "no answer"
	case !r.allowed[op][ev.code]:
		r.t.Errorf("client %d %s(%s %s): %v, which the race does not explain", client, op, key, arg, err)
	}
	var cv *types.ConstraintViolationException
	if errors.As(err, &cv) {
		ev.result = string(cv.Reason)
	}
	r.mu.Lock()
	r.log = append(r.log, ev)
	r.mu.Unlock()
	return ev
}

// acoDo is do for an Automation call as account.
func (r *race) acoDo(client int, op, key, arg, account string, in map[string]any, result func(testkit.Response) string) event {
	return r.do(client, op, key, arg, func() (string, error) {
		resp, err := r.aco.Call(context.Background(), account, op, in)
		if err != nil {
			return "", err
		}
		if err := resp.Err(); err != nil {
			return "", err
		}
		if result == nil {
			return "", nil
		}
		return result(resp), nil
	})
}

// round runs raceClients clients of raceSteps steps each, all at once,
// and returns their calls.
func (r *race) round(n int, step func(client int, rng *rand.Rand)) []event {
	r.log = nil
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := range raceClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(r.seed, uint64(n*raceClients+c)))
			<-start
			for range raceSteps {
				step(c, rng)
			}
		}()
	}
	close(start)
	wg.Wait()
	return r.log
}

// check reads the organization, through the API and in the store, and
// fails the test on any broken invariant.
func (r *race) check(departed ...string) *testkit.Snapshot {
	r.t.Helper()
	return r.checkOrg(mgmtAccount, departed...)
}

// checkOrg is check for the organization of another management account.
func (r *race) checkOrg(mgmt string, departed ...string) *testkit.Snapshot {
	r.t.Helper()
	ctx := context.Background()
	snap, problems := testkit.Check(ctx, testkit.Target{Endpoint: r.e.URL, Management: mgmt, HTTP: r.hc, Departed: departed})
	for _, p := range problems {
		r.t.Error(p)
	}
	problems, err := testkit.VerifyStore(ctx, r.e.Store)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, p := range problems {
		r.t.Error("store: " + p)
	}
	if r.t.Failed() {
		r.t.FailNow()
	}
	return snap
}

// summary counts the answers of a round by operation and code, for the log.
func summary(log []event) string {
	n := map[string]int{}
	for _, ev := range log {
		k := ev.op
		if !ev.ok() {
			k += ":" + ev.code
		}
		n[k]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n[k]))
	}
	return strings.Join(parts, " ")
}

// raceOrg creates the organization with room for what the races do.
func raceOrg(t *testing.T, e *env) (rootID string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.orgs(mgmtAccount).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	e.setQuotas(t, `{"accountsPerOrganization":100,"concurrentAccountCreations":50,"createdAccountRemovalWait":"0s","invitationsPerDay":1000}`)
	roots, err := e.orgs(mgmtAccount).ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(roots.Roots[0].Id)
}

func raceAccounts(t *testing.T, e *env, prefix string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		ids = append(ids, e.createAccount(t, mgmtAccount, fmt.Sprintf("%s%d@example.com", prefix, i)))
	}
	return ids
}

func raceOU(t *testing.T, e *env, parent, name string) string {
	t.Helper()
	return aws.ToString(createOU(t, e, mgmtAccount, parent, name).Id)
}

func racePolicy(t *testing.T, e *env, name string, typ types.PolicyType) string {
	t.Helper()
	content := map[types.PolicyType]string{
		types.PolicyTypeServiceControlPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		types.PolicyTypeTagPolicy:            `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`,
	}[typ]
	return aws.ToString(createPolicy(t, e, mgmtAccount, name, typ, content).Id)
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// outside returns the accounts that are no members of mgmt's organization.
func (r *race) outside(mgmt string, accounts []string) []string {
	r.t.Helper()
	members := map[string]bool{}
	for pg := organizations.NewListAccountsPaginator(r.orgs(mgmt), &organizations.ListAccountsInput{}); pg.HasMorePages(); {
		out, err := pg.NextPage(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		for _, a := range out.Accounts {
			members[aws.ToString(a.Id)] = true
		}
	}
	var out []string
	for _, a := range accounts {
		if !members[a] {
			out = append(out, a)
		}
	}
	return out
}

// TestConcurrentMoves moves the same accounts between the same parents
// from many clients, with sources they believe right or guess, while
// others delete and recreate one of the destinations. The successful
// moves of an account must chain from where it was to where it is.
func TestConcurrentMoves(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e *env) {
		r := newRace(t, e)
		rootID := raceOrg(t, e)
		o1 := raceOU(t, e, rootID, "o1")
		parents := []string{rootID, o1, raceOU(t, e, rootID, "o2"), raceOU(t, e, o1, "o3")}
		accounts := raceAccounts(t, e, "move", 3)
		r.allow(orgapi.Service, "MoveAccount", "AccountNotFoundException", "DuplicateAccountException",
			"SourceParentNotFoundException", "DestinationParentNotFoundException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "DeleteOrganizationalUnit", "OrganizationalUnitNotEmptyException", "OrganizationalUnitNotFoundException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "CreateOrganizationalUnit", "DuplicateOrganizationalUnitException", "ConcurrentModificationException")

		var mu sync.Mutex // guards the clients' shared beliefs
		volatile := raceOU(t, e, rootID, "volatile")
		belief := map[string]string{}
		for _, a := range accounts {
			belief[a] = rootID
		}
		ctx := context.Background()
		before := r.check()
		for n := range raceRounds {
			log := r.round(n, func(c int, rng *rand.Rand) {
				mu.Lock()
				vol := volatile
				mu.Unlock()
				switch rng.IntN(10) {
				case 0:
					r.do(c, "DeleteOrganizationalUnit", "volatile", vol, func() (string, error) {
						_, err := r.orgs(mgmtAccount).DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(vol)})
						return "", err
					})
				case 1:
					r.do(c, "CreateOrganizationalUnit", "volatile", "", func() (string, error) {
						out, err := r.orgs(mgmtAccount).CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("volatile")})
						if err == nil {
							mu.Lock()
							volatile = aws.ToString(out.OrganizationalUnit.Id)
							mu.Unlock()
						}
						return "", err
					})
				default:
					a, dst := pick(rng, accounts), pick(rng, append(parents, vol))
					mu.Lock()
					src := belief[a]
					mu.Unlock()
					if rng.IntN(4) == 0 {
						src = pick(rng, append(parents, vol))
					}
					ev := r.do(c, "MoveAccount", a, src+" "+dst, func() (string, error) {
						_, err := r.orgs(mgmtAccount).MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a), SourceParentId: aws.String(src), DestinationParentId: aws.String(dst)})
						return "", err
					})
					if ev.ok() {
						mu.Lock()
						belief[a] = dst
						mu.Unlock()
					}
				}
			})
			after := r.check()
			t.Logf("round %d: %s", n, summary(log))
			for _, a := range accounts {
				var moves [][2]string
				for _, ev := range log {
					if ev.op == "MoveAccount" && ev.key == a && ev.ok() {
						f := strings.Fields(ev.arg)
						moves = append(moves, [2]string{f[0], f[1]})
					}
				}
				if !chains(before.Parents[a], after.Parents[a], moves) {
					t.Errorf("round %d: %s went from %s to %s, which its successful moves %v cannot do in any order", n, a, before.Parents[a], after.Parents[a], moves)
				}
			}
			count := func(s *testkit.Snapshot) int {
				n := 0
				for _, name := range s.OUs {
					if name == "volatile" {
						n++
					}
				}
				return n
			}
			created, deleted := 0, 0
			for _, ev := range log {
				if ev.ok() && ev.op == "CreateOrganizationalUnit" {
					created++
				}
				if ev.ok() && ev.op == "DeleteOrganizationalUnit" {
					deleted++
				}
			}
			if b, a := count(before), count(after); b+created-deleted != a {
				t.Errorf("round %d: %d volatile OUs before, %d created, %d deleted, %d after", n, b, created, deleted, a)
			}
			before = after
		}
	})
}

// chains reports whether the moves, each taken once in some order, lead
// from one parent to the other: a path through every edge of a multigraph
// exists only if every parent is left as often as it is entered, except
// the start (left once more) and the end (entered once more).
func chains(from, to string, moves [][2]string) bool {
	balance := map[string]int{}
	balance[from]--
	balance[to]++ // cancels out when from == to
	for _, m := range moves {
		balance[m[0]]++
		balance[m[1]]--
	}
	for _, b := range balance {
		if b != 0 {
			return false
		}
	}
	return true
}

// TestConcurrentAttachments attaches and detaches the same policies to
// the same targets from many clients, with a per-target limit to race
// for. Each policy's successful attachments and detachments on a target
// must alternate in some order, and no limit may be overrun.
func TestConcurrentAttachments(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e *env) {
		r := newRace(t, e)
		rootID := raceOrg(t, e)
		ctx := context.Background()
		if _, err := e.orgs(mgmtAccount).EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeTagPolicy}); err != nil {
			t.Fatal(err)
		}
		e.setQuotas(t, `{"policiesPerTarget":{"TAG_POLICY":2,"SERVICE_CONTROL_POLICY":2}}`)
		accounts := raceAccounts(t, e, "attach", 2)
		targets := append([]string{rootID, raceOU(t, e, rootID, "o1")}, accounts...)
		policies := []string{"p-FullAWSAccess", racePolicy(t, e, "s1", types.PolicyTypeServiceControlPolicy),
			racePolicy(t, e, "t1", types.PolicyTypeTagPolicy), racePolicy(t, e, "t2", types.PolicyTypeTagPolicy), racePolicy(t, e, "t3", types.PolicyTypeTagPolicy)}
		r.allow(orgapi.Service, "AttachPolicy", "DuplicatePolicyAttachmentException", "ConstraintViolationException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "DetachPolicy", "PolicyNotAttachedException", "ConstraintViolationException", "ConcurrentModificationException")

		before := r.check()
		for n := range raceRounds {
			log := r.round(n, func(c int, rng *rand.Rand) {
				p, target := pick(rng, policies), pick(rng, targets)
				key := p + " " + target
				if rng.IntN(2) == 0 {
					r.do(c, "AttachPolicy", key, "", func() (string, error) {
						_, err := r.orgs(mgmtAccount).AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(p), TargetId: aws.String(target)})
						return "", err
					})
				} else {
					r.do(c, "DetachPolicy", key, "", func() (string, error) {
						_, err := r.orgs(mgmtAccount).DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(p), TargetId: aws.String(target)})
						return "", err
					})
				}
			})
			after := r.check()
			t.Logf("round %d: %s", n, summary(log))
			for _, ev := range log {
				want := map[string]string{"AttachPolicy": "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "DetachPolicy": "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"}[ev.op]
				if ev.code == "ConstraintViolationException" && ev.result != want {
					t.Errorf("%s(%s): ConstraintViolationException %s, want %s", ev.op, ev.key, ev.result, want)
				}
			}
			for _, p := range policies {
				for _, target := range targets {
					net := 0
					for _, ev := range log {
						if ev.key == p+" "+target && ev.ok() {
							net += map[string]int{"AttachPolicy": 1, "DetachPolicy": -1}[ev.op]
						}
					}
					if b, a := bit(before.Attached[target][p]), bit(after.Attached[target][p]); b+net != a {
						t.Errorf("round %d: %s on %s: attached %d before, %+d by the successful calls, %d after", n, p, target, b, net, a)
					}
				}
			}
			for _, target := range targets {
				perType := map[types.PolicyType]int{}
				for p := range after.Attached[target] {
					perType[after.Policies[p].Type]++
				}
				for typ, k := range perType {
					if k > 2 {
						t.Errorf("round %d: %s has %d policies of type %s attached, over the limit of 2", n, target, k, typ)
					}
				}
			}
			before = after
		}
	})
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestConcurrentTags tags and untags the same keys of the same resources
// from many clients, under a small tag limit. Each key must end with the
// value of a successful call that no other successful call on it followed
// for sure, and no resource may hold more tags than the limit.
func TestConcurrentTags(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e *env) {
		r := newRace(t, e)
		rootID := raceOrg(t, e)
		ctx := context.Background()
		e.setQuotas(t, `{"tagsPerResource":3}`)
		resources := []string{rootID, raceOU(t, e, rootID, "o1"), raceAccounts(t, e, "tag", 1)[0], racePolicy(t, e, "s1", types.PolicyTypeServiceControlPolicy)}
		keys := []string{"k0", "k1", "k2", "k3", "k4"}
		r.allow(orgapi.Service, "TagResource", "ConstraintViolationException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "UntagResource", "ConcurrentModificationException")

		before := r.check()
		for n := range raceRounds {
			log := r.round(n, func(c int, rng *rand.Rand) {
				res, key := pick(rng, resources), pick(rng, keys)
				if rng.IntN(3) > 0 {
					value := fmt.Sprintf("r%dc%dv%d", n, c, rng.IntN(1000))
					r.do(c, "TagResource", res+" "+key, value, func() (string, error) {
						_, err := r.orgs(mgmtAccount).TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(res), Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}})
						return "", err
					})
				} else {
					r.do(c, "UntagResource", res+" "+key, "", func() (string, error) {
						_, err := r.orgs(mgmtAccount).UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(res), TagKeys: []string{key}})
						return "", err
					})
				}
			})
			after := r.check()
			t.Logf("round %d: %s", n, summary(log))
			for _, res := range resources {
				if len(after.Tags[res]) > 3 {
					t.Errorf("round %d: %s has %d tags, over the limit of 3: %v", n, res, len(after.Tags[res]), after.Tags[res])
				}
				for _, key := range keys {
					var writes []event
					for _, ev := range log {
						if ev.key == res+" "+key && ev.ok() {
							writes = append(writes, ev)
						}
					}
					got, present := after.Tags[res][key]
					if !present {
						got = "" // an untag's value
					}
					initial, had := before.Tags[res][key]
					if !had {
						initial = ""
					}
					if last := lastWrites(writes, initial); !slices.Contains(last, got) {
						t.Errorf("round %d: %s ends as %q on %s; the successful calls allow only %q", n, key, got, res, last)
					}
				}
			}
			for _, ev := range log {
				if ev.code == "ConstraintViolationException" && ev.result != "MAX_TAG_LIMIT_EXCEEDED" {
					t.Errorf("%s(%s): ConstraintViolationException %s, want MAX_TAG_LIMIT_EXCEEDED", ev.op, ev.key, ev.result)
				}
			}
			before = after
		}
	})
}

// lastWrites are the values a register may hold after the writes: the
// value of each write that no other write started after it had ended
// (only those can be last in a serial order that respects real time), or
// the initial value when there was none.
func lastWrites(writes []event, initial string) []string {
	if len(writes) == 0 {
		return []string{initial}
	}
	var out []string
	for _, w := range writes {
		last := true
		for _, o := range writes {
			if o.start.After(w.end) {
				last = false
				break
			}
		}
		if last {
			out = append(out, w.arg)
		}
	}
	return out
}

// TestConcurrentAutomation associates and disassociates the same members
// from many clients while one member tries to opt out, and updates and
// tags one rule from many clients that all read its revision first.
// Each member's successful associations and disassociations must
// alternate in some order, and each revision of the rule must have been
// claimed by exactly one successful write.
func TestConcurrentAutomation(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e *env) {
		r := newRace(t, e)
		raceOrg(t, e)
		ctx := context.Background()
		if _, err := e.orgs(mgmtAccount).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)}); err != nil {
			t.Fatal(err)
		}
		members := raceAccounts(t, e, "aco", 3)
		for _, a := range []string{mgmtAccount, members[2]} {
			if resp, err := r.aco.Call(ctx, a, "UpdateEnrollmentConfiguration", map[string]any{"status": "Active"}); err != nil || resp.Err() != nil {
				t.Fatalf("opt in %s: %v %v", a, resp, err)
			}
		}
		created, err := r.aco.Call(ctx, mgmtAccount, "CreateAutomationRule", ruleIn())
		if err != nil || created.Err() != nil {
			t.Fatalf("CreateAutomationRule: %v %v", created, err)
		}
		arn := created.Str("ruleArn")
		r.allow(acoapi.Service, "AssociateAccounts", "ThrottlingException")
		r.allow(acoapi.Service, "DisassociateAccounts", "ThrottlingException")
		r.allow(acoapi.Service, "UpdateEnrollmentConfiguration", "AccessDeniedException", "ThrottlingException")
		r.allow(acoapi.Service, "UpdateAutomationRule", "InvalidParameterValueException", "ThrottlingException")
		r.allow(acoapi.Service, "TagResource", "InvalidParameterValueException", "ThrottlingException")

		revision := func() int64 {
			resp, err := r.aco.Call(ctx, mgmtAccount, "GetAutomationRule", map[string]any{"ruleArn": arn})
			if err != nil || resp.Err() != nil {
				t.Fatalf("GetAutomationRule: %v %v", resp, err)
			}
			return resp.Num("ruleRevision")
		}
		var unique atomic.Int64
		before, rev := r.check(), revision()
		for n := range raceRounds {
			log := r.round(n, func(c int, rng *rand.Rand) {
				m := pick(rng, members)
				switch k := rng.IntN(20); {
				case k < 7:
					r.acoDo(c, "AssociateAccounts", m, "", mgmtAccount, map[string]any{"accountIds": []string{m}}, doneOrRefused(m))
				case k < 14:
					r.acoDo(c, "DisassociateAccounts", m, "", mgmtAccount, map[string]any{"accountIds": []string{m}}, doneOrRefused(m))
				case k < 15:
					r.acoDo(c, "UpdateEnrollmentConfiguration", members[2], "", members[2], map[string]any{"status": "Inactive"}, nil)
				default:
					resp, err := r.aco.Call(ctx, mgmtAccount, "GetAutomationRule", map[string]any{"ruleArn": arn})
					if err != nil || resp.Err() != nil {
						t.Errorf("GetAutomationRule: %v %v", resp, err)
						return
					}
					seen := resp.Num("ruleRevision")
					// Unique, so that every successful write changes the rule.
					value := fmt.Sprintf("r%d c%d n%d", n, c, unique.Add(1))
					if k%2 == 0 {
						r.acoDo(c, "UpdateAutomationRule", arn, strconv.FormatInt(seen, 10), mgmtAccount,
							map[string]any{"ruleArn": arn, "ruleRevision": seen, "description": value}, nil)
					} else {
						r.acoDo(c, "TagResource", arn, strconv.FormatInt(seen, 10), mgmtAccount,
							map[string]any{"resourceArn": arn, "ruleRevision": seen, "tags": tagList("k", strings.ReplaceAll(value, " ", "-"))}, nil)
					}
				}
			})
			after := r.check()
			t.Logf("round %d: %s", n, summary(log))
			for _, m := range members {
				net := 0
				for _, ev := range log {
					if ev.key == m && ev.result == "done" {
						net += map[string]int{"AssociateAccounts": 1, "DisassociateAccounts": -1}[ev.op]
					}
				}
				if b, a := bit(before.Automation.Associated[m]), bit(after.Automation.Associated[m]); b+net != a {
					t.Errorf("round %d: %s: associated %d before, %+d by the successful calls, %d after", n, m, b, net, a)
				}
			}
			var claimed []int64
			for _, ev := range log {
				if (ev.op == "UpdateAutomationRule" || ev.op == "TagResource") && ev.ok() {
					seen, _ := strconv.ParseInt(ev.arg, 10, 64)
					claimed = append(claimed, seen)
				}
			}
			slices.Sort(claimed)
			next := revision()
			var want []int64
			for v := rev; v < next; v++ {
				want = append(want, v)
			}
			if !slices.Equal(claimed, want) {
				t.Errorf("round %d: the rule went from revision %d to %d, but the successful writes were made at revisions %v", n, rev, next, claimed)
			}
			before, rev = after, next
		}
	})
}

// doneOrRefused reads an AssociateAccounts or DisassociateAccounts answer
// for one account: "done", or "refused: " and the reason.
func doneOrRefused(account string) func(testkit.Response) string {
	return func(resp testkit.Response) string {
		if slices.Equal(resp.Strings("accountIds"), []string{account}) {
			return "done"
		}
		return "refused: " + strings.Join(resp.Strings("errors"), "; ")
	}
}

func TestChains(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to string
		moves    [][2]string
		want     bool
	}{
		{"r", "r", nil, true},
		{"r", "a", nil, false},
		{"r", "a", [][2]string{{"r", "a"}}, true},
		{"r", "r", [][2]string{{"r", "a"}, {"a", "r"}}, true},
		{"r", "a", [][2]string{{"a", "b"}, {"r", "a"}, {"b", "a"}}, true},
		{"r", "b", [][2]string{{"r", "a"}, {"r", "b"}}, false},
		{"r", "r", [][2]string{{"r", "a"}}, false},
	} {
		if got := chains(tc.from, tc.to, tc.moves); got != tc.want {
			t.Errorf("chains(%s, %s, %v) = %v, want %v", tc.from, tc.to, tc.moves, got, tc.want)
		}
	}
}

// TestConcurrentMembership takes the same accounts out of the
// organization and invites them back while other clients tag them, attach
// policies to them, move them and associate them in Automation. Whatever
// wins, a departed account must be gone everywhere (no parent, tags,
// attachments or association left behind) and a member must be whole.
func TestConcurrentMembership(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e *env) {
		r := newRace(t, e)
		rootID := raceOrg(t, e)
		ctx := context.Background()
		if _, err := e.orgs(mgmtAccount).EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeTagPolicy}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.orgs(mgmtAccount).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)}); err != nil {
			t.Fatal(err)
		}
		if resp, err := r.aco.Call(ctx, mgmtAccount, "UpdateEnrollmentConfiguration", map[string]any{"status": "Active"}); err != nil || resp.Err() != nil {
			t.Fatalf("opt in: %v %v", resp, err)
		}
		o1 := raceOU(t, e, rootID, "o1")
		policy := racePolicy(t, e, "t1", types.PolicyTypeTagPolicy)
		accounts := raceAccounts(t, e, "member", 4)
		for _, a := range accounts {
			e.makeStandalone(t, a) // so that it may leave
		}
		r.allow(orgapi.Service, "RemoveAccountFromOrganization", "AccountNotFoundException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "InviteAccountToOrganization", "DuplicateHandshakeException", "HandshakeConstraintViolationException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "AcceptHandshake", "HandshakeConstraintViolationException", "InvalidHandshakeTransitionException", "HandshakeAlreadyInStateException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "TagResource", "TargetNotFoundException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "AttachPolicy", "TargetNotFoundException", "DuplicatePolicyAttachmentException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "DetachPolicy", "TargetNotFoundException", "PolicyNotAttachedException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "MoveAccount", "AccountNotFoundException", "DuplicateAccountException", "ConcurrentModificationException")
		r.allow(acoapi.Service, "AssociateAccounts", "ThrottlingException")
		r.allow(acoapi.Service, "DisassociateAccounts", "ThrottlingException")

		r.check()
		for n := range raceRounds {
			log := r.round(n, func(c int, rng *rand.Rand) {
				a := pick(rng, accounts)
				mgmt := r.orgs(mgmtAccount)
				switch rng.IntN(9) {
				case 0:
					r.do(c, "RemoveAccountFromOrganization", a, "", func() (string, error) {
						_, err := mgmt.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(a)})
						return "", err
					})
				case 1:
					var id string
					ev := r.do(c, "InviteAccountToOrganization", a, "", func() (string, error) {
						out, err := mgmt.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String(a), Type: types.HandshakePartyTypeAccount}})
						if err == nil {
							id = aws.ToString(out.Handshake.Id)
						}
						return "", err
					})
					if ev.ok() {
						r.do(c, "AcceptHandshake", a, id, func() (string, error) {
							_, err := r.orgs(a).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(id)})
							return "", err
						})
					}
				case 2:
					r.do(c, "TagResource", a, "", func() (string, error) {
						_, err := mgmt.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(a), Tags: []types.Tag{{Key: aws.String(fmt.Sprint("k", rng.IntN(3))), Value: aws.String("v")}}})
						return "", err
					})
				case 3:
					r.do(c, "AttachPolicy", a, "", func() (string, error) {
						_, err := mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(policy), TargetId: aws.String(a)})
						return "", err
					})
				case 4:
					r.do(c, "DetachPolicy", a, "", func() (string, error) {
						_, err := mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(policy), TargetId: aws.String(a)})
						return "", err
					})
				case 5:
					src, dst := rootID, o1
					if rng.IntN(2) == 0 {
						src, dst = dst, src
					}
					r.do(c, "MoveAccount", a, src+" "+dst, func() (string, error) {
						_, err := mgmt.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a), SourceParentId: aws.String(src), DestinationParentId: aws.String(dst)})
						return "", err
					})
				case 6, 7:
					r.acoDo(c, "AssociateAccounts", a, "", mgmtAccount, map[string]any{"accountIds": []string{a}}, doneOrRefused(a))
				default:
					r.acoDo(c, "DisassociateAccounts", a, "", mgmtAccount, map[string]any{"accountIds": []string{a}}, doneOrRefused(a))
				}
			})
			gone := r.outside(mgmtAccount, accounts)
			r.check(gone...)
			t.Logf("round %d: %s; departed at the end: %v", n, summary(log), gone)
		}
	})
}

// TestConcurrentPolicyTypes enables and disables tag policies while other
// clients attach, detach and create them. Whenever the type ends disabled
// no tag policy may stay attached anywhere.
func TestConcurrentPolicyTypes(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e *env) {
		r := newRace(t, e)
		rootID := raceOrg(t, e)
		ctx := context.Background()
		mgmt := r.orgs(mgmtAccount)
		if _, err := mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeTagPolicy}); err != nil {
			t.Fatal(err)
		}
		targets := []string{rootID, raceOU(t, e, rootID, "o1"), raceAccounts(t, e, "types", 1)[0]}
		policies := []string{racePolicy(t, e, "t1", types.PolicyTypeTagPolicy), racePolicy(t, e, "t2", types.PolicyTypeTagPolicy)}
		r.allow(orgapi.Service, "EnablePolicyType", "PolicyTypeAlreadyEnabledException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "DisablePolicyType", "PolicyTypeNotEnabledException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "AttachPolicy", "PolicyTypeNotEnabledException", "DuplicatePolicyAttachmentException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "DetachPolicy", "PolicyNotAttachedException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "CreatePolicy", "ConcurrentModificationException")

		var created atomic.Int64
		r.check()
		for n := range raceRounds {
			log := r.round(n, func(c int, rng *rand.Rand) {
				p, target := pick(rng, policies), pick(rng, targets)
				switch k := rng.IntN(10); {
				case k == 0:
					r.do(c, "EnablePolicyType", "TAG_POLICY", "", func() (string, error) {
						_, err := mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeTagPolicy})
						return "", err
					})
				case k == 1:
					r.do(c, "DisablePolicyType", "TAG_POLICY", "", func() (string, error) {
						_, err := mgmt.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeTagPolicy})
						return "", err
					})
				case k == 2:
					r.do(c, "CreatePolicy", "", "", func() (string, error) {
						_, err := mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(fmt.Sprint("extra", created.Add(1))), Description: aws.String("d"),
							Type: types.PolicyTypeTagPolicy, Content: aws.String(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`)})
						return "", err
					})
				case k < 7:
					r.do(c, "AttachPolicy", p+" "+target, "", func() (string, error) {
						_, err := mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(p), TargetId: aws.String(target)})
						return "", err
					})
				default:
					r.do(c, "DetachPolicy", p+" "+target, "", func() (string, error) {
						_, err := mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(p), TargetId: aws.String(target)})
						return "", err
					})
				}
			})
			after := r.check()
			t.Logf("round %d: %s", n, summary(log))
			if !slices.Contains(after.PolicyTypes, types.PolicyTypeTagPolicy) {
				for _, p := range policies {
					out, err := mgmt.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(p)})
					if err != nil {
						t.Fatal(err)
					}
					if len(out.Targets) > 0 {
						t.Errorf("round %d: tag policies are disabled, yet %s is attached to %d targets", n, p, len(out.Targets))
					}
				}
			}
		}
	})
}

// TestConcurrentTransfers has two organizations invite the same accounts
// again and again while the accounts accept, leave or are removed, and
// each organization tags them, attaches its policy to them and associates
// them in Automation. An account that moves between organizations goes
// directly: whatever the race, it is in at most one organization and
// carries nothing of the one it left.
func TestConcurrentTransfers(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e *env) {
		r := newRace(t, e)
		ctx := context.Background()
		mgmts := []string{mgmtAccount, "222200001111"}
		policies := make([]string, len(mgmts))
		for i, mgmt := range mgmts {
			c := e.orgs(mgmt)
			if _, err := c.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
				t.Fatal(err)
			}
			roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: roots.Roots[0].Id, PolicyType: types.PolicyTypeTagPolicy}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)}); err != nil {
				t.Fatal(err)
			}
			if resp, err := r.aco.Call(ctx, mgmt, "UpdateEnrollmentConfiguration", map[string]any{"status": "Active"}); err != nil || resp.Err() != nil {
				t.Fatalf("opt in: %v %v", resp, err)
			}
			policies[i] = aws.ToString(createPolicy(t, e, mgmt, fmt.Sprint("t", i), types.PolicyTypeTagPolicy,
				`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`).Id)
		}
		e.setQuotas(t, `{"invitationsPerDay":1000,"accountsPerOrganization":100}`)
		var accounts []string
		for i := range 3 {
			id, _, _ := e.registerAccount(t, fmt.Sprintf(`{"email":"mover%d@example.com"}`, i))
			accounts = append(accounts, id)
		}
		r.allow(orgapi.Service, "InviteAccountToOrganization", "DuplicateHandshakeException", "HandshakeConstraintViolationException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "AcceptHandshake", "HandshakeConstraintViolationException", "InvalidHandshakeTransitionException", "HandshakeAlreadyInStateException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "LeaveOrganization", "AWSOrganizationsNotInUseException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "RemoveAccountFromOrganization", "AccountNotFoundException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "TagResource", "TargetNotFoundException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "AttachPolicy", "TargetNotFoundException", "DuplicatePolicyAttachmentException", "ConcurrentModificationException")
		r.allow(acoapi.Service, "AssociateAccounts", "ThrottlingException")

		for n := range raceRounds {
			log := r.round(n, func(c int, rng *rand.Rand) {
				a, o := pick(rng, accounts), rng.IntN(len(mgmts))
				mgmt := r.orgs(mgmts[o])
				switch rng.IntN(10) {
				case 0, 1, 2:
					var id string
					ev := r.do(c, "InviteAccountToOrganization", a, mgmts[o], func() (string, error) {
						out, err := mgmt.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String(a), Type: types.HandshakePartyTypeAccount}})
						if err == nil {
							id = aws.ToString(out.Handshake.Id)
						}
						return "", err
					})
					if ev.ok() {
						r.do(c, "AcceptHandshake", a, mgmts[o], func() (string, error) {
							_, err := r.orgs(a).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(id)})
							return "", err
						})
					}
				case 3:
					r.do(c, "LeaveOrganization", a, "", func() (string, error) {
						_, err := r.orgs(a).LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
						return "", err
					})
				case 4:
					r.do(c, "RemoveAccountFromOrganization", a, mgmts[o], func() (string, error) {
						_, err := mgmt.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(a)})
						return "", err
					})
				case 5, 6:
					r.do(c, "TagResource", a, mgmts[o], func() (string, error) {
						// Each organization tags with keys of its own.
						_, err := mgmt.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(a),
							Tags: []types.Tag{{Key: aws.String(fmt.Sprintf("o%d-k%d", o, rng.IntN(3))), Value: aws.String("v")}}})
						return "", err
					})
				case 7:
					r.do(c, "AttachPolicy", a, mgmts[o], func() (string, error) {
						_, err := mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(policies[o]), TargetId: aws.String(a)})
						return "", err
					})
				default:
					r.acoDo(c, "AssociateAccounts", a, mgmts[o], mgmts[o], map[string]any{"accountIds": []string{a}}, doneOrRefused(a))
				}
			})
			t.Logf("round %d: %s", n, summary(log))
			in := map[string]int{}
			for o, mgmt := range mgmts {
				snap := r.checkOrg(mgmt, r.outside(mgmt, accounts)...)
				for _, a := range accounts {
					if _, member := snap.Accounts[a]; !member {
						continue
					}
					if prev, twice := in[a]; twice {
						t.Errorf("round %d: %s is a member of the organizations of both %s and %s", n, a, mgmts[prev], mgmt)
					}
					in[a] = o
					for k := range snap.Tags[a] {
						if !strings.HasPrefix(k, fmt.Sprintf("o%d-", o)) {
							t.Errorf("round %d: %s, a member of %s's organization, carries the tag %q of the other one", n, a, mgmt, k)
						}
					}
				}
			}
		}
	})
}

// TestConcurrentQuotas creates accounts, sends and accepts invitations,
// and creates OUs and policies from many clients at once, each with a
// name of its own, near the organization's limits: whatever the race,
// no limit may be overrun.
func TestConcurrentQuotas(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e *env) {
		r := newRace(t, e)
		rootID := raceOrg(t, e)
		ctx := context.Background()
		if _, err := e.orgs(mgmtAccount).EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeTagPolicy}); err != nil {
			t.Fatal(err)
		}
		const maxAccounts, maxOUs, maxPolicies = 6, 5, 3
		e.setQuotas(t, fmt.Sprintf(`{"accountsPerOrganization":%d,"ousPerOrganization":%d,"policiesPerOrganization":{"TAG_POLICY":%d}}`, maxAccounts, maxOUs, maxPolicies))
		var outsiders []string
		for i := range 6 {
			id, _, _ := e.registerAccount(t, fmt.Sprintf(`{"email":"joiner%d@example.com"}`, i))
			outsiders = append(outsiders, id)
		}
		r.allow(orgapi.Service, "CreateAccount", "ConstraintViolationException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "InviteAccountToOrganization", "DuplicateHandshakeException", "HandshakeConstraintViolationException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "AcceptHandshake", "HandshakeConstraintViolationException", "InvalidHandshakeTransitionException", "HandshakeAlreadyInStateException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "CreateOrganizationalUnit", "ConstraintViolationException", "ConcurrentModificationException")
		r.allow(orgapi.Service, "CreatePolicy", "ConstraintViolationException", "ConcurrentModificationException")

		var unique atomic.Int64
		mgmt := r.orgs(mgmtAccount)
		log := r.round(0, func(c int, rng *rand.Rand) {
			name := fmt.Sprint("q", unique.Add(1))
			switch rng.IntN(5) {
			case 0:
				r.do(c, "CreateAccount", name, "", func() (string, error) {
					_, err := mgmt.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
					return "", err
				})
			case 1:
				a := pick(rng, outsiders)
				var id string
				ev := r.do(c, "InviteAccountToOrganization", a, "", func() (string, error) {
					out, err := mgmt.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String(a), Type: types.HandshakePartyTypeAccount}})
					if err == nil {
						id = aws.ToString(out.Handshake.Id)
					}
					return "", err
				})
				if ev.ok() && rng.IntN(2) == 0 { // some stay open, holding their place
					r.do(c, "AcceptHandshake", a, "", func() (string, error) {
						_, err := r.orgs(a).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(id)})
						return "", err
					})
				}
			case 2, 3:
				r.do(c, "CreateOrganizationalUnit", name, "", func() (string, error) {
					_, err := mgmt.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String(name)})
					return "", err
				})
			default:
				r.do(c, "CreatePolicy", name, "", func() (string, error) {
					_, err := mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(name), Description: aws.String("d"), Type: types.PolicyTypeTagPolicy,
						Content: aws.String(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`)})
					return "", err
				})
			}
		})
		e.settle(t) // the accepted creations finish, or fail for the limit
		t.Logf("%s", summary(log))
		snap := r.check(r.outside(mgmtAccount, outsiders)...)
		open := 0
		for pg := organizations.NewListHandshakesForOrganizationPaginator(mgmt, &organizations.ListHandshakesForOrganizationInput{}); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range out.Handshakes {
				if h.State == types.HandshakeStateOpen || h.State == types.HandshakeStateRequested {
					open++
				}
			}
		}
		if len(snap.Accounts)+open > maxAccounts {
			t.Errorf("%d members and %d open invitations, over the limit of %d accounts", len(snap.Accounts), open, maxAccounts)
		}
		if len(snap.OUs) > maxOUs {
			t.Errorf("%d OUs, over the limit of %d", len(snap.OUs), maxOUs)
		}
		customer := 0
		for _, p := range snap.Policies {
			if p.Type == types.PolicyTypeTagPolicy && !p.AwsManaged {
				customer++
			}
		}
		if customer > maxPolicies {
			t.Errorf("%d tag policies, over the limit of %d", customer, maxPolicies)
		}
		for _, ev := range log {
			want := map[string][]string{
				"CreateOrganizationalUnit": {"OU_NUMBER_LIMIT_EXCEEDED"},
				"CreatePolicy":             {"POLICY_NUMBER_LIMIT_EXCEEDED"},
				// Creations in progress have a limit of their own.
				"CreateAccount": {"ACCOUNT_NUMBER_LIMIT_EXCEEDED", "ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED"},
			}[ev.op]
			if ev.code == "ConstraintViolationException" && !slices.Contains(want, ev.result) {
				t.Errorf("%s(%s): ConstraintViolationException %s, want one of %v", ev.op, ev.key, ev.result, want)
			}
		}
	})
}
