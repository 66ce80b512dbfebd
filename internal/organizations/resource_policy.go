package organizations

import (
	"context"
	"errors"
	"fmt"
	"time"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/policy"
	"github.com/orgstack/orgstack/internal/store"
)

type principal = auth.Principal

// bucketResourcePolicies holds each organization's one delegation policy.
const bucketResourcePolicies = "org.resource-policies" // org id -> resourcePolicy

type resourcePolicy struct {
	ID        string    `json:"id"`
	Content   string    `json:"content"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func (o *organization) resourcePolicyARN(id string) string {
	return "arn:aws:organizations::" + o.ManagementID + ":resourcepolicy/" + o.ID + "/" + id
}

func (r repo) resourcePolicy(orgID string) (*resourcePolicy, error) {
	rp, err := store.GetJSON[resourcePolicy](r.tx, bucketResourcePolicies, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return rp, err
}

// callerOrgOrNotInUse returns the caller's organization, or
// AWSOrganizationsNotInUseException when it has none.
func (r repo) callerOrgOrNotInUse(accountID string) (*organization, error) {
	org, _, err := r.callerOrg(accountID)
	if err != nil {
		return nil, err
	}
	if org == nil {
		return nil, errNotInUse()
	}
	return org, nil
}

// delegatedReads are the operations of this file set that a delegated
// administrator of any service may call (FACTS §2, from the user guide's
// page on delegated administrators and the model docs).
var delegatedReads = map[string]bool{
	"DescribePolicy": true, "ListPolicies": true, "ListPoliciesForTarget": true,
	"ListTargetsForPolicy": true, "DescribeResourcePolicy": true, "DescribeEffectivePolicy": true,
	"ListAccountsWithInvalidEffectivePolicy": true, "ListEffectivePolicyValidationErrors": true,
}

// authorize decides whether the caller may perform op on the resources
// (ARNs; none for operations on no particular resource): the management
// account always may; a delegated administrator of any service may call
// the read operations; and any member may do what the organization's
// delegation policy allows it, evaluated for every resource with IAM
// semantics and the condition key organizations:PolicyType.
func (r repo) authorize(org *organization, p principal, op string, resources []string, policyType string) error {
	if p.AccountID == org.ManagementID {
		return nil
	}
	if delegatedReads[op] {
		services, err := r.delegatedServices(p.AccountID)
		if err != nil {
			return err
		}
		if len(services) > 0 {
			return nil
		}
	}
	ok, err := r.delegationAllows(org, p, op, resources, policyType)
	if err != nil || ok {
		return err
	}
	return api.NewAccessDeniedException(fmt.Sprintf(
		"You don't have permissions to access this resource: %s needs the management account, a delegated administrator or a grant in the organization's resource policy.", op))
}

// delegationAllows evaluates the organization's delegation policy.
func (r repo) delegationAllows(org *organization, p principal, op string, resources []string, policyType string) (bool, error) {
	rp, err := r.resourcePolicy(org.ID)
	if err != nil || rp == nil {
		return false, err
	}
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	ctx := map[string]string{}
	if policyType != "" {
		ctx["organizations:PolicyType"] = policyType
	}
	arn := p.ARN
	if arn == "" {
		arn = "arn:aws:iam::" + p.AccountID + ":root"
	}
	for _, res := range resources {
		d, err := policy.EvaluateDelegation(rp.Content, policy.Request{
			Action: "organizations:" + op, PrincipalAccount: p.AccountID, PrincipalARN: arn,
			Resource: res, Context: ctx,
		})
		if err != nil {
			return false, fmt.Errorf("resource policy of %s: %w", org.ID, err)
		}
		if d != policy.Allowed {
			return false, nil
		}
	}
	return true, nil
}

// PutResourcePolicy creates or replaces the organization's delegation policy.
func (s *Service) PutResourcePolicy(ctx context.Context, in *api.PutResourcePolicyInput) (*api.PutResourcePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.ResourcePolicy
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managedOrg(p.AccountID, "PutResourcePolicy")
		if err != nil {
			return err
		}
		if err := checkDelegationPolicy(org, *in.Content); err != nil {
			return err
		}
		rp, err := r.resourcePolicy(org.ID)
		if err != nil {
			return err
		}
		if rp == nil {
			q, err := s.quotas(tx)
			if err != nil {
				return err
			}
			if err := validateTags(in.Tags, nil, q.TagsPerResource); err != nil {
				return err
			}
			rp = &resourcePolicy{ID: "rp-" + idgen.String(idgen.LowerAlnum, 8)}
			if err := r.putTags(rp.ID, in.Tags); err != nil {
				return err
			}
		} else if len(in.Tags) > 0 {
			return api.NewInvalidInputException("Tags can be given only when the resource policy is first created; use TagResource to change them.")
		}
		rp.Content, rp.UpdatedAt = *in.Content, s.clock.Now()
		if err := store.PutJSON(tx, bucketResourcePolicies, org.ID, rp); err != nil {
			return err
		}
		out = renderResourcePolicy(org, rp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.PutResourcePolicyOutput{ResourcePolicy: out}, nil
}

// DescribeResourcePolicy returns the organization's delegation policy.
func (s *Service) DescribeResourcePolicy(ctx context.Context, _ *api.DescribeResourcePolicyInput) (*api.DescribeResourcePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.ResourcePolicy
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.callerOrgOrNotInUse(p.AccountID)
		if err != nil {
			return err
		}
		if err := r.authorize(org, p, "DescribeResourcePolicy", nil, ""); err != nil {
			return err
		}
		rp, err := r.resourcePolicy(org.ID)
		if err != nil {
			return err
		}
		if rp == nil {
			return errNoResourcePolicy()
		}
		out = renderResourcePolicy(org, rp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeResourcePolicyOutput{ResourcePolicy: out}, nil
}

// DeleteResourcePolicy deletes the organization's delegation policy and its tags.
func (s *Service) DeleteResourcePolicy(ctx context.Context, _ *api.DeleteResourcePolicyInput) (*api.DeleteResourcePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managedOrg(p.AccountID, "DeleteResourcePolicy")
		if err != nil {
			return err
		}
		rp, err := r.resourcePolicy(org.ID)
		if err != nil {
			return err
		}
		if rp == nil {
			return errNoResourcePolicy()
		}
		if err := r.deleteTags(rp.ID); err != nil {
			return err
		}
		return tx.Delete(bucketResourcePolicies, org.ID)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteResourcePolicyOutput{}, nil
}

func errNoResourcePolicy() error {
	return api.NewResourcePolicyNotFoundException("The organization has no resource policy.")
}

// checkDelegationPolicy validates a delegation policy for the organization.
func checkDelegationPolicy(org *organization, content string) error {
	types := make([]string, 0, len(policyKinds))
	for t := range policyKinds {
		types = append(types, string(t))
	}
	err := policy.ValidateDelegation(content, "arn:aws:organizations::"+org.ManagementID+":", types)
	var de *policy.DelegationError
	if !errors.As(err, &de) {
		return err
	}
	reason := map[policy.DelegationProblem]api.InvalidInputExceptionReason{
		policy.InvalidJSON:           api.InvalidInputExceptionReasonInvalidResourcePolicyJson,
		policy.InvalidPrincipal:      api.InvalidInputExceptionReasonInvalidPrincipal,
		policy.UnsupportedAction:     api.InvalidInputExceptionReasonUnsupportedActionInResourcePolicy,
		policy.UnsupportedResource:   api.InvalidInputExceptionReasonUnsupportedResourceInResourcePolicy,
		policy.UnsupportedPolicyType: api.InvalidInputExceptionReasonUnsupportedPolicyTypeInResourcePolicy,
	}[de.Problem]
	e := api.NewInvalidInputException("The resource policy is not valid: " + de.Reason + ".")
	e.Reason = &reason
	return e
}

func renderResourcePolicy(org *organization, rp *resourcePolicy) *api.ResourcePolicy {
	return &api.ResourcePolicy{
		ResourcePolicySummary: &api.ResourcePolicySummary{Id: ptr(rp.ID), Arn: ptr(org.resourcePolicyARN(rp.ID))},
		Content:               ptr(rp.Content),
	}
}
