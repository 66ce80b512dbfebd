package organizations

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// policyTarget is a root, OU or account that policies attach to.
type policyTarget struct {
	ID, Name, ARN string
	Type          api.TargetType
}

// target resolves a target id of the organization. The model's
// PolicyTargetId pattern is not anchored, so the shape is checked here.
func (r repo) target(org *organization, id string) (*policyTarget, error) {
	switch {
	case reRootID.MatchString(id):
		if id == org.RootID {
			rt, err := r.root(id)
			if err != nil {
				return nil, err
			}
			return &policyTarget{ID: id, Name: rt.Name, ARN: org.rootARN(id), Type: api.TargetTypeRoot}, nil
		}
	case reOUID.MatchString(id):
		u, err := r.orgOU(org.ID, id)
		if err != nil {
			return nil, err
		}
		if u != nil {
			return &policyTarget{ID: id, Name: u.Name, ARN: org.ouARN(id), Type: api.TargetTypeOrganizationalUnit}, nil
		}
	case reAccountID.MatchString(id):
		m, err := r.membership(id)
		if err != nil {
			return nil, err
		}
		if m != nil && m.OrgID == org.ID {
			a, err := accounts.Get(r.tx, id)
			if err != nil {
				return nil, fmt.Errorf("account %s: %w", id, err)
			}
			return &policyTarget{ID: id, Name: a.Name, ARN: org.accountARN(id), Type: api.TargetTypeAccount}, nil
		}
	default:
		e := api.NewInvalidInputException(fmt.Sprintf("%q is not the id of a root, an organizational unit or an account.", id))
		e.Reason = ptr(api.InvalidInputExceptionReasonInvalidPatternTargetId)
		return nil, e
	}
	return nil, api.NewTargetNotFoundException(fmt.Sprintf("No root, organizational unit or account %s exists in your organization.", id))
}

// targetARNGuess is the ARN a target id would have in the organization,
// for authorizing a request before the target is known to exist.
func targetARNGuess(org *organization, id string) string {
	switch {
	case strings.HasPrefix(id, "r-"):
		return org.rootARN(id)
	case strings.HasPrefix(id, "ou-"):
		return org.ouARN(id)
	}
	return org.accountARN(id)
}

// policyAndTarget authorizes op on a policy and a target and resolves both.
func (r repo) policyAndTarget(p principal, op, policyID, targetID string) (*organization, *policyView, *policyTarget, error) {
	org, err := r.callerOrgOrNotInUse(p.AccountID)
	if err != nil {
		return nil, nil, nil, err
	}
	pv, perr := r.policy(org, policyID)
	var notFound *api.PolicyNotFoundException
	if perr != nil && !errors.As(perr, &notFound) {
		return nil, nil, nil, perr
	}
	arn, typ := "arn:aws:organizations::"+org.ManagementID+":policy/"+org.ID+"/*/"+policyID, ""
	if pv != nil {
		arn, typ = pv.ARN, string(pv.Type)
	}
	if err := r.authorize(org, p, op, []string{arn, targetARNGuess(org, targetID)}, typ); err != nil {
		return nil, nil, nil, err
	}
	if perr != nil {
		return nil, nil, nil, perr
	}
	tg, err := r.target(org, targetID)
	if err != nil {
		return nil, nil, nil, err
	}
	return org, pv, tg, nil
}

// AttachPolicy attaches a policy to a root, OU or account.
func (s *Service) AttachPolicy(ctx context.Context, in *api.AttachPolicyInput) (*api.AttachPolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, pv, tg, err := r.policyAndTarget(p, "AttachPolicy", *in.PolicyId, *in.TargetId)
		if err != nil {
			return err
		}
		rt, err := r.root(org.RootID)
		if err != nil {
			return err
		}
		if !rt.typeEnabled(pv.Type) {
			return api.NewPolicyTypeNotEnabledException(fmt.Sprintf("The policy type %s is not enabled in the root; enable it before attaching its policies.", pv.Type))
		}
		if ok, err := r.attached(tg.ID, pv.Type, pv.ID); err != nil {
			return err
		} else if ok {
			return api.NewDuplicatePolicyAttachmentException(fmt.Sprintf("The policy %s is already attached to %s.", pv.ID, tg.ID))
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		n, err := r.attachmentCount(tg.ID, pv.Type)
		if err != nil {
			return err
		}
		if limit := q.policiesPerTarget(pv.Type); n >= limit {
			return errConstraint(api.ConstraintViolationExceptionReasonMaxPolicyTypeAttachmentLimitExceeded,
				fmt.Sprintf("%s already has the maximum of %d policies of type %s attached.", tg.ID, limit, pv.Type))
		}
		return r.attach(org.ID, pv.ID, pv.Type, tg.ID, s.clock.Now())
	})
	if err != nil {
		return nil, err
	}
	return &api.AttachPolicyOutput{}, nil
}

// DetachPolicy detaches a policy from a target. While SCPs (or RCPs) are
// enabled every target keeps at least one of them, and RCPFullAWSAccess
// cannot be detached at all.
func (s *Service) DetachPolicy(ctx context.Context, in *api.DetachPolicyInput) (*api.DetachPolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, pv, tg, err := r.policyAndTarget(p, "DetachPolicy", *in.PolicyId, *in.TargetId)
		if err != nil {
			return err
		}
		if !pv.Detachable {
			e := api.NewInvalidInputException(fmt.Sprintf("The AWS managed policy %s cannot be detached.", pv.ID))
			e.Reason = ptr(api.InvalidInputExceptionReasonNonDetachablePolicy)
			return e
		}
		if ok, err := r.attached(tg.ID, pv.Type, pv.ID); err != nil {
			return err
		} else if !ok {
			return api.NewPolicyNotAttachedException(fmt.Sprintf("The policy %s is not attached to %s.", pv.ID, tg.ID))
		}
		if min := policyKinds[pv.Type].minPerTarget; min > 0 {
			n, err := r.attachmentCount(tg.ID, pv.Type)
			if err != nil {
				return err
			}
			if n <= min {
				return errConstraint(api.ConstraintViolationExceptionReasonMinPolicyTypeAttachmentLimitExceeded,
					fmt.Sprintf("%s must keep at least %d policy of type %s; attach another before detaching this one.", tg.ID, min, pv.Type))
			}
		}
		if err := r.detach(org.ID, pv.ID, pv.Type, tg.ID); err != nil {
			return err
		}
		return r.markDetached(tg.ID, pv.Type, s.clock.Now())
	})
	if err != nil {
		return nil, err
	}
	return &api.DetachPolicyOutput{}, nil
}

// ListPoliciesForTarget lists the policies of one type attached directly
// to a target, in id order.
func (s *Service) ListPoliciesForTarget(ctx context.Context, in *api.ListPoliciesForTargetInput) (*api.ListPoliciesForTargetOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t := *in.Filter
	out := &api.ListPoliciesForTargetOutput{Policies: []api.PolicySummary{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.callerOrgOrNotInUse(p.AccountID)
		if err != nil {
			return err
		}
		if err := r.authorize(org, p, "ListPoliciesForTarget", []string{targetARNGuess(org, *in.TargetId)}, string(t)); err != nil {
			return err
		}
		tg, err := r.target(org, *in.TargetId)
		if err != nil {
			return err
		}
		prefix := tg.ID + "/" + string(t) + "/"
		pg, err := newPager(tx, "ListPoliciesForTarget/"+tg.ID+"/"+string(t), in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.NextToken, err = pg.scan(tx, bucketAttachments, prefix, func(key string, _ []byte) error {
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

// ListTargetsForPolicy lists the roots, OUs and accounts a policy is
// attached to, in id order.
func (s *Service) ListTargetsForPolicy(ctx context.Context, in *api.ListTargetsForPolicyInput) (*api.ListTargetsForPolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListTargetsForPolicyOutput{Targets: []api.PolicyTargetSummary{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, pv, err := r.policyFor(p, "ListTargetsForPolicy", *in.PolicyId)
		if err != nil {
			return err
		}
		prefix := org.ID + "/" + pv.ID + "/"
		pg, err := newPager(tx, "ListTargetsForPolicy/"+org.ID+"/"+pv.ID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.NextToken, err = pg.scan(tx, bucketPolicyTargets, prefix, func(key string, _ []byte) error {
			tg, err := r.target(org, strings.TrimPrefix(key, prefix))
			if err != nil {
				return fmt.Errorf("target of %s: %w", pv.ID, err)
			}
			out.Targets = append(out.Targets, api.PolicyTargetSummary{
				TargetId: ptr(tg.ID), Arn: ptr(tg.ARN), Name: ptr(tg.Name), Type: ptr(tg.Type),
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
