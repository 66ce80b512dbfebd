package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
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
	run  func(ctx context.Context, c *organizations.Client, st *state, r *rand.Rand) error
}

// state is the organization the mix works on.
type state struct {
	rootID   string
	ous      []string
	accounts []string

	mu      sync.Mutex
	parents map[string]string // account -> parent, for MoveAccount
	nextOU  int
}

var operations = map[string]operation{}

func register(name string, run func(ctx context.Context, c *organizations.Client, st *state, r *rand.Rand) error) {
	operations[name] = operation{name: name, run: run}
}

func operationNames() []string {
	names := make([]string, 0, len(operations))
	for n := range operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func init() {
	register("describe-organization", func(ctx context.Context, c *organizations.Client, _ *state, _ *rand.Rand) error {
		_, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		return err
	})
	register("describe-account", func(ctx context.Context, c *organizations.Client, st *state, r *rand.Rand) error {
		_, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(st.accounts[r.IntN(len(st.accounts))])})
		return err
	})
	register("list-accounts", func(ctx context.Context, c *organizations.Client, _ *state, _ *rand.Rand) error {
		p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
		for p.HasMorePages() {
			if _, err := p.NextPage(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	register("list-accounts-page", func(ctx context.Context, c *organizations.Client, _ *state, _ *rand.Rand) error {
		_, err := c.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
		return err
	})
	register("create-ou", func(ctx context.Context, c *organizations.Client, st *state, r *rand.Rand) error {
		st.mu.Lock()
		st.nextOU++
		name := fmt.Sprintf("load-%d-%d", time.Now().UnixNano(), st.nextOU)
		st.mu.Unlock()
		_, err := c.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{
			ParentId: aws.String(st.ous[r.IntN(len(st.ous))]), Name: aws.String(name)})
		return err
	})
	register("tag-resource", func(ctx context.Context, c *organizations.Client, st *state, r *rand.Rand) error {
		// Ten keys per account keep every account under the 50-tag limit.
		_, err := c.TagResource(ctx, &organizations.TagResourceInput{
			ResourceId: aws.String(st.accounts[r.IntN(len(st.accounts))]),
			Tags:       []types.Tag{{Key: aws.String(fmt.Sprintf("load-%d", r.IntN(10))), Value: aws.String(fmt.Sprint(r.Int()))}},
		})
		return err
	})
	register("move-account", func(ctx context.Context, c *organizations.Client, st *state, r *rand.Rand) error {
		acct := st.accounts[r.IntN(len(st.accounts))]
		dest := st.ous[r.IntN(len(st.ous))]
		st.mu.Lock()
		src := st.parents[acct]
		if src == dest {
			st.mu.Unlock()
			return nil
		}
		st.parents[acct] = dest
		st.mu.Unlock()
		_, err := c.MoveAccount(ctx, &organizations.MoveAccountInput{
			AccountId: aws.String(acct), SourceParentId: aws.String(src), DestinationParentId: aws.String(dest)})
		var dup *types.DuplicateAccountException
		var gone *types.SourceParentNotFoundException
		if errors.As(err, &dup) || errors.As(err, &gone) {
			return nil // another client moved it first: a race of the mix, not a failure
		}
		return err
	})
}

// prepare makes sure the management account has an organization with a
// small tree of OUs and at least cfg.seed accounts spread over it.
func prepare(ctx context.Context, cfg config, out io.Writer) (*state, error) {
	c := client(cfg.endpoint, cfg.management, newTransport(4))
	if _, err := c.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		var already *types.AlreadyInOrganizationException
		if !errors.As(err, &already) {
			return nil, err
		}
	}
	// The default quotas (10 accounts) are AWS's; a load test needs more.
	if err := adminPost(ctx, cfg.endpoint, "/_orgstack/quotas", map[string]int{
		"accountsPerOrganization":    cfg.seed + 1000,
		"ousPerOrganization":         100000,
		"concurrentAccountCreations": cfg.seed + 1000,
	}); err != nil {
		return nil, fmt.Errorf("raise quotas: %w", err)
	}
	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return nil, err
	}
	st := &state{rootID: aws.ToString(roots.Roots[0].Id), parents: map[string]string{}}
	st.ous = append(st.ous, st.rootID)
	for i := 0; i < 3; i++ {
		ou, err := ensureOU(ctx, c, st.rootID, fmt.Sprintf("load-top-%d", i))
		if err != nil {
			return nil, err
		}
		st.ous = append(st.ous, ou)
		for j := 0; j < 3; j++ {
			child, err := ensureOU(ctx, c, ou, fmt.Sprintf("load-%d-%d", i, j))
			if err != nil {
				return nil, err
			}
			st.ous = append(st.ous, child)
		}
	}
	if err := st.loadAccounts(ctx, c, cfg.management); err != nil {
		return nil, err
	}
	if missing := cfg.seed - len(st.accounts); missing > 0 {
		fmt.Fprintf(out, "seeding %d accounts...\n", missing)
		start := time.Now()
		if err := seedAccounts(ctx, c, missing); err != nil {
			return nil, err
		}
		if err := st.loadAccounts(ctx, c, cfg.management); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "seeded in %s\n", time.Since(start).Round(time.Millisecond))
	}
	if len(st.accounts) == 0 {
		return nil, fmt.Errorf("the organization has no member accounts: %w", errNotReady)
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

// loadAccounts reads the member accounts and their parents.
func (st *state) loadAccounts(ctx context.Context, c *organizations.Client, management string) error {
	st.accounts = st.accounts[:0]
	for _, parent := range st.ous {
		p := organizations.NewListAccountsForParentPaginator(c, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, a := range page.Accounts {
				if id := aws.ToString(a.Id); id != management && a.Status == types.AccountStatusActive {
					st.accounts = append(st.accounts, id)
					st.parents[id] = parent
				}
			}
		}
	}
	return nil
}

// seedAccounts creates n accounts and waits for them.
func seedAccounts(ctx context.Context, c *organizations.Client, n int) error {
	stamp := time.Now().UnixNano()
	var ids []string
	for i := 0; i < n; i++ {
		out, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("load-%d", i)),
			Email:       aws.String(fmt.Sprintf("load-%d-%d@example.com", stamp, i)),
		})
		if err != nil {
			return fmt.Errorf("create account %d: %w", i, err)
		}
		ids = append(ids, aws.ToString(out.CreateAccountStatus.Id))
	}
	for _, id := range ids {
		for {
			s, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(id)})
			if err != nil {
				return err
			}
			if s.CreateAccountStatus.State == types.CreateAccountStateSucceeded {
				break
			}
			if s.CreateAccountStatus.State == types.CreateAccountStateFailed {
				return fmt.Errorf("account creation %s failed: %s", id, s.CreateAccountStatus.FailureReason)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

func adminPost(ctx context.Context, endpoint, path string, body any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s: %s", path, resp.Status, msg)
	}
	return nil
}
