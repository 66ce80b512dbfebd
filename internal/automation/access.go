package automation

import (
	"fmt"
	"slices"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// requester is the calling account as Automation sees it inside one
// transaction: its enrollment and its place in an organization, read from
// the Organizations domain in the same store.
type requester struct {
	id  string
	enr *enrollment
	mem *organizations.Membership // nil for a standalone account
	// manager: the management account of its organization, or the
	// organization's delegated administrator for Compute Optimizer.
	manager bool
	// trusted: Compute Optimizer has trusted access to the organization.
	trusted bool
}

func loadRequester(tx store.Tx, accountID string) (*requester, error) {
	enr, err := loadEnrollment(tx, accountID)
	if err != nil {
		return nil, err
	}
	r := &requester{id: accountID, enr: enr}
	r.mem, err = organizations.MembershipOf(tx, accountID)
	if err != nil || r.mem == nil {
		return r, err
	}
	r.manager, err = isManager(tx, r.mem, accountID)
	if err != nil {
		return nil, err
	}
	r.trusted, err = organizations.TrustedAccessEnabled(tx, r.mem.OrgID, organizations.ComputeOptimizerPrincipal)
	return r, err
}

// isManager reports whether the account manages Automation for the
// organization: its management account, or its delegated administrator
// for Compute Optimizer (Automation has no delegated administrator of its
// own; ../shared/docs/FACTS.md §4).
func isManager(tx store.Tx, mem *organizations.Membership, accountID string) (bool, error) {
	if mem.ManagementAccountID == accountID {
		return true, nil
	}
	das, err := organizations.DelegatedAdministrators(tx, mem.OrgID, organizations.ComputeOptimizerPrincipal)
	if err != nil {
		return false, err
	}
	return slices.Contains(das, accountID), nil
}

// requireOptIn refuses a caller whose account has not enabled Automation.
func (r *requester) requireOptIn() error {
	if r.enr.Status != string(api.EnrollmentStatusActive) {
		return api.NewOptInRequiredException("Your account has not enabled Compute Optimizer Automation; opt in with UpdateEnrollmentConfiguration first.")
	}
	return nil
}

// requireManager refuses a caller that is neither the management account
// nor the delegated administrator, and a manager whose organization has
// not given Compute Optimizer trusted access, without which nothing can be
// managed in member accounts (Compute Optimizer user guide, "Enabling
// Automation for your organization").
func (r *requester) requireManager(op string) error {
	if !r.manager {
		return api.NewNotManagementAccountException(fmt.Sprintf(
			"%s can only be called by an organization's management account or its delegated administrator for Compute Optimizer.", op))
	}
	return r.requireTrusted()
}

func (r *requester) requireTrusted() error {
	if !r.trusted {
		return api.NewAccessDeniedException("Trusted access between AWS Organizations and Compute Optimizer (compute-optimizer.amazonaws.com) is not enabled for your organization.")
	}
	return nil
}
