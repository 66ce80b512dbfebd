package organizations

import (
	"github.com/orgstack/orgstack/internal/store"
)

// Membership is what other services may read of an account's place in an
// organization, inside their own transaction (Automation decides who may
// manage whom from it).
type Membership struct {
	OrgID               string
	ManagementAccountID string
	Status              string // ACTIVE, SUSPENDED, PENDING_CLOSURE
}

// MembershipOf returns the account's membership, or nil when the account
// belongs to no organization.
func MembershipOf(tx store.Tx, accountID string) (*Membership, error) {
	r := repo{tx}
	org, m, err := r.callerOrg(accountID)
	if err != nil || org == nil {
		return nil, err
	}
	return &Membership{OrgID: org.ID, ManagementAccountID: org.ManagementID, Status: m.Status}, nil
}

// DelegatedAdministrators returns the accounts registered as delegated
// administrator of the service principal in the organization.
func DelegatedAdministrators(tx store.Tx, orgID, servicePrincipal string) ([]string, error) {
	ds, err := repo{tx}.delegatesOf(orgID, servicePrincipal)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.AccountID
	}
	return ids, nil
}

// TrustedAccessEnabled reports whether the service principal has trusted
// access to the organization.
func TrustedAccessEnabled(tx store.Tx, orgID, servicePrincipal string) (bool, error) {
	return repo{tx}.trustedAccess(orgID, servicePrincipal)
}
