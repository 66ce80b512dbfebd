package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/jackc/pgx/v5"

	"github.com/orgstack/orgstack/internal/store/testengine"
	"github.com/orgstack/orgstack/internal/testkit"
)

// roundRobin sends each request to the next of several orgstack
// instances, as a load balancer in front of them would.
type roundRobin struct {
	hosts []string // host:port
	next  atomic.Uint64
}

func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Host = rr.hosts[rr.next.Add(1)%uint64(len(rr.hosts))]
	r.Host = ""
	return http.DefaultTransport.RoundTrip(r)
}

// TestThreeInstancesOnPostgreSQL runs three orgstack processes on one
// PostgreSQL database and drives them as one service: concurrent account
// moves keep every account in exactly one parent; two instances creating
// the same OU at once give one OU and DuplicateOrganizationalUnitException;
// one client token sent to every instance does the work once; a scheduled
// rule fires exactly once per occurrence while the clock moves through one
// instance; and when an instance is killed mid-load, no acknowledged write
// is lost.
func TestThreeInstancesOnPostgreSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	u := testengine.PostgresURL(t)
	storeURL := testengine.SchemaURL(t, u, testengine.Schema(t, u))
	var inst []*child
	rr := &roundRobin{}
	for range 3 {
		c := startChild(t, "--store", storeURL, "--clock", "virtual",
			"--quota", "accountsPerOrganization=50", "--quota", "concurrentAccountCreations=20")
		inst = append(inst, c)
		rr.hosts = append(rr.hosts, c.url[len("http://"):])
	}
	lb := &http.Client{Transport: rr, Timeout: 30 * time.Second}
	ctx := context.Background()
	const mgmt = "100000000001"
	orgs := testkit.Orgs(inst[0].url, mgmt, lb) // any endpoint: rr picks the instance
	admin := func(c *child, method, path string, in any) map[string]any {
		t.Helper()
		m, err := testkit.Admin(ctx, nil, c.url, method, path, in)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	// An organization with 12 created accounts: the creations finish in
	// the background, on whichever instance, once time moves.
	if _, err := orgs.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	roots, err := orgs.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	for i := range 12 {
		if _, err := orgs.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%d", i)), Email: aws.String(fmt.Sprintf("member-%d@example.com", i)),
		}); err != nil {
			t.Fatal(err)
		}
	}
	admin(inst[1], "POST", "/_orgstack/clock", map[string]string{"advance": "1h"})
	accts, err := orgs.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, a := range accts.Accounts {
		if aws.ToString(a.Id) != mgmt {
			members = append(members, aws.ToString(a.Id))
		}
	}
	if len(members) != 12 {
		t.Fatalf("%d members after 12 creations and an hour", len(members))
	}
	parents := []string{root}
	for i := range 4 {
		ou, err := orgs.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String(fmt.Sprintf("ou-%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		parents = append(parents, aws.ToString(ou.OrganizationalUnit.Id))
	}

	t.Run("concurrent moves", func(t *testing.T) {
		// net[account][parent] counts acknowledged moves in minus out: a
		// serializable history leaves +1 at the final parent and -1 at
		// the root (0 everywhere when the account ends in the root).
		var mu sync.Mutex
		net := map[string]map[string]int{}
		var moved, lost atomic.Int64
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 9))
				for range 25 {
					// Few accounts, many movers: the same account is often
					// moved from two instances at once.
					a := members[r.IntN(4)]
					ps, err := orgs.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(a)})
					if err != nil {
						t.Errorf("ListParents: %v", err)
						return
					}
					src, dst := aws.ToString(ps.Parents[0].Id), parents[r.IntN(len(parents))]
					_, err = orgs.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a), SourceParentId: aws.String(src), DestinationParentId: aws.String(dst)})
					switch code := testkit.ErrorCode(err); {
					case err == nil:
						moved.Add(1)
						mu.Lock()
						if net[a] == nil {
							net[a] = map[string]int{}
						}
						net[a][src]--
						net[a][dst]++
						mu.Unlock()
					case code == "AccountNotFoundException", // another mover got there first
						code == "DuplicateAccountException", // already in dst
						code == "ConcurrentModificationException":
						lost.Add(1)
					default:
						t.Errorf("MoveAccount %s %s→%s: %v", a, src, dst, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		snap, problems := testkit.Check(ctx, testkit.Target{Endpoint: inst[2].url, Management: mgmt})
		for _, p := range problems {
			t.Error(p)
		}
		for a, flows := range net {
			final := snap.Parents[a]
			for p, n := range flows {
				want := 0
				if p == final {
					want++
				}
				if p == root {
					want--
				}
				if n != want {
					t.Errorf("account %s: acknowledged moves in minus out of %s = %d, want %d (ends in %s)", a, p, n, want, final)
				}
			}
		}
		t.Logf("%d moves acknowledged, %d lost a race", moved.Load(), lost.Load())
		if moved.Load() == 0 {
			t.Error("no move succeeded")
		}
	})

	t.Run("same OU from two instances", func(t *testing.T) {
		for i := range 10 {
			name := fmt.Sprintf("race-%d", i)
			errs := make([]error, 2)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for j := range 2 {
				c := testkit.Orgs(inst[(i+j)%3].url, mgmt, nil)
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[j] = c.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String(name)})
				}()
			}
			close(start)
			wg.Wait()
			won, dup := 0, 0
			for _, err := range errs {
				switch testkit.ErrorCode(err) {
				case "":
					won++
				case "DuplicateOrganizationalUnitException":
					dup++
				default:
					t.Errorf("%s: %v", name, err)
				}
			}
			if won != 1 || dup != 1 {
				t.Errorf("%s from two instances: %d created, %d DuplicateOrganizationalUnitException; want 1 and 1", name, won, dup)
			}
		}
		snap, problems := testkit.Check(ctx, testkit.Target{Endpoint: inst[0].url, Management: mgmt})
		for _, p := range problems {
			t.Error(p) // includes two OUs of one parent with one name
		}
		if len(snap.OUs) != 4+10 {
			t.Errorf("%d OUs, want 14", len(snap.OUs))
		}
	})

	// A standalone account with Automation enabled and one volume the
	// weekly rule upgrades.
	const owner = "200000000002"
	volume := func(gib int) {
		admin(inst[0], "POST", "/_orgstack/inventory/ebs-volumes", map[string]any{"volumes": []any{
			map[string]any{"accountId": owner, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": gib, "attached": true},
		}})
	}
	aco := func(c *child) testkit.Automation { return testkit.Automation{Endpoint: c.url} }
	call := func(c *child, op string, in any) testkit.Response {
		t.Helper()
		for attempt := 0; ; attempt++ {
			r, err := aco(c).Call(ctx, owner, op, in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code() == "ThrottlingException" && attempt < 5 {
				continue // the store gave up on concurrent writers; retry as SDKs do
			}
			if !r.OK() {
				t.Fatalf("%s: %d %v", op, r.Status, r.Body)
			}
			return r
		}
	}
	call(inst[0], "UpdateEnrollmentConfiguration", map[string]any{"status": "Active"})
	volume(10)

	t.Run("one client token on every instance", func(t *testing.T) {
		rule := map[string]any{
			"name": "weekly", "ruleType": "AccountRule", "status": "Active", "clientToken": "create-weekly",
			"recommendedActionTypes": []any{"UpgradeEbsVolumeType"},
			"criteria":               map[string]any{"ebsVolumeSizeInGib": []any{map[string]any{"comparison": "NumericLessThan", "values": []any{15}}}},
			"schedule":               map[string]any{"scheduleExpression": "0 6 * * 1", "executionWindowInMinutes": 60},
		}
		arns := make([]string, 3)
		var wg sync.WaitGroup
		for i, c := range inst {
			wg.Add(1)
			go func() { defer wg.Done(); arns[i] = call(c, "CreateAutomationRule", rule).Str("ruleArn") }()
		}
		wg.Wait()
		if arns[0] == "" || arns[0] != arns[1] || arns[1] != arns[2] {
			t.Errorf("the instances answered rule ARNs %q", arns)
		}
		if n := len(call(inst[1], "ListAutomationRules", nil).List("automationRules")); n != 1 {
			t.Errorf("%d rules after one token sent to three instances, want 1", n)
		}
	})

	t.Run("scheduled rule fires once", func(t *testing.T) {
		// Reads through the balancer keep every instance refreshing its
		// clock, so all three runners wake at each move of time and race
		// for the rule's run.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					testkit.Automation{Endpoint: inst[0].url, HTTP: lb}.Call(ctx, owner, "ListAutomationEvents", nil)
				}
			}()
		}
		events := func() int { return len(call(inst[2], "ListAutomationEvents", nil).List("automationEvents")) }
		for week := 1; week <= 2; week++ {
			if week == 2 {
				volume(12) // the first week's volume is upgraded; give the rule another
			}
			for range 7 {
				admin(inst[0], "POST", "/_orgstack/clock", map[string]string{"advance": "24h"})
			}
			// Runners of the other instances may still be finishing a step
			// they claimed; their poll settles within a second.
			deadline := time.Now().Add(10 * time.Second)
			for events() < week && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(1500 * time.Millisecond) // more than a poll: a second run would show
			if n := events(); n != week {
				t.Errorf("after %d weeks: %d automation events, want %d", week, n, week)
			}
		}
		close(stop)
		wg.Wait()
	})

	t.Run("kill one instance mid-load", func(t *testing.T) {
		type ack struct{ id, name string }
		var mu sync.Mutex
		var acked []ack
		var refused atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("load-%d-%d", w, i)
					out, err := orgs.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String(name)})
					switch {
					case err == nil:
						mu.Lock()
						acked = append(acked, ack{aws.ToString(out.OrganizationalUnit.Id), name})
						mu.Unlock()
					case testkit.NoResponse(err):
						refused.Add(1) // the killed instance: maybe applied, never acknowledged
					default:
						t.Errorf("CreateOrganizationalUnit %s: %v", name, err)
						return
					}
				}
			}()
		}
		// Kill once the load runs, and stop once it ran as long again on
		// the survivors: counted in acknowledged writes, not time, so a
		// busy machine cannot leave either side empty.
		count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
		waitFor := func(n int) {
			for deadline := time.Now().Add(30 * time.Second); count() < n && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitFor(40)
		before := count()
		inst[2].signal(t, syscall.SIGKILL)
		waitFor(before + 40)
		close(stop)
		wg.Wait()
		if before == 0 || len(acked) == before {
			t.Fatalf("%d writes acknowledged before the kill, %d in all: the load did not run on both sides of it", before, len(acked))
		}
		if refused.Load() == 0 {
			t.Error("no request met the killed instance")
		}
		for _, c := range inst[:2] {
			seen := map[string]string{}
			p := organizations.NewListOrganizationalUnitsForParentPaginator(testkit.Orgs(c.url, mgmt, nil), &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, ou := range page.OrganizationalUnits {
					seen[aws.ToString(ou.Id)] = aws.ToString(ou.Name)
				}
			}
			for _, a := range acked {
				if seen[a.id] != a.name {
					t.Errorf("%s: acknowledged OU %s (%s) is missing", c.url, a.id, a.name)
				}
			}
		}
		if _, problems := testkit.Check(ctx, testkit.Target{Endpoint: inst[1].url, Management: mgmt}); len(problems) > 0 {
			t.Errorf("invariants after the kill: %v", problems)
		}
		t.Logf("%d writes acknowledged (%d before the kill), %d without an answer", len(acked), before, refused.Load())
	})
}

// runOnce runs orgstack with args in a child process until it exits and
// returns its exit code and what it wrote to stderr.
func runOnce(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ORGSTACK_TEST_CHILD=1", "ORGSTACK_TEST_ARGS="+strings.Join(args, " "))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// TestStartRefusesADatabaseItCannotUse: serve and migrate stop at once,
// saying why, when PostgreSQL does not answer or holds a schema newer than
// the binary; the password never shows.
func TestStartRefusesADatabaseItCannotUse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	unreachable := "postgres://orgstack:s3cret-pw@127.0.0.1:1/none?connect_timeout=2"
	for _, cmd := range []string{"serve", "migrate"} {
		code, stderr := runOnce(t, cmd, "--listen", "127.0.0.1:0", "--store", unreachable)
		if code != 1 || !strings.Contains(stderr, "cannot reach the database") || strings.Contains(stderr, "s3cret-pw") {
			t.Errorf("%s on an unreachable database: exit %d, stderr:\n%s", cmd, code, stderr)
		}
	}

	u := testengine.PostgresURL(t)
	schema := testengine.Schema(t, u)
	st := testengine.OpenSchema(t, u, schema) // migrates
	st.Close()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "UPDATE "+pgx.Identifier{schema, "orgstack_schema"}.Sanitize()+" SET version = 99"); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"serve", "migrate"} {
		code, stderr := runOnce(t, cmd, "--listen", "127.0.0.1:0", "--store", testengine.SchemaURL(t, u, schema))
		if code != 1 || !strings.Contains(stderr, "schema version 99") || !strings.Contains(stderr, "upgrade orgstack") {
			t.Errorf("%s on a newer schema: exit %d, stderr:\n%s", cmd, code, stderr)
		}
	}
}
