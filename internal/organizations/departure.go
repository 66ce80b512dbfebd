package organizations

import (
	"context"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// RemoveAccountFromOrganization removes a member account; only the
// management account may, and never itself.
func (s *Service) RemoveAccountFromOrganization(ctx context.Context, in *api.RemoveAccountFromOrganizationInput) (*api.RemoveAccountFromOrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managerOrg(p.AccountID, "RemoveAccountFromOrganization")
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
		if err := s.checkDeparture(r, org, m); err != nil {
			return err
		}
		return s.depart(r, org, m, DepartureRemoved)
	})
	if err != nil {
		return nil, err
	}
	return &api.RemoveAccountFromOrganizationOutput{}, nil
}

// LeaveOrganization takes the calling member account out of its
// organization; the management account cannot leave.
func (s *Service) LeaveOrganization(ctx context.Context, _ *api.LeaveOrganizationInput) (*api.LeaveOrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, m, err := r.callerOrg(p.AccountID)
		if err != nil {
			return err
		}
		if org == nil {
			return errNotInUse()
		}
		if err := s.checkDeparture(r, org, m); err != nil {
			return err
		}
		return s.depart(r, org, m, DepartureLeft)
	})
	if err != nil {
		return nil, err
	}
	return &api.LeaveOrganizationOutput{}, nil
}

// checkDeparture applies what AWS requires of an account before it may
// leave its organization, in this order:
//
//  1. it is not the management account (MasterCannotLeaveOrganizationException);
//  2. it is no service's delegated administrator
//     (CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG);
//  3. if CreateAccount made it, it is at least CreatedAccountRemovalWait
//     (4 days) old; invited accounts are exempt (WAIT_PERIOD_ACTIVE);
//  4. it has what a standalone account needs, checked in the order of
//     the steps the LeaveOrganization documentation lists: contact
//     information with its phone verification — one step in AWS's
//     sign-up, so missing contact information answers
//     ACCOUNT_CANNOT_LEAVE_WITHOUT_PHONE_VERIFICATION too — then the
//     customer agreement (ACCOUNT_CANNOT_LEAVE_WITHOUT_EULA), then a
//     payment method (MEMBER_ACCOUNT_PAYMENT_INSTRUMENT_REQUIRED).
func (s *Service) checkDeparture(r repo, org *organization, m *member) error {
	if err := s.checkLeaveRules(r, org, m); err != nil {
		return err
	}
	return checkStandalone(r, m)
}

// checkLeaveRules are steps 1 to 3 of checkDeparture: all that a direct
// transfer to another organization (AcceptHandshake of an invitation by a
// member of another organization) requires, since the account never
// stands alone.
func (s *Service) checkLeaveRules(r repo, org *organization, m *member) error {
	if m.AccountID == org.ManagementID {
		return api.NewMasterCannotLeaveOrganizationException("The management account cannot leave its organization; remove every member account and delete the organization instead.")
	}
	services, err := r.delegatedServices(m.AccountID)
	if err != nil {
		return err
	}
	if len(services) > 0 {
		e := api.NewConstraintViolationException("The account is a delegated administrator for " + services[0] + "; deregister it before it leaves the organization.")
		e.Reason = ptr(api.ConstraintViolationExceptionReasonCannotRemoveDelegatedAdministratorFromOrg)
		return e
	}
	q, err := s.quotas(r.tx)
	if err != nil {
		return err
	}
	if m.JoinedMethod == string(api.AccountJoinedMethodCreated) {
		if until := m.JoinedAt.Add(time.Duration(q.CreatedAccountRemovalWait)); s.clock.Now().Before(until) {
			e := api.NewConstraintViolationException("An account created in an organization cannot leave it until " + until.UTC().Format(time.RFC3339) + ", four days after its creation.")
			e.Reason = ptr(api.ConstraintViolationExceptionReasonWaitPeriodActive)
			return e
		}
	}
	return nil
}

// checkStandalone is step 4 of checkDeparture.
func checkStandalone(r repo, m *member) error {
	acct, err := accounts.Get(r.tx, m.AccountID)
	if err != nil {
		return err
	}
	var reason api.ConstraintViolationExceptionReason
	switch sa := acct.Standalone; {
	case !sa.ContactInfo || !sa.PhoneVerified:
		reason = api.ConstraintViolationExceptionReasonAccountCannotLeaveWithoutPhoneVerification
	case !sa.EULA:
		reason = api.ConstraintViolationExceptionReasonAccountCannotLeaveWithoutEula
	case !sa.PaymentMethod:
		reason = api.ConstraintViolationExceptionReasonMemberAccountPaymentInstrumentRequired
	default:
		return nil
	}
	e := api.NewConstraintViolationException("The account lacks the information it needs to stand alone outside the organization; complete it first.")
	e.Reason = ptr(reason)
	return e
}

// depart takes an account out of its organization, in the caller's
// transaction, for every way of leaving (removal, leaving, the end of a
// closed account's post-closure period): its tags and handshakes go, it
// leaves every index (so every listing, and DescribeAccount answers
// AccountNotFoundException), it stays in the account universe as a
// standalone account that may be invited again, and every membership
// listener hears of it in the same transaction.
func (s *Service) depart(r repo, org *organization, m *member, how Departure) error {
	if err := r.deleteTags(m.AccountID); err != nil {
		return err
	}
	if err := r.deleteHandshakesOfAccount(org.ID, m.AccountID); err != nil {
		return err
	}
	if err := r.detachAllPolicies(m.AccountID); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketClosing, org.ID+"/"+m.AccountID); err != nil {
		return err
	}
	if err := r.removeMember(m); err != nil {
		return err
	}
	for _, l := range s.listeners {
		if err := l.AccountLeftOrganization(r.tx, org.ID, m.AccountID, how); err != nil {
			return err
		}
	}
	return nil
}

// detachAllPolicies detaches every policy from an account leaving its
// organization: a standalone account has none.
func (r repo) detachAllPolicies(accountID string) error {
	m, err := r.membership(accountID)
	if err != nil || m == nil {
		return err
	}
	return r.detachAll(m.OrgID, accountID)
}
