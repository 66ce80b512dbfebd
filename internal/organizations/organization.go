package organizations

import (
	"context"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// CreateOrganization makes the caller's account the management account of a
// new organization with one root. With all features (the default), service
// control policies start enabled in the root, as AWS enables them.
func (s *Service) CreateOrganization(ctx context.Context, in *api.CreateOrganizationInput) (*api.CreateOrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	featureSet := api.OrganizationFeatureSetAll
	if in.FeatureSet != nil {
		featureSet = *in.FeatureSet
	}
	var out *api.Organization
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		acct, err := accounts.Ensure(tx, p.AccountID, now)
		if err != nil {
			return err
		}
		if m, err := r.membership(acct.ID); err != nil {
			return err
		} else if m != nil {
			return api.NewAlreadyInOrganizationException("The account is already a member of an organization.")
		}
		org := &organization{
			ID:           "o-" + idgen.String(idgen.LowerAlnum, 10),
			FeatureSet:   string(featureSet),
			ManagementID: acct.ID,
			RootID:       "r-" + idgen.String(idgen.LowerAlnum, 4),
			CreatedAt:    now,
		}
		rt := &root{ID: org.RootID, OrgID: org.ID, Name: "Root", PolicyTypes: []policyTypeState{}}
		if featureSet == api.OrganizationFeatureSetAll {
			rt.PolicyTypes = append(rt.PolicyTypes, policyTypeState{
				Type:   string(api.PolicyTypeServiceControlPolicy),
				Status: string(api.PolicyTypeStatusEnabled),
			})
		}
		// The management account joins its own organization the way AWS
		// records it: by invitation, at creation time.
		mgmt := &member{
			AccountID:    acct.ID,
			OrgID:        org.ID,
			ParentID:     rt.ID,
			Status:       string(api.AccountStatusActive),
			JoinedMethod: string(api.AccountJoinedMethodInvited),
			JoinedAt:     now,
		}
		if err := r.createOrg(org); err != nil {
			return err
		}
		if err := r.putRoot(rt); err != nil {
			return err
		}
		if err := r.addMember(mgmt); err != nil {
			return err
		}
		// With SCPs enabled, FullAWSAccess starts on the root and the
		// management account, as AWS attaches it.
		for _, target := range []string{rt.ID, mgmt.AccountID} {
			if err := s.attachDefaultPolicies(r, org.ID, target); err != nil {
				return err
			}
		}
		out = describe(org, rt, acct)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateOrganizationOutput{Organization: out}, nil
}

// DescribeOrganization answers any account of the organization.
func (s *Service) DescribeOrganization(ctx context.Context, _ *api.DescribeOrganizationInput) (*api.DescribeOrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Organization
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, _, err := r.callerOrg(p.AccountID)
		if err != nil {
			return err
		}
		if org == nil {
			return errNotInUse()
		}
		rt, err := r.root(org.RootID)
		if err != nil {
			return err
		}
		mgmt, err := accounts.Get(tx, org.ManagementID)
		if err != nil {
			return err
		}
		out = describe(org, rt, mgmt)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeOrganizationOutput{Organization: out}, nil
}

// DeleteOrganization removes an organization that has no member accounts
// left; only its management account may do so.
func (s *Service) DeleteOrganization(ctx context.Context, _ *api.DeleteOrganizationInput) (*api.DeleteOrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, m, err := r.callerOrg(p.AccountID)
		if err != nil {
			return err
		}
		if org == nil {
			return errNotInUse()
		}
		if org.ManagementID != p.AccountID {
			return errManagementOnly("DeleteOrganization")
		}
		n, err := r.memberCount(org.ID)
		if err != nil {
			return err
		}
		if n > 1 {
			return api.NewOrganizationNotEmptyException("The organization still has member accounts; remove every account except the management account first.")
		}
		if err := r.checkNoOpenTransfers(org.ManagementID, s.clock.Now()); err != nil {
			return err
		}
		if err := r.deleteOrgPolicies(org); err != nil {
			return err
		}
		return s.deleteOrganization(r, org, m)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteOrganizationOutput{}, nil
}

// deleteOrganization removes an organization that has only its
// management account left, and everything it owns: OUs and their tags,
// the root and its tags, handshakes, CreateAccount records, closure
// records, trusted services and delegated administrators. The management
// account departs the way AWS logs it (LEFT) and stays in the universe.
func (s *Service) deleteOrganization(r repo, org *organization, mgmt *member) error {
	ous, err := r.orgOUIDs(org.ID)
	if err != nil {
		return err
	}
	for _, id := range ous {
		u, err := r.ou(id)
		if err != nil {
			return err
		}
		if err := r.deleteOU(u); err != nil {
			return err
		}
	}
	if err := r.deleteHandshakesOfOrg(org.ID); err != nil {
		return err
	}
	if err := r.deleteCreateRequestsOfOrg(org.ID); err != nil {
		return err
	}
	for _, b := range []string{bucketClosing, bucketClosures, bucketTrustedServices, bucketCounts} {
		if _, err := r.tx.DeletePrefix(b, org.ID+"/"); err != nil {
			return err
		}
	}
	if err := r.deleteTags(org.RootID); err != nil {
		return err
	}
	if err := s.depart(r, org, mgmt, DepartureLeft); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketRoots, org.RootID); err != nil {
		return err
	}
	return r.tx.Delete(bucketOrgs, org.ID)
}

// describe renders an organization as the API shows it. The deprecated
// AvailablePolicyTypes still lists the root's policy types, as AWS does.
func describe(org *organization, rt *root, mgmt *accounts.Account) *api.Organization {
	types := make([]api.PolicyTypeSummary, 0, len(rt.PolicyTypes))
	for _, pt := range rt.PolicyTypes {
		types = append(types, api.PolicyTypeSummary{
			Type:   ptr(api.PolicyType(pt.Type)),
			Status: ptr(api.PolicyTypeStatus(pt.Status)),
		})
	}
	return &api.Organization{
		Id:                   ptr(org.ID),
		Arn:                  ptr(org.arn()),
		FeatureSet:           ptr(api.OrganizationFeatureSet(org.FeatureSet)),
		MasterAccountArn:     ptr(org.accountARN(org.ManagementID)),
		MasterAccountId:      ptr(org.ManagementID),
		MasterAccountEmail:   ptr(mgmt.Email),
		AvailablePolicyTypes: types,
	}
}
