package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// operation is one thing a client of the mix does.
type operation struct {
	name string
	// title names the operation in reports, as the AWS API does.
	title string
	// automation says that the operation needs Compute Optimizer
	// Automation set up over the seeded volumes (--volumes).
	automation bool
	run        func(ctx context.Context, x *worker) error
}

// worker is what one client of the mix works with.
type worker struct {
	c  *clients
	st *state
	r  *rand.Rand
	// sample records a measurement besides the operation's own, such as
	// each page of a walk.
	sample func(name string, d time.Duration)
}

// state is the organization the mix works on.
type state struct {
	management string
	rootID     string
	ous        []string
	accounts   []string

	mu      sync.Mutex
	parents map[string]string // account -> parent, for MoveAccount
	moving  map[string]bool   // accounts a MoveAccount is under way for
	nextOU  int
}

// clone copies the state, for a run whose effects are not real.
func (st *state) clone() *state {
	st.mu.Lock()
	defer st.mu.Unlock()
	return &state{
		management: st.management, rootID: st.rootID, ous: st.ous, accounts: st.accounts,
		parents: maps.Clone(st.parents), moving: map[string]bool{}, nextOU: st.nextOU,
	}
}

var operations = map[string]operation{}

func register(op operation) { operations[op.name] = op }

func operationNames() []string {
	names := make([]string, 0, len(operations))
	for n := range operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// listAccountsPage is the page size of the ListAccounts walks: the most
// AWS allows.
const listAccountsPage = 20

// pageSample names the per-page measurement of a walk.
func pageSample(op string) string { return op + "/page" }

func init() {
	register(operation{name: "describe-organization", title: "DescribeOrganization", run: func(ctx context.Context, x *worker) error {
		_, err := x.c.Orgs().DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		return err
	}})
	register(operation{name: "describe-account", title: "DescribeAccount", run: func(ctx context.Context, x *worker) error {
		_, err := x.c.Orgs().DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(x.st.accounts[x.r.IntN(len(x.st.accounts))])})
		return err
	}})
	register(operation{name: "list-accounts", title: "ListAccounts (full walk)", run: func(ctx context.Context, x *worker) error {
		// Page by page by hand rather than with the SDK's paginator, so
		// that with several endpoints each page goes to the next one.
		in := &organizations.ListAccountsInput{MaxResults: aws.Int32(listAccountsPage)}
		seen := 0
		for pages := 0; ; pages++ {
			if pages > len(x.st.accounts)/listAccountsPage+10 {
				return fmt.Errorf("ListAccounts: no end after %d pages (%d accounts)", pages, seen)
			}
			t0 := time.Now()
			out, err := x.c.Orgs().ListAccounts(ctx, in)
			if err != nil {
				return err
			}
			x.sample(pageSample("list-accounts"), time.Since(t0))
			seen += len(out.Accounts)
			if out.NextToken == nil {
				if seen < len(x.st.accounts) {
					return fmt.Errorf("ListAccounts: %d accounts listed; the organization has at least %d", seen, len(x.st.accounts))
				}
				return nil
			}
			in.NextToken = out.NextToken
		}
	}})
	register(operation{name: "list-accounts-page", title: "ListAccounts (first page)", run: func(ctx context.Context, x *worker) error {
		_, err := x.c.Orgs().ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(listAccountsPage)})
		return err
	}})
	register(operation{name: "create-ou", title: "CreateOrganizationalUnit", run: func(ctx context.Context, x *worker) error {
		st := x.st
		st.mu.Lock()
		st.nextOU++
		name := fmt.Sprintf("load-%d-%d", time.Now().UnixNano(), st.nextOU)
		st.mu.Unlock()
		_, err := x.c.Orgs().CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{
			ParentId: aws.String(st.ous[x.r.IntN(len(st.ous))]), Name: aws.String(name)})
		return err
	}})
	register(operation{name: "tag-resource", title: "TagResource", run: func(ctx context.Context, x *worker) error {
		// Ten keys per account keep every account under the 50-tag limit.
		_, err := x.c.Orgs().TagResource(ctx, &organizations.TagResourceInput{
			ResourceId: aws.String(x.st.accounts[x.r.IntN(len(x.st.accounts))]),
			Tags:       []types.Tag{{Key: aws.String(fmt.Sprintf("load-%d", x.r.IntN(10))), Value: aws.String(fmt.Sprint(x.r.Int()))}},
		})
		return err
	}})
	register(operation{name: "move-account", title: "MoveAccount", run: func(ctx context.Context, x *worker) error {
		st := x.st
		acct, src, dest, ok := st.startMove(x.r)
		if !ok {
			return nil
		}
		c := x.c.Orgs()
		err := moveAccount(ctx, c, acct, src, dest)
		if err == nil {
			st.endMove(acct, dest)
			return nil
		}
		// Where is the account? A move whose answer the end of the last
		// run cut off may still have happened after the client had
		// asked: then this move named the wrong source, a fault of the
		// mix's bookkeeping, and goes again from the right one.
		now, lerr := parentOf(ctx, c, acct)
		if lerr != nil {
			st.endMove(acct, src)
			return err
		}
		if now != src && ctx.Err() == nil {
			if now == dest {
				st.endMove(acct, dest)
				return nil
			}
			err = moveAccount(ctx, c, acct, now, dest)
			if err == nil {
				st.endMove(acct, dest)
				return nil
			}
			if now, lerr = parentOf(ctx, c, acct); lerr != nil {
				now = src
			}
		}
		st.endMove(acct, now)
		return err
	}})
	register(operation{name: "list-recommended-actions", title: "ListRecommendedActions (page of 100)", automation: true, run: func(ctx context.Context, x *worker) error {
		var out struct {
			RecommendedActions []struct {
				RecommendedActionID string `json:"recommendedActionId"`
			} `json:"recommendedActions"`
			NextToken string `json:"nextToken"`
		}
		if err := x.c.ACO().call(ctx, "ListRecommendedActions", map[string]any{"maxResults": 100}, &out); err != nil {
			return err
		}
		if len(out.RecommendedActions) != 100 || out.NextToken == "" {
			return fmt.Errorf("ListRecommendedActions: a page of %d actions (next token %t); the fleet has more", len(out.RecommendedActions), out.NextToken != "")
		}
		return nil
	}})
}

func moveAccount(ctx context.Context, c *organizations.Client, acct, src, dest string) error {
	_, err := c.MoveAccount(ctx, &organizations.MoveAccountInput{
		AccountId: aws.String(acct), SourceParentId: aws.String(src), DestinationParentId: aws.String(dest)})
	return err
}

// parentOf asks where the account is, even after the run has ended.
func parentOf(ctx context.Context, c *organizations.Client, acct string) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(acct)})
	if err != nil {
		return "", err
	}
	if len(out.Parents) != 1 {
		return "", fmt.Errorf("ListParents %s: %d parents", acct, len(out.Parents))
	}
	return aws.ToString(out.Parents[0].Id), nil
}

// startMove picks an account no other client is moving and a new parent
// for it. Two clients moving one account at once would make one of them
// name a source parent the account has just left: a race of the mix, not
// a finding.
func (st *state) startMove(r *rand.Rand) (acct, src, dest string, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for range 10 {
		acct = st.accounts[r.IntN(len(st.accounts))]
		if st.moving[acct] {
			continue
		}
		src, dest = st.parents[acct], st.ous[r.IntN(len(st.ous))]
		if src == dest {
			continue
		}
		st.moving[acct] = true
		return acct, src, dest, true
	}
	return "", "", "", false
}

// endMove records where the account is after a move.
func (st *state) endMove(acct, parent string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.moving, acct)
	st.parents[acct] = parent
}

// prepare makes sure the management account has an organization with a
// small tree of OUs and at least cfg.seed accounts spread over it, and,
// with cfg.volumes, Automation over that many simulated EBS volumes.
func prepare(ctx context.Context, cfg config, c *clients, log func(string, ...any)) (*state, error) {
	endpoint := cfg.endpoints[0]
	orgs := c.orgs[0]
	if _, err := orgs.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		var already *types.AlreadyInOrganizationException
		if !errors.As(err, &already) {
			return nil, err
		}
	}
	// The default quotas (10 accounts) are AWS's; a load test needs more.
	if _, err := admin(ctx, endpoint, "POST", "/_orgstack/quotas", map[string]int{
		"accountsPerOrganization":    cfg.seed + 1000,
		"ousPerOrganization":         1000000,
		"concurrentAccountCreations": cfg.seed + 1000,
	}, nil); err != nil {
		return nil, fmt.Errorf("raise quotas: %w", err)
	}
	roots, err := orgs.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return nil, err
	}
	st := &state{management: cfg.management, rootID: aws.ToString(roots.Roots[0].Id), parents: map[string]string{}, moving: map[string]bool{}}
	st.ous = append(st.ous, st.rootID)
	for i := range 3 {
		ou, err := ensureOU(ctx, orgs, st.rootID, fmt.Sprintf("load-top-%d", i))
		if err != nil {
			return nil, err
		}
		st.ous = append(st.ous, ou)
		for j := range 3 {
			child, err := ensureOU(ctx, orgs, ou, fmt.Sprintf("load-%d-%d", i, j))
			if err != nil {
				return nil, err
			}
			st.ous = append(st.ous, child)
		}
	}
	if err := st.loadAccounts(ctx, orgs); err != nil {
		return nil, err
	}
	if missing := cfg.seed - len(st.accounts); missing > 0 {
		log("seeding %d accounts...", missing)
		start := time.Now()
		if err := seedAccounts(ctx, c, st, missing, cfg.concurrency, log); err != nil {
			return nil, err
		}
		if err := st.loadAccounts(ctx, orgs); err != nil {
			return nil, err
		}
		log("seeded %d accounts in %s", missing, time.Since(start).Round(time.Millisecond))
	}
	if len(st.accounts) == 0 {
		return nil, errors.New("the organization has no member accounts")
	}
	if cfg.volumes > 0 {
		if err := prepareAutomation(ctx, cfg, c, st, log); err != nil {
			return nil, fmt.Errorf("automation: %w", err)
		}
	}
	return st, nil
}

func ensureOU(ctx context.Context, c *organizations.Client, parent, name string) (string, error) {
	out, err := c.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(name)})
	if err == nil {
		return aws.ToString(out.OrganizationalUnit.Id), nil
	}
	var dup *types.DuplicateOrganizationalUnitException
	if !errors.As(err, &dup) {
		return "", err
	}
	p := organizations.NewListOrganizationalUnitsForParentPaginator(c, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, ou := range page.OrganizationalUnits {
			if aws.ToString(ou.Name) == name {
				return aws.ToString(ou.Id), nil
			}
		}
	}
	return "", fmt.Errorf("OU %s exists but is not listed under %s", name, parent)
}

// loadAccounts reads the active member accounts and their parents.
func (st *state) loadAccounts(ctx context.Context, c *organizations.Client) error {
	st.accounts = st.accounts[:0]
	for _, parent := range st.ous {
		p := organizations.NewListAccountsForParentPaginator(c, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, a := range page.Accounts {
				if id := aws.ToString(a.Id); id != st.management && a.Status == types.AccountStatusActive {
					st.accounts = append(st.accounts, id)
					st.parents[id] = parent
				}
			}
		}
	}
	sort.Strings(st.accounts)
	return nil
}

// seedAccounts creates n accounts from several clients at once, spreads
// them over the OUs and waits for them.
func seedAccounts(ctx context.Context, c *clients, st *state, n, concurrency int, log func(string, ...any)) error {
	stamp := time.Now().UnixNano()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg   sync.WaitGroup
		next = make(chan int)
		done sync.WaitGroup
	)
	for range max(concurrency, 4) {
		wg.Go(func() {
			for i := range next {
				orgs := c.Orgs()
				out, err := orgs.CreateAccount(ctx, &organizations.CreateAccountInput{
					AccountName: aws.String(fmt.Sprintf("load-%d", i)),
					Email:       aws.String(fmt.Sprintf("load-%d-%d@example.com", stamp, i)),
				})
				if err != nil {
					cancel(fmt.Errorf("create account %d: %w", i, err))
					continue
				}
				if err := awaitAccount(ctx, orgs, aws.ToString(out.CreateAccountStatus.Id), st, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	done.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for i := range n {
			select {
			case next <- i:
			case <-ctx.Done():
				close(next)
				return
			}
			select {
			case <-t.C:
				log("  %d of %d accounts", i, n)
			default:
			}
		}
		close(next)
	})
	done.Wait()
	wg.Wait()
	return context.Cause(ctx)
}

// awaitAccount waits for an account creation to succeed and moves the
// account into one of the OUs (the i-th, round the tree).
func awaitAccount(ctx context.Context, orgs *organizations.Client, requestID string, st *state, i int) error {
	for {
		s, err := orgs.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(requestID)})
		if err != nil {
			return err
		}
		switch s.CreateAccountStatus.State {
		case types.CreateAccountStateSucceeded:
			dest := st.ous[i%len(st.ous)]
			if dest == st.rootID {
				return nil
			}
			_, err := orgs.MoveAccount(ctx, &organizations.MoveAccountInput{
				AccountId: s.CreateAccountStatus.AccountId, SourceParentId: aws.String(st.rootID), DestinationParentId: aws.String(dest)})
			return err
		case types.CreateAccountStateFailed:
			return fmt.Errorf("account creation %s failed: %s", requestID, s.CreateAccountStatus.FailureReason)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// volumesPerCall is how many volumes one generate call of the inventory's
// admin API makes; several smaller calls keep the server's memory for one
// transaction small.
const volumesPerCall = 2000

// prepareAutomation gives Compute Optimizer trusted access, opts the
// management account in, associates every member and generates the
// volumes over them. Each step is idempotent, so that a run against a
// prepared server only checks.
func prepareAutomation(ctx context.Context, cfg config, c *clients, st *state, log func(string, ...any)) error {
	start := time.Now()
	if _, err := c.orgs[0].EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{
		ServicePrincipal: aws.String("compute-optimizer.amazonaws.com")}); err != nil {
		return err
	}
	aco := c.aco[0]
	if err := aco.call(ctx, "UpdateEnrollmentConfiguration", map[string]any{"status": "Active"}, nil); err != nil {
		return err
	}
	log("associating %d members with Automation...", len(st.accounts))
	for i := 0; i < len(st.accounts); i += 50 {
		ids := st.accounts[i:min(i+50, len(st.accounts))]
		if err := aco.call(ctx, "AssociateAccounts", map[string]any{"accountIds": ids}, nil); err != nil {
			return err
		}
	}
	log("generating %d volumes over %d accounts...", cfg.volumes, len(st.accounts))
	regions := []string{"us-east-1", "eu-west-1"}
	for call, left := 0, cfg.volumes; left > 0; call++ {
		n := min(left, volumesPerCall)
		left -= n
		// The inventory deals a call's volumes to its accounts in turn,
		// from the first; starting each call where the last one stopped,
		// and in the other Region, spreads the fleet evenly.
		from := call * volumesPerCall % len(st.accounts)
		accts := append(slices.Clone(st.accounts[from:]), st.accounts[:from]...)
		status, err := admin(ctx, cfg.endpoints[0], "POST", "/_orgstack/inventory/generate", map[string]any{
			"accountIds": accts, "regions": []string{regions[call%2]}, "volumes": n, "seed": call + 1,
		}, nil)
		// The same seed makes the same volume ids: a conflict means this
		// part of the fleet is there from an earlier run.
		if status == 409 {
			continue
		}
		if err != nil {
			return err
		}
	}
	log("automation ready in %s", time.Since(start).Round(time.Millisecond))
	return nil
}
