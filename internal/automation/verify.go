package automation

import (
	"fmt"
	"sort"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// Verify reads every enrollment in tx and returns each one that
// contradicts the organizations: an account may be under central
// management (associated, organizationRuleMode AnyAllowed) only while it
// is a member of the organization that manages it, and only with
// Automation enabled. Tests that race or crash a server call it; nothing
// in the request path does.
func Verify(tx store.Tx) ([]string, error) {
	var problems []string
	err := store.ScanJSON(tx, bucketEnrollment, "", "", 0, func(id string, e *enrollment) error {
		associated := e.AssociatedOrg != ""
		if associated != (e.RuleMode == string(api.OrganizationRuleModeAnyAllowed)) {
			problems = append(problems, fmt.Sprintf("%s is associated with %q but its organization rule mode is %q", id, e.AssociatedOrg, e.RuleMode))
		}
		if !associated {
			return nil
		}
		if e.Status != string(api.EnrollmentStatusActive) {
			problems = append(problems, fmt.Sprintf("%s is associated with %s but its Automation status is %s", id, e.AssociatedOrg, e.Status))
		}
		m, err := organizations.MembershipOf(tx, id)
		if err != nil {
			return err
		}
		if m == nil || m.OrgID != e.AssociatedOrg {
			problems = append(problems, fmt.Sprintf("%s is associated with %s, which it is no member of", id, e.AssociatedOrg))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("automation: verify: %w", err)
	}
	sort.Strings(problems)
	return problems, nil
}
