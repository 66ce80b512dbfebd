package organizations

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

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
		org, err := r.readerOrg(p.AccountID, "ListRoots")
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
		org, err := r.readerOrg(p.AccountID, "ListChildren")
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
		org, err := r.readerOrg(p.AccountID, "ListParents")
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
