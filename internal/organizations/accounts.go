package organizations

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// The model's ParentId pattern is an unanchored alternation, so it lets
// through ids that only start like one; AWS refuses those as invalid input.
var parentIDPattern = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)

func checkParentID(id string) error {
	if parentIDPattern.MatchString(id) {
		return nil
	}
	e := api.NewInvalidInputException("The parent id is not a root id (r-…) or an organizational unit id (ou-…-…).")
	e.Reason = ptr(api.InvalidInputExceptionReasonInvalidPattern)
	return e
}

// readerOrg returns the caller's organization for the read operations that
// the management account and delegated administrators may call: a member
// registered as delegated administrator for any service may read
// (FACTS.md §2); other members are denied. Operations call it through
// readerOrDelegateOrg, which also honours the delegation policy.
func (r repo) readerOrg(accountID, op string) (*organization, error) {
	org, _, err := r.callerOrg(accountID)
	if err != nil {
		return nil, err
	}
	if org == nil {
		return nil, errNotInUse()
	}
	if org.ManagementID == accountID {
		return org, nil
	}
	services, err := r.delegatedServices(accountID)
	if err != nil {
		return nil, err
	}
	if len(services) == 0 {
		return nil, errManagementOrDelegate(op)
	}
	return org, nil
}

// managerOrg returns the caller's organization for the operations only its
// management account may call.
func (r repo) managerOrg(accountID, op string) (*organization, error) {
	org, _, err := r.callerOrg(accountID)
	if err != nil {
		return nil, err
	}
	if org == nil {
		return nil, errNotInUse()
	}
	if org.ManagementID != accountID {
		return nil, errManagementOnly(op)
	}
	return org, nil
}

func errManagementOrDelegate(op string) error {
	return api.NewAccessDeniedException("You don't have permissions to access this resource: " + op +
		" can only be called by the organization's management account or a delegated administrator.")
}

func errAccountNotFound() error {
	return api.NewAccountNotFoundException("You specified an account that doesn't exist in this organization.")
}

// orgMember returns the membership of an account in the organization, or
// nil when the account is not one of its members.
func (r repo) orgMember(orgID, accountID string) (*member, error) {
	m, err := r.membership(accountID)
	if err != nil || m == nil || m.OrgID != orgID {
		return nil, err
	}
	return m, nil
}

// accountState is the newer State of an account, derived from its Status:
// an account closed with CloseAccount is SUSPENDED in the older Status and
// CLOSED in State for its 90-day post-closure period, as the
// Organizations User Guide's account-state page describes it.
func accountState(status string) api.AccountState {
	switch status {
	case string(api.AccountStatusPendingClosure):
		return api.AccountStatePendingClosure
	case string(api.AccountStatusSuspended):
		return api.AccountStateClosed
	}
	return api.AccountStateActive
}

// accountView renders a member account as the API shows it.
func accountView(org *organization, m *member, a *accounts.Account) api.Account {
	return api.Account{
		Id:              ptr(a.ID),
		Arn:             ptr(org.accountARN(a.ID)),
		Email:           ptr(a.Email),
		Name:            ptr(a.Name),
		Status:          ptr(api.AccountStatus(m.Status)),
		State:           ptr(accountState(m.Status)),
		JoinedMethod:    ptr(api.AccountJoinedMethod(m.JoinedMethod)),
		JoinedTimestamp: ptr(m.JoinedAt),
	}
}

// memberView loads a member's account and renders it.
func (r repo) memberView(org *organization, m *member) (api.Account, error) {
	a, err := accounts.Get(r.tx, m.AccountID)
	if err != nil {
		return api.Account{}, err
	}
	return accountView(org, m, a), nil
}

// DescribeAccount answers the management account and delegated
// administrators about one account of their organization.
func (s *Service) DescribeAccount(ctx context.Context, in *api.DescribeAccountInput) (*api.DescribeAccountOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out api.Account
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		target := *in.AccountId
		org, err := r.readerOrDelegateOrg(p, "DescribeAccount", on(func(o *organization) []string {
			return []string{o.accountARN(target)}
		}))
		if err != nil {
			return err
		}
		m, err := r.orgMember(org.ID, *in.AccountId)
		if err != nil {
			return err
		}
		if m == nil {
			return errAccountNotFound()
		}
		out, err = r.memberView(org, m)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeAccountOutput{Account: &out}, nil
}

// ListAccounts lists the organization's accounts in account id order, one
// range scan of the organization's account index per page.
func (s *Service) ListAccounts(ctx context.Context, in *api.ListAccountsInput) (*api.ListAccountsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListAccountsOutput{Accounts: []api.Account{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.readerOrDelegateOrg(p, "ListAccounts", nil)
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListAccounts/"+org.ID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.Accounts = out.Accounts[:0]
		prefix := org.ID + "/"
		out.NextToken, err = pg.scan(tx, bucketOrgAccs, prefix, func(key string, _ []byte) error {
			return r.appendMember(&out.Accounts, org, strings.TrimPrefix(key, prefix))
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAccountsForParent lists the accounts directly under a root or OU.
func (s *Service) ListAccountsForParent(ctx context.Context, in *api.ListAccountsForParentInput) (*api.ListAccountsForParentOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkParentID(*in.ParentId); err != nil {
		return nil, err
	}
	out := &api.ListAccountsForParentOutput{Accounts: []api.Account{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		parent := *in.ParentId
		org, err := r.readerOrDelegateOrg(p, "ListAccountsForParent", on(func(o *organization) []string {
			return []string{o.parentARN(parent)}
		}))
		if err != nil {
			return err
		}
		ok, err := r.parentExists(org.ID, *in.ParentId)
		if err != nil {
			return err
		}
		if !ok {
			return api.NewParentNotFoundException("You specified a root or organizational unit that doesn't exist in this organization.")
		}
		pg, err := newPager(tx, "ListAccountsForParent/"+*in.ParentId, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.Accounts = out.Accounts[:0]
		prefix := *in.ParentId + "/" + childAccount + "/"
		out.NextToken, err = pg.scan(tx, bucketChildren, prefix, func(key string, _ []byte) error {
			return r.appendMember(&out.Accounts, org, strings.TrimPrefix(key, prefix))
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (r repo) appendMember(dst *[]api.Account, org *organization, accountID string) error {
	m, err := r.membership(accountID)
	if err != nil {
		return err
	}
	if m == nil {
		return errors.New("organizations: index lists an account without membership: " + accountID)
	}
	v, err := r.memberView(org, m)
	if err != nil {
		return err
	}
	*dst = append(*dst, v)
	return nil
}

// MoveAccount moves an account between parents of its organization. The
// children index and the membership change together, so an account is
// never under two parents nor under none.
func (s *Service) MoveAccount(ctx context.Context, in *api.MoveAccountInput) (*api.MoveAccountOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	src, dst := *in.SourceParentId, *in.DestinationParentId
	if err := checkParentID(src); err != nil {
		return nil, err
	}
	if err := checkParentID(dst); err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managerOrg(p.AccountID, "MoveAccount")
		if err != nil {
			return err
		}
		m, err := r.orgMember(org.ID, *in.AccountId)
		if err != nil {
			return err
		}
		if m == nil {
			return errAccountNotFound()
		}
		if ok, err := r.parentExists(org.ID, src); err != nil {
			return err
		} else if !ok {
			return api.NewSourceParentNotFoundException("The source root or organizational unit doesn't exist in this organization.")
		}
		if ok, err := r.parentExists(org.ID, dst); err != nil {
			return err
		} else if !ok {
			return api.NewDestinationParentNotFoundException("The destination root or organizational unit doesn't exist in this organization.")
		}
		if m.ParentID == dst {
			return api.NewDuplicateAccountException("The account is already in the destination parent.")
		}
		if m.ParentID != src {
			// The account exists, but not where the caller says it is.
			return api.NewAccountNotFoundException("The account is not in the source parent you specified.")
		}
		return r.moveMember(m, dst)
	})
	if err != nil {
		return nil, err
	}
	return &api.MoveAccountOutput{}, nil
}

// moveMember reparents an account in one transaction.
func (r repo) moveMember(m *member, parentID string) error {
	if err := r.tx.Delete(bucketChildren, childKey(m.ParentID, childAccount, m.AccountID)); err != nil {
		return err
	}
	m.ParentID = parentID
	if err := store.PutJSON(r.tx, bucketMembers, m.AccountID, m); err != nil {
		return err
	}
	return r.tx.Put(bucketChildren, childKey(parentID, childAccount, m.AccountID), nil)
}

// putMember stores a changed membership whose parent is unchanged.
func (r repo) putMember(m *member) error {
	return store.PutJSON(r.tx, bucketMembers, m.AccountID, m)
}
