package organizations

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// readerOrDelegateOrg returns the caller's organization for the read
// operations of this file set: its management account and delegated
// administrators may call them (readerOrg), and so may a member that the
// organization's delegation policy grants op on every one of resources
// (ARNs; none for operations on no particular resource).
func (r repo) readerOrDelegateOrg(p principal, op string, resources grant) (*organization, error) {
	org, err := r.readerOrg(p.AccountID, op)
	var denied *api.AccessDeniedException
	if err == nil || !errors.As(err, &denied) {
		return org, err
	}
	return r.grantedOrg(p, op, resources, err)
}

// grant names what a request acts on, for the delegation policy: the
// resources' ARNs and, for a policy, its type (the condition key
// organizations:PolicyType). nil: no particular resource.
type grant func(*organization) (arns []string, policyType string)

// on is the grant of resources that are not policies.
func on(arns func(*organization) []string) grant {
	return func(o *organization) ([]string, string) { return arns(o), "" }
}

// managerOrDelegateOrg is readerOrDelegateOrg for operations that only the
// management account may call unless the delegation policy grants them.
func (r repo) managerOrDelegateOrg(p principal, op string, resources grant) (*organization, error) {
	org, err := r.managerOrg(p.AccountID, op)
	var denied *api.AccessDeniedException
	if err == nil || !errors.As(err, &denied) {
		return org, err
	}
	return r.grantedOrg(p, op, resources, err)
}

// grantedOrg returns the caller's organization when its delegation policy
// allows op, and denied otherwise.
func (r repo) grantedOrg(p principal, op string, resources grant, denied error) (*organization, error) {
	org, err := r.callerOrgOrNotInUse(p.AccountID)
	if err != nil {
		return nil, err
	}
	var arns []string
	policyType := ""
	if resources != nil {
		arns, policyType = resources(org)
	}
	ok, err := r.delegationAllows(org, p, op, arns, policyType)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, denied
	}
	return org, nil
}

// parentARN is the ARN of a root or OU id of the organization.
func (o *organization) parentARN(id string) string {
	if strings.HasPrefix(id, "ou-") {
		return o.ouARN(id)
	}
	return o.rootARN(id)
}

// ListRoots lists the organization's one root with the policy types
// enabled in it.
func (s *Service) ListRoots(ctx context.Context, in *api.ListRootsInput) (*api.ListRootsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListRootsOutput{Roots: []api.Root{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.readerOrDelegateOrg(p, "ListRoots", nil)
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListRoots/"+org.ID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		// One root per organization: a page always holds it, unless the
		// token says it was already read.
		if pg.after >= org.RootID {
			return nil
		}
		rt, err := r.root(org.RootID)
		if err != nil {
			return fmt.Errorf("root of %s: %w", org.ID, err)
		}
		out.Roots = append(out.Roots, renderRoot(org, rt))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func renderRoot(org *organization, rt *root) api.Root {
	types := make([]api.PolicyTypeSummary, 0, len(rt.PolicyTypes))
	for _, pt := range rt.PolicyTypes {
		types = append(types, api.PolicyTypeSummary{
			Type:   ptr(api.PolicyType(pt.Type)),
			Status: ptr(api.PolicyTypeStatus(pt.Status)),
		})
	}
	return api.Root{
		Id:          ptr(rt.ID),
		Arn:         ptr(org.rootARN(rt.ID)),
		Name:        ptr(rt.Name),
		PolicyTypes: types,
	}
}

// ListChildren lists the accounts or the OUs directly under a parent.
func (s *Service) ListChildren(ctx context.Context, in *api.ListChildrenInput) (*api.ListChildrenOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	parentID, childType := *in.ParentId, string(*in.ChildType)
	if err := checkParentID(parentID); err != nil {
		return nil, err
	}
	out := &api.ListChildrenOutput{Children: []api.Child{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.readerOrDelegateOrg(p, "ListChildren", on(func(o *organization) []string { return []string{o.parentARN(parentID)} }))
		if err != nil {
			return err
		}
		if ok, err := r.parentExists(org.ID, parentID); err != nil {
			return err
		} else if !ok {
			return errParentNotFound(parentID)
		}
		prefix := parentID + "/" + childType + "/"
		pg, err := newPager(tx, "ListChildren/"+prefix, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.NextToken, err = pg.scan(tx, bucketChildren, prefix, func(key string, _ []byte) error {
			out.Children = append(out.Children, api.Child{
				Id:   ptr(strings.TrimPrefix(key, prefix)),
				Type: ptr(api.ChildType(childType)),
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

// ListParents names the one parent (root or OU) of an account or OU.
func (s *Service) ListParents(ctx context.Context, in *api.ListParentsInput) (*api.ListParentsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	childID := *in.ChildId
	if !reAccountID.MatchString(childID) && !reOUID.MatchString(childID) {
		return nil, invalidInput(api.InvalidInputExceptionReasonInvalidPattern,
			"The child id is not an account id (12 digits) or an organizational unit id (ou-…-…).")
	}
	out := &api.ListParentsOutput{Parents: []api.Parent{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.readerOrDelegateOrg(p, "ListParents", on(func(o *organization) []string {
			if strings.HasPrefix(childID, "ou-") {
				return []string{o.ouARN(childID)}
			}
			return []string{o.accountARN(childID)}
		}))
		if err != nil {
			return err
		}
		parentID, err := r.parentOf(org.ID, childID)
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListParents/"+childID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		if pg.after >= parentID {
			return nil
		}
		typ := api.ParentTypeRoot
		if strings.HasPrefix(parentID, "ou-") {
			typ = api.ParentTypeOrganizationalUnit
		}
		out.Parents = append(out.Parents, api.Parent{Id: ptr(parentID), Type: ptr(typ)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parentOf returns the parent of an account or OU of the organization, or
// ChildNotFoundException.
func (r repo) parentOf(orgID, childID string) (string, error) {
	switch {
	case reAccountID.MatchString(childID):
		m, err := r.membership(childID)
		if err != nil {
			return "", err
		}
		if m != nil && m.OrgID == orgID {
			return m.ParentID, nil
		}
	case reOUID.MatchString(childID):
		u, err := r.orgOU(orgID, childID)
		if err != nil {
			return "", err
		}
		if u != nil {
			return u.ParentID, nil
		}
	}
	return "", api.NewChildNotFoundException(fmt.Sprintf("No account or organizational unit %s exists in your organization.", childID))
}

func errParentNotFound(id string) error {
	return api.NewParentNotFoundException(fmt.Sprintf("No root or organizational unit %s exists in your organization.", id))
}

// Anchored id shapes: the model's patterns are not anchored, and AWS
// treats an id of another shape as naming nothing.
var (
	reAccountID = regexp.MustCompile(`^\d{12}$`)
	reRootID    = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	reOUID      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	// Taggable ids that orgstack does not hold (yet): policies, resource
	// policies and responsibility transfers.
	reOtherTaggable = regexp.MustCompile(`^(p-[0-9a-zA-Z_]{8,128}|rp-[0-9a-zA-Z_]{4,128}|rt-[0-9a-zA-Z_]{8,32})$`)
)
