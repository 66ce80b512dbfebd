package automation

import (
	"context"
	"errors"
	"fmt"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/store"
)

const bucketEnrollment = "aco.enrollment" // account id -> enrollment

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
	err = s.store.Read(ctx, func(tx store.Tx) error {
		e, err = loadEnrollment(tx, p.AccountID)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetEnrollmentConfigurationOutput{Status: ptr(api.EnrollmentStatus(e.Status))}
	if e.StatusReason != "" {
		out.StatusReason = ptr(e.StatusReason)
	}
	if e.RuleMode != "" {
		out.OrganizationRuleMode = ptr(api.OrganizationRuleMode(e.RuleMode))
	}
	if !e.UpdatedAt.IsZero() {
		out.LastUpdatedTimestamp = ptr(e.UpdatedAt)
	}
	return out, nil
}

// UpdateEnrollmentConfiguration opts the caller's account in or out.
// Pending and Failed are states the service reports, never ones a caller
// may ask for; opting in again within a day of opting out is refused.
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
	var e *enrollment
	err = s.store.Write(ctx, func(tx store.Tx) error {
		e, err = loadEnrollment(tx, p.AccountID)
		if err != nil {
			return err
		}
		if e.Status == string(want) {
			return nil // already there: nothing changes, not even the timestamp
		}
		now := s.clock.Now()
		if want == api.EnrollmentStatusActive && !e.OptedOutAt.IsZero() && now.Before(e.OptedOutAt.Add(optInWait)) {
			return api.NewInvalidParameterValueException(fmt.Sprintf(
				"The account opted out at %s and can opt in again 24 hours later, at %s.",
				e.OptedOutAt.Format(time.RFC3339), e.OptedOutAt.Add(optInWait).Format(time.RFC3339)))
		}
		e.Status, e.StatusReason, e.UpdatedAt = string(want), "", now
		if want == api.EnrollmentStatusInactive {
			e.OptedOutAt = now
		}
		return store.PutJSON(tx, bucketEnrollment, p.AccountID, e)
	})
	if err != nil {
		return nil, err
	}
	out := &api.UpdateEnrollmentConfigurationOutput{Status: ptr(api.EnrollmentStatus(e.Status))}
	if !e.UpdatedAt.IsZero() {
		out.LastUpdatedTimestamp = ptr(e.UpdatedAt)
	}
	return out, nil
}
