package automation

import (
	"context"
	"fmt"
	"regexp"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// maxAccountsPerCall is how many account ids AssociateAccounts and
// DisassociateAccounts take at once (model doc of AssociateAccountsRequest).
const maxAccountsPerCall = 50

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// checkAccountIDs refuses a malformed list as a whole; judging each
// well-formed id is the operation's job.
func checkAccountIDs(ids []string) error {
	if len(ids) == 0 {
		return api.NewInvalidParameterValueException("accountIds must name at least one account.")
	}
	if len(ids) > maxAccountsPerCall {
		return api.NewInvalidParameterValueException(fmt.Sprintf("accountIds names %d accounts; at most %d are accepted at once.", len(ids), maxAccountsPerCall))
	}
	for _, id := range ids {
		if !accountIDRE.MatchString(id) {
			return api.NewInvalidParameterValueException(fmt.Sprintf("%q is not a 12-digit account id.", id))
		}
	}
	return nil
}

// AssociateAccounts puts members of the caller's organization under its
// central Automation management: each is enrolled if it was not and its
// organization rule mode becomes AnyAllowed. Each id is judged on its own;
// those that cannot be associated are reported in errors.
func (s *Service) AssociateAccounts(ctx context.Context, in *api.AssociateAccountsInput) (*api.AssociateAccountsOutput, error) {
	return changeEach(ctx, s, "AssociateAccounts", in.ClientToken, in.AccountIds, in, associate,
		func(done, refused []string) *api.AssociateAccountsOutput {
			return &api.AssociateAccountsOutput{AccountIds: done, Errors: refused}
		})
}

// DisassociateAccounts ends central management of members: organization
// rules no longer apply to them and can no longer name them. Each id is
// judged on its own, as for AssociateAccounts.
func (s *Service) DisassociateAccounts(ctx context.Context, in *api.DisassociateAccountsInput) (*api.DisassociateAccountsOutput, error) {
	return changeEach(ctx, s, "DisassociateAccounts", in.ClientToken, in.AccountIds, in, disassociate,
		func(done, refused []string) *api.DisassociateAccountsOutput {
			return &api.DisassociateAccountsOutput{AccountIds: done, Errors: refused}
		})
}

// changeEach runs the work shared by AssociateAccounts and
// DisassociateAccounts: check the request, then, in one idempotent
// transaction of a caller that may manage members, apply change to each
// account id and sort the ids into those changed and those refused (as
// "id: problem").
func changeEach[T any](ctx context.Context, s *Service, op string, token *string, ids []string, in any,
	change func(tx store.Tx, now time.Time, r *requester, id string) (problem string, err error),
	result func(done, refused []string) *T) (*T, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(token); err != nil {
		return nil, err
	}
	if err := checkAccountIDs(ids); err != nil {
		return nil, err
	}
	var out *T
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, op, token, in, func() (*T, error) {
			r, err := s.managerFor(tx, p.AccountID, op)
			if err != nil {
				return nil, err
			}
			done, refused := []string{}, []string{}
			err = eachAccount(ids, func(id string) error {
				problem, err := change(tx, now, r, id)
				if err != nil {
					return err
				}
				if problem != "" {
					refused = append(refused, id+": "+problem)
				} else {
					done = append(done, id)
				}
				return nil
			})
			return result(done, refused), err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// managerFor loads the caller and checks that it may manage members.
func (s *Service) managerFor(tx store.Tx, accountID, op string) (*requester, error) {
	r, err := loadRequester(tx, accountID)
	if err != nil {
		return nil, err
	}
	if err := r.requireOptIn(); err != nil {
		return nil, err
	}
	return r, r.requireManager(op)
}

// eachAccount calls fn once per distinct id, in request order.
func eachAccount(ids []string, fn func(id string) error) error {
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// memberProblem says why id cannot be managed by r, or "" when it can.
func memberProblem(tx store.Tx, r *requester, id string) (string, error) {
	if id == r.id {
		return "the calling account cannot associate or disassociate itself", nil
	}
	m, err := organizations.MembershipOf(tx, id)
	if err != nil {
		return "", err
	}
	if m == nil || m.OrgID != r.mem.OrgID {
		return "not a member account of your organization", nil
	}
	if id == m.ManagementAccountID {
		return "the management account manages the organization and cannot be associated with it", nil
	}
	return "", nil
}

func associate(tx store.Tx, now time.Time, r *requester, id string) (string, error) {
	if problem, err := memberProblem(tx, r, id); problem != "" || err != nil {
		return problem, err
	}
	m, err := organizations.MembershipOf(tx, id)
	if err != nil {
		return "", err
	}
	if m.Status != "ACTIVE" {
		return fmt.Sprintf("the account is %s", m.Status), nil
	}
	e, err := loadEnrollment(tx, id)
	if err != nil {
		return "", err
	}
	if e.AssociatedOrg == r.mem.OrgID {
		return "already associated", nil
	}
	if e.Status != string(api.EnrollmentStatusActive) {
		// Associating enables Automation for the member, which the
		// 24-hour wait after an opt-out forbids as much as an opt-in.
		if !e.OptedOutAt.IsZero() && now.Before(e.OptedOutAt.Add(optInWait)) {
			return fmt.Sprintf("the account opted out of Automation at %s and cannot be enabled again before %s",
				e.OptedOutAt.Format(time.RFC3339), e.OptedOutAt.Add(optInWait).Format(time.RFC3339)), nil
		}
		e.Status, e.StatusReason = string(api.EnrollmentStatusActive), ""
	}
	e.AssociatedOrg, e.RuleMode, e.UpdatedAt = r.mem.OrgID, string(api.OrganizationRuleModeAnyAllowed), now
	return "", putEnrollment(tx, id, e)
}

func disassociate(tx store.Tx, now time.Time, r *requester, id string) (string, error) {
	if problem, err := memberProblem(tx, r, id); problem != "" || err != nil {
		return problem, err
	}
	e, err := loadEnrollment(tx, id)
	if err != nil {
		return "", err
	}
	if e.AssociatedOrg != r.mem.OrgID {
		return "not associated", nil
	}
	// The member keeps Automation enabled for its own rules; only central
	// management ends.
	e.AssociatedOrg, e.RuleMode, e.UpdatedAt = "", string(api.OrganizationRuleModeNoneAllowed), now
	return "", putEnrollment(tx, id, e)
}

// AccountLeftOrganization ends what the account's membership gave it: its
// association with the organization. Organizations calls it inside the
// transaction that removes the account, so both change or neither.
func (s *Service) AccountLeftOrganization(tx store.Tx, orgID, accountID string, how organizations.Departure) error {
	e, err := loadEnrollment(tx, accountID)
	if err != nil {
		return err
	}
	if e.AssociatedOrg != orgID && e.RuleMode == "" {
		return nil
	}
	// A standalone account has no organization rule mode at all.
	e.AssociatedOrg, e.RuleMode, e.UpdatedAt = "", "", s.clock.Now()
	return putEnrollment(tx, accountID, e)
}

// ListAccounts lists the accounts of the caller's organization that have
// an Automation enrollment (they opted in at some point or were
// associated), with their status and organization rule mode, in account
// order.
func (s *Service) ListAccounts(ctx context.Context, in *api.ListAccountsInput) (*api.ListAccountsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListAccountsOutput{Accounts: []api.AccountInfo{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r, err := s.managerFor(tx, p.AccountID, "ListAccounts")
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListAccounts/"+r.mem.OrgID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		found := map[string]*enrollment{}
		var ids []string
		err = store.ScanJSON(tx, bucketEnrollment, "", "", 0, func(id string, e *enrollment) error {
			m, err := organizations.MembershipOf(tx, id)
			if err != nil || m == nil || m.OrgID != r.mem.OrgID {
				return err
			}
			found[id] = e
			ids = append(ids, id)
			return nil
		})
		if err != nil {
			return err
		}
		page, next := pg.window(ids)
		out.NextToken = next
		for _, id := range page {
			e := found[id]
			mode := api.OrganizationRuleModeNoneAllowed
			if e.RuleMode != "" {
				mode = api.OrganizationRuleMode(e.RuleMode)
			}
			info := api.AccountInfo{
				AccountId:            ptr(id),
				Status:               ptr(api.EnrollmentStatus(e.Status)),
				OrganizationRuleMode: ptr(mode),
				LastUpdatedTimestamp: ptr(e.UpdatedAt),
			}
			if e.StatusReason != "" {
				info.StatusReason = ptr(e.StatusReason)
			}
			out.Accounts = append(out.Accounts, info)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
