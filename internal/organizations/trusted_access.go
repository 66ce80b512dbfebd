package organizations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// servicePrincipal is what orgstack knows of an AWS service that integrates
// with Organizations.
type servicePrincipal struct {
	// Delegation: the service accepts a delegated administrator.
	Delegation bool
	// MaxDelegates is the number of delegated administrators the service
	// accepts per organization; 0 means no documented limit.
	MaxDelegates int
}

// ComputeOptimizerPrincipal is the service principal whose trusted access
// and delegated administrator Compute Optimizer (and its Automation
// feature) rely on.
const ComputeOptimizerPrincipal = "compute-optimizer.amazonaws.com"

// servicePrincipals is the one table of services orgstack recognises, from
// AWS's "services that you can use with Organizations" page as collected in
// ../shared/docs/FACTS.md §4. Only compute-optimizer's limit of one
// delegated administrator is documented (Compute Optimizer user guide,
// "Delegating an administrator account"); the delegation column of the
// other rows is unconfirmed and their limits unknown, so they have none.
var servicePrincipals = func() map[string]servicePrincipal {
	m := map[string]servicePrincipal{
		"account.amazonaws.com":   {Delegation: true},
		ComputeOptimizerPrincipal: {Delegation: true, MaxDelegates: 1},
	}
	trustedOnly := []string{
		"aws-artifact-account-sync", "controltower", "ds", "ram", "servicequotas", "tagpolicies.tag",
	}
	delegating := []string{
		"access-analyzer", "auditmanager", "backup", "cloudtrail", "config",
		"config-multiaccountsetup", "cost-optimization-hub.bcm", "detective", "devops-guru",
		"fms", "guardduty", "malware-protection.guardduty", "health", "inspector2",
		"license-manager", "license-manager.member-account", "macie",
		"member.org.stacksets.cloudformation", "networkmanager", "resource-explorer-2",
		"securityhub", "securitylake", "security-ir", "servicecatalog", "ssm", "sso",
		"storage-lens.s3", "notifications", "reporting.trustedadvisor", "wellarchitected",
		"ipam", "reachabilityanalyzer.networkinsights", "iam", "mgn",
	}
	for _, s := range trustedOnly {
		m[s+".amazonaws.com"] = servicePrincipal{}
	}
	for _, s := range delegating {
		m[s+".amazonaws.com"] = servicePrincipal{Delegation: true}
	}
	return m
}()

// lookupPrincipal returns the service behind a principal, or the
// InvalidInputException AWS answers for one it does not recognise.
func lookupPrincipal(name string) (servicePrincipal, error) {
	sp, ok := servicePrincipals[name]
	if !ok {
		e := api.NewInvalidInputException(fmt.Sprintf("%q is not the service principal of a service that integrates with Organizations.", name))
		e.Reason = ptr(api.InvalidInputExceptionReasonUnrecognizedServicePrincipal)
		return servicePrincipal{}, e
	}
	return sp, nil
}

// EnableAWSServiceAccess gives a service trusted access to the caller's
// organization. Enabling it again changes nothing.
func (s *Service) EnableAWSServiceAccess(ctx context.Context, in *api.EnableAWSServiceAccessInput) (*api.EnableAWSServiceAccessOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managedOrg(p.AccountID, "EnableAWSServiceAccess")
		if err != nil {
			return err
		}
		if _, err := lookupPrincipal(*in.ServicePrincipal); err != nil {
			return err
		}
		// Trusted access is an all-features capability.
		if org.FeatureSet != string(api.OrganizationFeatureSetAll) {
			e := api.NewConstraintViolationException("Trusted access needs an organization with all features enabled.")
			e.Reason = ptr(api.ConstraintViolationExceptionReasonOrganizationNotInAllFeaturesMode)
			return e
		}
		if on, err := r.trustedAccess(org.ID, *in.ServicePrincipal); err != nil || on {
			return err
		}
		return store.PutJSON(tx, bucketTrustedServices, org.ID+"/"+*in.ServicePrincipal, &trustedService{
			OrgID: org.ID, ServicePrincipal: *in.ServicePrincipal, Enabled: s.clock.Now(),
		})
	})
	if err != nil {
		return nil, err
	}
	return &api.EnableAWSServiceAccessOutput{}, nil
}

// DisableAWSServiceAccess withdraws a service's trusted access. Its
// delegated administrators stay registered, as in AWS, where the service
// itself decides what to clean up.
func (s *Service) DisableAWSServiceAccess(ctx context.Context, in *api.DisableAWSServiceAccessInput) (*api.DisableAWSServiceAccessOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		org, err := repo{tx}.managedOrg(p.AccountID, "DisableAWSServiceAccess")
		if err != nil {
			return err
		}
		if _, err := lookupPrincipal(*in.ServicePrincipal); err != nil {
			return err
		}
		if err := (repo{tx}).checkNoPolicyTypeNeeds(org, *in.ServicePrincipal); err != nil {
			return err
		}
		return tx.Delete(bucketTrustedServices, org.ID+"/"+*in.ServicePrincipal)
	})
	if err != nil {
		return nil, err
	}
	return &api.DisableAWSServiceAccessOutput{}, nil
}

// ListAWSServiceAccessForOrganization lists the services with trusted
// access, in principal order.
func (s *Service) ListAWSServiceAccessForOrganization(ctx context.Context, in *api.ListAWSServiceAccessForOrganizationInput) (*api.ListAWSServiceAccessForOrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListAWSServiceAccessForOrganizationOutput{EnabledServicePrincipals: []api.EnabledServicePrincipal{}}
	// A Read: the token-signing key exists from the start.
	err = s.store.Read(ctx, func(tx store.Tx) error {
		org, err := repo{tx}.orgForReader(p.AccountID, "ListAWSServiceAccessForOrganization")
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListAWSServiceAccessForOrganization/"+org.ID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.NextToken, err = pg.scan(tx, bucketTrustedServices, org.ID+"/", func(key string, value []byte) error {
			var ts trustedService
			if err := json.Unmarshal(value, &ts); err != nil {
				return fmt.Errorf("organizations: decode trusted service %s: %w", key, err)
			}
			out.EnabledServicePrincipals = append(out.EnabledServicePrincipals, api.EnabledServicePrincipal{
				ServicePrincipal: ptr(ts.ServicePrincipal),
				DateEnabled:      ptr(ts.Enabled),
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

// managedOrg returns the organization the caller manages, or the error AWS
// answers a caller outside any organization or one that is only a member.
func (r repo) managedOrg(accountID, op string) (*organization, error) {
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

// orgForReader returns the caller's organization when the caller may read
// its delegation data: the management account, or a member that is a
// delegated administrator of any service.
func (r repo) orgForReader(accountID, op string) (*organization, error) {
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
		return nil, api.NewAccessDeniedException(fmt.Sprintf(
			"You don't have permissions to access this resource: %s can only be called by the management account or a delegated administrator.", op))
	}
	return org, nil
}

// trimKeyPrefix is strings.TrimPrefix with a check, for index keys whose
// prefix a scan guarantees.
func trimKeyPrefix(key, prefix string) (string, error) {
	if !strings.HasPrefix(key, prefix) {
		return "", errors.New("organizations: index key " + key + " lacks prefix " + prefix)
	}
	return key[len(prefix):], nil
}
