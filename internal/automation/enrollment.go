package automation

import (
	"context"
	"errors"
	"fmt"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

const (
	bucketEnrollment = "aco.enrollment" // account id -> enrollment
	// bucketAssociated indexes the enrollments by the organization they
	// are associated with ("organization id/account id" -> nothing), so
	// that an organization's members are a range scan rather than a
	// decoding of every enrollment in the store.
	bucketAssociated = "aco.associated"
)

// optInWait is how long an account must wait after opting out before it
// may opt in again (Compute Optimizer user guide, "Disabling Automation";
// ../shared/docs/FACTS.md §6).
const optInWait = 24 * time.Hour

type enrollment struct {
	Status       string    `json:"status"`
	StatusReason string    `json:"statusReason,omitempty"`
	RuleMode     string    `json:"organizationRuleMode,omitempty"`
	UpdatedAt    time.Time `json:"lastUpdated"`
	OptedOutAt   time.Time `json:"optedOutAt,omitzero"`
	// AssociatedOrg is the organization whose management account (or
	// delegated administrator) manages this member's Automation; empty
	// when the account is not associated.
	AssociatedOrg string `json:"associatedOrg,omitempty"`
}

// putEnrollment stores the account's enrollment and keeps the index of
// associations in step with it.
func putEnrollment(tx store.Tx, accountID string, e *enrollment) error {
	prev, err := loadEnrollment(tx, accountID)
	if err != nil {
		return err
	}
	if prev.AssociatedOrg != e.AssociatedOrg {
		if prev.AssociatedOrg != "" {
			if err := tx.Delete(bucketAssociated, associationKey(prev.AssociatedOrg, accountID)); err != nil {
				return err
			}
		}
		if e.AssociatedOrg != "" {
			if err := tx.Put(bucketAssociated, associationKey(e.AssociatedOrg, accountID), []byte{}); err != nil {
				return err
			}
		}
	}
	return store.PutJSON(tx, bucketEnrollment, accountID, e)
}

func associationKey(orgID, accountID string) string { return orgID + "/" + accountID }

// associatedMembers returns the accounts associated with the
// organization, in account order.
func associatedMembers(tx store.Tx, orgID string) ([]string, error) {
	var out []string
	prefix := associationKey(orgID, "")
	err := tx.Scan(bucketAssociated, prefix, "", 0, func(key string, _ []byte) error {
		out = append(out, key[len(prefix):])
		return nil
	})
	return out, err
}

// indexVersion marks, in the shared meta bucket, a store whose index of
// associations is complete: stores written before the index existed get
// it built once, at the first start that needs it.
const (
	bucketMeta      = "meta"
	keyIndexVersion = "aco.index-version"
	indexVersion    = "1"
)

// EnsureIndexes builds the indexes this package keeps beside its records
// if the store predates them. It is cheap when they exist; run it at start
// and in the transaction that resets the store.
func EnsureIndexes(tx store.Tx) error {
	v, err := tx.Get(bucketMeta, keyIndexVersion)
	switch {
	case err == nil && string(v) == indexVersion:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	if _, err := tx.DeletePrefix(bucketAssociated, ""); err != nil {
		return err
	}
	err = store.ScanJSON(tx, bucketEnrollment, "", "", 0, func(id string, e *enrollment) error {
		if e.AssociatedOrg == "" {
			return nil
		}
		return tx.Put(bucketAssociated, associationKey(e.AssociatedOrg, id), []byte{})
	})
	if err != nil {
		return fmt.Errorf("automation: index associations: %w", err)
	}
	return tx.Put(bucketMeta, keyIndexVersion, []byte(indexVersion))
}

// loadEnrollment returns the account's enrollment; an account that never
// opted in is Inactive with no history.
func loadEnrollment(tx store.Tx, accountID string) (*enrollment, error) {
	e, err := store.GetJSON[enrollment](tx, bucketEnrollment, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return &enrollment{Status: string(api.EnrollmentStatusInactive)}, nil
	}
	return e, err
}

// GetEnrollmentConfiguration answers the caller's own enrollment.
func (s *Service) GetEnrollmentConfiguration(ctx context.Context, _ *api.GetEnrollmentConfigurationInput) (*api.GetEnrollmentConfigurationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var e *enrollment
	var member bool
	err = s.store.Read(ctx, func(tx store.Tx) error {
		if e, err = loadEnrollment(tx, p.AccountID); err != nil {
			return err
		}
		m, err := organizations.MembershipOf(tx, p.AccountID)
		member = m != nil
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetEnrollmentConfigurationOutput{Status: ptr(api.EnrollmentStatus(e.Status))}
	if e.StatusReason != "" {
		out.StatusReason = ptr(e.StatusReason)
	}
	switch {
	case e.RuleMode != "":
		out.OrganizationRuleMode = ptr(api.OrganizationRuleMode(e.RuleMode))
	case member:
		// A member no one associated: organization rules may not act on it.
		out.OrganizationRuleMode = ptr(api.OrganizationRuleModeNoneAllowed)
	}
	if !e.UpdatedAt.IsZero() {
		out.LastUpdatedTimestamp = ptr(e.UpdatedAt)
	}
	return out, nil
}

// UpdateEnrollmentConfiguration opts the caller's account in or out.
// Pending and Failed are states the service reports, never ones a caller
// may ask for; opting in again within a day of opting out is refused; an
// associated member must be disassociated before it may opt out; opting
// out deactivates every rule the account owns, and they stay inactive when
// it opts in again.
func (s *Service) UpdateEnrollmentConfiguration(ctx context.Context, in *api.UpdateEnrollmentConfigurationInput) (*api.UpdateEnrollmentConfigurationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	want := *in.Status
	if want != api.EnrollmentStatusActive && want != api.EnrollmentStatusInactive {
		return nil, api.NewInvalidParameterValueException(fmt.Sprintf("The enrollment status %s cannot be requested; use Active or Inactive.", want))
	}
	var out *api.UpdateEnrollmentConfigurationOutput
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, "UpdateEnrollmentConfiguration", in.ClientToken, in, func() (*api.UpdateEnrollmentConfigurationOutput, error) {
			e, err := s.updateEnrollment(tx, now, p.AccountID, want)
			if err != nil {
				return nil, err
			}
			o := &api.UpdateEnrollmentConfigurationOutput{Status: ptr(api.EnrollmentStatus(e.Status))}
			if e.StatusReason != "" {
				o.StatusReason = ptr(e.StatusReason)
			}
			if !e.UpdatedAt.IsZero() {
				o.LastUpdatedTimestamp = ptr(e.UpdatedAt)
			}
			return o, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) updateEnrollment(tx store.Tx, now time.Time, accountID string, want api.EnrollmentStatus) (*enrollment, error) {
	e, err := loadEnrollment(tx, accountID)
	if err != nil {
		return nil, err
	}
	if e.Status == string(want) {
		return e, nil // already there: nothing changes, not even the timestamp
	}
	switch want {
	case api.EnrollmentStatusActive:
		if !e.OptedOutAt.IsZero() && now.Before(e.OptedOutAt.Add(optInWait)) {
			return nil, api.NewInvalidParameterValueException(fmt.Sprintf(
				"The account opted out at %s and can opt in again 24 hours later, at %s.",
				e.OptedOutAt.Format(time.RFC3339), e.OptedOutAt.Add(optInWait).Format(time.RFC3339)))
		}
	case api.EnrollmentStatusInactive:
		if e.AssociatedOrg != "" {
			managed, err := centrallyManaged(tx, accountID)
			if err != nil {
				return nil, err
			}
			// The member's administrator decides; AWS's documentation tells
			// the member to ask it, so the member is denied.
			if managed {
				return nil, api.NewAccessDeniedException("Your account is associated with your organization's management account; it must be disassociated (DisassociateAccounts) before it can disable Automation.")
			}
			// While the management account itself has opted out, the
			// association is dormant and the member may leave it by
			// opting out; it is not restored when the management account
			// opts in again (Compute Optimizer user guide, "Disabling
			// Automation").
			e.AssociatedOrg, e.RuleMode = "", string(api.OrganizationRuleModeNoneAllowed)
		}
		if err := deactivateRules(tx, now, accountID); err != nil {
			return nil, err
		}
		e.OptedOutAt = now
	}
	e.Status, e.StatusReason, e.UpdatedAt = string(want), "", now
	return e, putEnrollment(tx, accountID, e)
}

// centrallyManaged reports whether the account's organization currently
// manages its Automation: the management account has Automation enabled.
func centrallyManaged(tx store.Tx, accountID string) (bool, error) {
	m, err := organizations.MembershipOf(tx, accountID)
	if err != nil || m == nil {
		return false, err
	}
	mgmt, err := loadEnrollment(tx, m.ManagementAccountID)
	if err != nil {
		return false, err
	}
	return mgmt.Status == string(api.EnrollmentStatusActive), nil
}
