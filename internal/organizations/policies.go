package organizations

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/policy"
	"github.com/orgstack/orgstack/internal/store"
)

// rePolicyID is the model's PolicyId pattern, anchored.
var rePolicyID = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)

// CreatePolicy creates a customer managed policy of any type; the type
// need not be enabled yet.
func (s *Service) CreatePolicy(ctx context.Context, in *api.CreatePolicyInput) (*api.CreatePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t := *in.Type
	var out *api.Policy
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.callerOrgOrNotInUse(p.AccountID)
		if err != nil {
			return err
		}
		rec := &policyRecord{
			ID:    "p-" + idgen.String(idgen.LowerAlnum, 10),
			OrgID: org.ID, Name: *in.Name, Description: *in.Description, Type: string(t),
			Content: *in.Content, UpdatedAt: s.clock.Now(),
		}
		if err := r.authorize(org, p, "CreatePolicy", []string{org.policyARN(t, rec.ID)}, string(t)); err != nil {
			return err
		}
		if org.FeatureSet != string(api.OrganizationFeatureSetAll) {
			return api.NewPolicyTypeNotAvailableForOrganizationException(
				"Policies can be used only in an organization with all features enabled.")
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		if err := validateTags(in.Tags, nil, q.TagsPerResource); err != nil {
			return err
		}
		if err := checkPolicyContent(q, t, rec.Content); err != nil {
			return err
		}
		if err := r.checkPolicyName(org, t, rec.Name, ""); err != nil {
			return err
		}
		n, err := r.policyCount(org.ID, t)
		if err != nil {
			return err
		}
		if limit := q.policiesPerOrganization(t); n >= limit {
			return errConstraint(api.ConstraintViolationExceptionReasonPolicyNumberLimitExceeded,
				fmt.Sprintf("The organization already has the maximum of %d policies of type %s.", limit, t))
		}
		if err := r.putPolicy(rec); err != nil {
			return err
		}
		if err := r.putTags(rec.ID, in.Tags); err != nil {
			return err
		}
		out = renderPolicy(viewOf(org, rec))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.CreatePolicyOutput{Policy: out}, nil
}

// DescribePolicy returns a policy with its content.
func (s *Service) DescribePolicy(ctx context.Context, in *api.DescribePolicyInput) (*api.DescribePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Policy
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		_, pv, err := r.policyFor(p, "DescribePolicy", *in.PolicyId)
		if err != nil {
			return err
		}
		out = renderPolicy(pv)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribePolicyOutput{Policy: out}, nil
}

// UpdatePolicy changes a customer policy's name, description or content;
// what is not given stays as it is, and the type never changes.
func (s *Service) UpdatePolicy(ctx context.Context, in *api.UpdatePolicyInput) (*api.UpdatePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Policy
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, pv, err := r.policyFor(p, "UpdatePolicy", *in.PolicyId)
		if err != nil {
			return err
		}
		if pv.AwsManaged {
			return errImmutablePolicy(pv.ID)
		}
		rec := &policyRecord{ID: pv.ID, OrgID: org.ID, Name: pv.Name, Description: pv.Description, Type: string(pv.Type), Content: pv.Content, UpdatedAt: pv.UpdatedAt}
		before := *rec
		if in.Name != nil {
			if err := r.checkPolicyName(org, pv.Type, *in.Name, pv.ID); err != nil {
				return err
			}
			rec.Name = *in.Name
		}
		if in.Description != nil {
			rec.Description = *in.Description
		}
		if in.Content != nil {
			q, err := s.quotas(tx)
			if err != nil {
				return err
			}
			if err := checkPolicyContent(q, pv.Type, *in.Content); err != nil {
				return err
			}
			rec.Content = *in.Content
		}
		// Effective policies show when their policies last changed; an
		// update that changes nothing is not a change.
		if *rec != before {
			rec.UpdatedAt = s.clock.Now()
			if err := r.putPolicy(rec); err != nil {
				return err
			}
		}
		out = renderPolicy(viewOf(org, rec))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdatePolicyOutput{Policy: out}, nil
}

// DeletePolicy deletes a customer policy that is attached nowhere, and its tags.
func (s *Service) DeletePolicy(ctx context.Context, in *api.DeletePolicyInput) (*api.DeletePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, pv, err := r.policyFor(p, "DeletePolicy", *in.PolicyId)
		if err != nil {
			return err
		}
		if pv.AwsManaged {
			return errImmutablePolicy(pv.ID)
		}
		if used, err := r.policyInUse(org.ID, pv.ID); err != nil {
			return err
		} else if used {
			return api.NewPolicyInUseException(fmt.Sprintf("The policy %s is still attached; detach it from every root, OU and account first.", pv.ID))
		}
		return r.deletePolicy(pv, org.ID)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeletePolicyOutput{}, nil
}

// ListPolicies lists the organization's policies of one type, AWS managed
// ones included, in id order.
func (s *Service) ListPolicies(ctx context.Context, in *api.ListPoliciesInput) (*api.ListPoliciesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t := *in.Filter
	out := &api.ListPoliciesOutput{Policies: []api.PolicySummary{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.callerOrgOrNotInUse(p.AccountID)
		if err != nil {
			return err
		}
		if err := r.authorize(org, p, "ListPolicies", nil, string(t)); err != nil {
			return err
		}
		prefix := org.ID + "/" + string(t) + "/"
		pg, err := newPager(tx, "ListPolicies/"+org.ID+"/"+string(t), in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.NextToken, err = pg.scan(tx, bucketPoliciesByType, prefix, func(key string, _ []byte) error {
			pv, err := r.policy(org, strings.TrimPrefix(key, prefix))
			if err != nil {
				return err
			}
			out.Policies = append(out.Policies, *renderPolicy(pv).PolicySummary)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// policyFor authorizes op on a policy and returns it with the organization.
func (r repo) policyFor(p principal, op, policyID string) (*organization, *policyView, error) {
	org, err := r.callerOrgOrNotInUse(p.AccountID)
	if err != nil {
		return nil, nil, err
	}
	pv, err := r.policy(org, policyID)
	var notFound *api.PolicyNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return nil, nil, err
	}
	// A caller who may not act on the policy learns nothing of whether it exists.
	arn, typ := "", ""
	if pv != nil {
		arn, typ = pv.ARN, string(pv.Type)
	} else {
		arn = "arn:aws:organizations::" + org.ManagementID + ":policy/" + org.ID + "/*/" + policyID
	}
	if err := r.authorize(org, p, op, []string{arn}, typ); err != nil {
		return nil, nil, err
	}
	if pv == nil {
		return nil, nil, notFound
	}
	return org, pv, nil
}

// checkPolicyContent checks a document against its type's size limit
// and grammar.
func checkPolicyContent(q Quotas, t api.PolicyType, content string) error {
	if limit := q.policySize(t); policy.Size(content) > limit {
		return errConstraint(api.ConstraintViolationExceptionReasonPolicyContentLimitExceeded,
			fmt.Sprintf("A policy of type %s can be at most %d characters long.", t, limit))
	}
	var err error
	if k := policyKinds[t]; k.authorization {
		err = policy.ValidateIAM(content, k.flavor)
	} else {
		err = policy.ValidateManagement(string(t), content)
	}
	var de *policy.DocumentError
	if errors.As(err, &de) {
		return api.NewMalformedPolicyDocumentException("The policy document is not valid: " + de.Reason + ".")
	}
	return err
}

func (r repo) checkPolicyName(org *organization, t api.PolicyType, name, exceptID string) error {
	taken, err := r.policyNameTaken(org, t, name, exceptID)
	if err != nil {
		return err
	}
	if taken {
		return api.NewDuplicatePolicyException(fmt.Sprintf("A policy of type %s named %q already exists.", t, name))
	}
	return nil
}

func errImmutablePolicy(id string) error {
	e := api.NewInvalidInputException(fmt.Sprintf("The policy %s is managed by AWS and cannot be changed.", id))
	e.Reason = ptr(api.InvalidInputExceptionReasonImmutablePolicy)
	return e
}

func renderPolicy(pv *policyView) *api.Policy {
	return &api.Policy{
		PolicySummary: &api.PolicySummary{
			Id:          ptr(pv.ID),
			Arn:         ptr(pv.ARN),
			Name:        ptr(pv.Name),
			Description: ptr(pv.Description),
			Type:        ptr(pv.Type),
			AwsManaged:  ptr(pv.AwsManaged),
		},
		Content: ptr(pv.Content),
	}
}
