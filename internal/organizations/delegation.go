package organizations

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// RegisterDelegatedAdministrator makes a member account the delegated
// administrator of a service that has trusted access to the organization.
func (s *Service) RegisterDelegatedAdministrator(ctx context.Context, in *api.RegisterDelegatedAdministratorInput) (*api.RegisterDelegatedAdministratorOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managedOrg(p.AccountID, "RegisterDelegatedAdministrator")
		if err != nil {
			return err
		}
		sp, err := lookupPrincipal(*in.ServicePrincipal)
		if err != nil {
			return err
		}
		if !sp.Delegation {
			e := api.NewInvalidInputException(fmt.Sprintf("%s does not accept a delegated administrator.", *in.ServicePrincipal))
			e.Reason = ptr(api.InvalidInputExceptionReasonUnrecognizedServicePrincipal)
			return e
		}
		m, err := r.delegationMember(org, *in.AccountId)
		if err != nil {
			return err
		}
		if m.AccountID == org.ManagementID {
			return delegationConstraint(api.ConstraintViolationExceptionReasonCannotRegisterMasterAsDelegatedAdministrator,
				"The management account cannot be a delegated administrator; choose a member account.")
		}
		if m.Status != string(api.AccountStatusActive) {
			return delegationConstraint(api.ConstraintViolationExceptionReasonCannotRegisterSuspendedAccountAsDelegatedAdministrator,
				fmt.Sprintf("Account %s is %s and cannot be a delegated administrator.", m.AccountID, m.Status))
		}
		if on, err := r.trustedAccess(org.ID, *in.ServicePrincipal); err != nil {
			return err
		} else if !on {
			return delegationConstraint(api.ConstraintViolationExceptionReasonServiceAccessNotEnabled,
				fmt.Sprintf("Enable trusted access for %s (EnableAWSServiceAccess) before registering a delegated administrator for it.", *in.ServicePrincipal))
		}
		current, err := r.delegatesOf(org.ID, *in.ServicePrincipal)
		if err != nil {
			return err
		}
		for _, d := range current {
			if d.AccountID == m.AccountID {
				return api.NewAccountAlreadyRegisteredException(fmt.Sprintf("Account %s is already a delegated administrator for %s.", m.AccountID, *in.ServicePrincipal))
			}
		}
		if sp.MaxDelegates > 0 && len(current) >= sp.MaxDelegates {
			return delegationConstraint(api.ConstraintViolationExceptionReasonMaxDelegatedAdministratorsForServiceLimitExceeded,
				fmt.Sprintf("%s accepts at most %d delegated administrator(s) per organization; deregister the current one first.", *in.ServicePrincipal, sp.MaxDelegates))
		}
		return r.putDelegate(&delegate{OrgID: org.ID, AccountID: m.AccountID, ServicePrincipal: *in.ServicePrincipal, Since: s.clock.Now()})
	})
	if err != nil {
		return nil, err
	}
	return &api.RegisterDelegatedAdministratorOutput{}, nil
}

// DeregisterDelegatedAdministrator revokes an account's delegation for one
// service.
func (s *Service) DeregisterDelegatedAdministrator(ctx context.Context, in *api.DeregisterDelegatedAdministratorInput) (*api.DeregisterDelegatedAdministratorOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managedOrg(p.AccountID, "DeregisterDelegatedAdministrator")
		if err != nil {
			return err
		}
		if _, err := lookupPrincipal(*in.ServicePrincipal); err != nil {
			return err
		}
		m, err := r.delegationMember(org, *in.AccountId)
		if err != nil {
			return err
		}
		d, err := store.GetJSON[delegate](tx, bucketDelegates, org.ID+"/"+*in.ServicePrincipal+"/"+m.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return api.NewAccountNotRegisteredException(fmt.Sprintf("Account %s is not a delegated administrator for %s.", m.AccountID, *in.ServicePrincipal))
		}
		if err != nil {
			return err
		}
		return r.deleteDelegate(d)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeregisterDelegatedAdministratorOutput{}, nil
}

// ListDelegatedAdministrators lists the organization's delegated
// administrators, each account once, in account order; with a service
// principal, only that service's.
func (s *Service) ListDelegatedAdministrators(ctx context.Context, in *api.ListDelegatedAdministratorsInput) (*api.ListDelegatedAdministratorsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListDelegatedAdministratorsOutput{DelegatedAdministrators: []api.DelegatedAdministrator{}}
	// A Read: the token-signing key exists from the start.
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.orgForReader(p.AccountID, "ListDelegatedAdministrators")
		if err != nil {
			return err
		}
		prefix, scope := org.ID+"/", "ListDelegatedAdministrators/"+org.ID
		if in.ServicePrincipal != nil {
			if _, err := lookupPrincipal(*in.ServicePrincipal); err != nil {
				return err
			}
			prefix += *in.ServicePrincipal + "/"
			scope += "/" + *in.ServicePrincipal
		}
		// An account that administers several services is listed once,
		// with its earliest delegation: gather them, then page in memory
		// (an organization has few delegates).
		first := map[string]*delegate{}
		err = store.ScanJSON(tx, bucketDelegates, prefix, "", 0, func(_ string, d *delegate) error {
			if cur, ok := first[d.AccountID]; !ok || d.Since.Before(cur.Since) {
				first[d.AccountID] = d
			}
			return nil
		})
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(first))
		for id := range first {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		pg, err := newPager(tx, scope, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		page, next := pg.sliceIDs(ids)
		out.NextToken = next
		for _, id := range page {
			m, err := r.membership(id)
			if err != nil {
				return err
			}
			a, err := accounts.Get(tx, id)
			if err != nil {
				return err
			}
			da := api.DelegatedAdministrator{
				Id:                    ptr(id),
				Arn:                   ptr(org.accountARN(id)),
				Email:                 ptr(a.Email),
				Name:                  ptr(a.Name),
				DelegationEnabledDate: ptr(first[id].Since),
			}
			if m != nil {
				da.Status = ptr(api.AccountStatus(m.Status))
				da.State = ptr(api.AccountState(m.Status))
				da.JoinedMethod = ptr(api.AccountJoinedMethod(m.JoinedMethod))
				da.JoinedTimestamp = ptr(m.JoinedAt)
			}
			out.DelegatedAdministrators = append(out.DelegatedAdministrators, da)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListDelegatedServicesForAccount lists the services an account of the
// organization administers, in principal order.
func (s *Service) ListDelegatedServicesForAccount(ctx context.Context, in *api.ListDelegatedServicesForAccountInput) (*api.ListDelegatedServicesForAccountOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListDelegatedServicesForAccountOutput{DelegatedServices: []api.DelegatedService{}}
	// A Read: the token-signing key exists from the start.
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.orgForReader(p.AccountID, "ListDelegatedServicesForAccount")
		if err != nil {
			return err
		}
		m, err := r.delegationMember(org, *in.AccountId)
		if err != nil {
			return err
		}
		n, err := tx.Count(bucketDelegateByAcct, m.AccountID+"/")
		if err != nil {
			return err
		}
		if n == 0 {
			return api.NewAccountNotRegisteredException(fmt.Sprintf("Account %s is not a delegated administrator for any service.", m.AccountID))
		}
		pg, err := newPager(tx, "ListDelegatedServicesForAccount/"+m.AccountID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		prefix := m.AccountID + "/"
		out.NextToken, err = pg.scan(tx, bucketDelegateByAcct, prefix, func(key string, _ []byte) error {
			sp, err := trimKeyPrefix(key, prefix)
			if err != nil {
				return err
			}
			d, err := store.GetJSON[delegate](tx, bucketDelegates, org.ID+"/"+sp+"/"+m.AccountID)
			if err != nil {
				return fmt.Errorf("organizations: delegate %s/%s: %w", sp, m.AccountID, err)
			}
			out.DelegatedServices = append(out.DelegatedServices, api.DelegatedService{
				ServicePrincipal:      ptr(sp),
				DelegationEnabledDate: ptr(d.Since),
			})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// delegationMember returns the membership of an account of org, or
// AccountNotFoundException when the account is not one of its accounts.
func (r repo) delegationMember(org *organization, accountID string) (*member, error) {
	m, err := r.membership(accountID)
	if err != nil {
		return nil, err
	}
	if m == nil || m.OrgID != org.ID {
		return nil, api.NewAccountNotFoundException(fmt.Sprintf("Account %s is not an account of your organization.", accountID))
	}
	return m, nil
}

// sliceIDs returns the page of ids (sorted) that follows the pager's position,
// and the NextToken of the page after it, for lists gathered in memory.
func (p *pager) sliceIDs(ids []string) ([]string, *string) {
	start := sort.SearchStrings(ids, p.after)
	if p.after != "" && start < len(ids) && ids[start] == p.after {
		start++
	}
	ids = ids[start:]
	if len(ids) <= p.limit {
		return ids, nil
	}
	tok := p.signer.Encode(p.scope, ids[p.limit-1])
	return ids[:p.limit], &tok
}

// delegationConstraint is a ConstraintViolationException with its reason.
func delegationConstraint(reason api.ConstraintViolationExceptionReason, msg string) error {
	e := api.NewConstraintViolationException(msg)
	e.Reason = ptr(reason)
	return e
}
