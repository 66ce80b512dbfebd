package organizations

import (
	"github.com/orgstack/orgstack/internal/store"
)

// Departure says how an account left its organization.
type Departure string

const (
	DepartureRemoved Departure = "REMOVED" // RemoveAccountFromOrganization
	DepartureLeft    Departure = "LEFT"    // LeaveOrganization
	DepartureClosed  Departure = "CLOSED"  // CloseAccount
)

// MembershipListener is told of every account that leaves an organization,
// inside the transaction that removes it, so that a service keeping
// per-member state (Automation's associations) changes with it or not at
// all. An error aborts the whole change.
type MembershipListener interface {
	AccountLeftOrganization(tx store.Tx, orgID, accountID string, how Departure) error
}
