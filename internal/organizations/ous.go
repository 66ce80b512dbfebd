package organizations

import (
	"context"
	"fmt"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// CreateOrganizationalUnit makes an OU under the root or another OU.
func (s *Service) CreateOrganizationalUnit(ctx context.Context, in *api.CreateOrganizationalUnitInput) (*api.CreateOrganizationalUnitOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	parentID, name := *in.ParentId, *in.Name
	if err := checkParentID(parentID); err != nil {
		return nil, err
	}
	var out *api.OrganizationalUnit
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managerOrg(p.AccountID, "CreateOrganizationalUnit")
		if err != nil {
			return err
		}
		if ok, err := r.parentExists(org.ID, parentID); err != nil {
			return err
		} else if !ok {
			return errParentNotFound(parentID)
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		if err := validateTags(in.Tags, nil, q.TagsPerResource); err != nil {
			return err
		}
		depth, err := r.ouDepth(org.ID, parentID)
		if err != nil {
			return err
		}
		if depth+1 > q.OUDepth {
			return errConstraint(api.ConstraintViolationExceptionReasonOuDepthLimitExceeded,
				fmt.Sprintf("An organizational unit can be nested at most %d levels below the root.", q.OUDepth))
		}
		n, err := r.ouCount(org.ID)
		if err != nil {
			return err
		}
		if n >= q.OUsPerOrganization {
			return errConstraint(api.ConstraintViolationExceptionReasonOuNumberLimitExceeded,
				fmt.Sprintf("The organization already has the maximum of %d organizational units.", q.OUsPerOrganization))
		}
		if err := r.checkOUName(parentID, name, ""); err != nil {
			return err
		}
		u := &ou{
			// AWS embeds the root's suffix: ou-<root>-<8 or more characters>.
			ID:       "ou-" + strings.TrimPrefix(org.RootID, "r-") + "-" + idgen.String(idgen.LowerAlnum, 8),
			OrgID:    org.ID,
			ParentID: parentID,
			Name:     name,
		}
		if err := r.createOU(u); err != nil {
			return err
		}
		if err := s.attachDefaultPolicies(r, org.ID, u.ID); err != nil {
			return err
		}
		if err := r.putTags(u.ID, in.Tags); err != nil {
			return err
		}
		out, err = r.renderOU(org, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateOrganizationalUnitOutput{OrganizationalUnit: out}, nil
}

// DescribeOrganizationalUnit answers the management account and delegated
// administrators.
func (s *Service) DescribeOrganizationalUnit(ctx context.Context, in *api.DescribeOrganizationalUnitInput) (*api.DescribeOrganizationalUnitOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.OrganizationalUnit
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		id := *in.OrganizationalUnitId
		org, err := r.readerOrDelegateOrg(p, "DescribeOrganizationalUnit", on(func(o *organization) []string { return []string{o.ouARN(id)} }))
		if err != nil {
			return err
		}
		u, err := r.mustOU(org.ID, *in.OrganizationalUnitId)
		if err != nil {
			return err
		}
		out, err = r.renderOU(org, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeOrganizationalUnitOutput{OrganizationalUnit: out}, nil
}

// UpdateOrganizationalUnit renames an OU; without a Name it changes nothing.
func (s *Service) UpdateOrganizationalUnit(ctx context.Context, in *api.UpdateOrganizationalUnitInput) (*api.UpdateOrganizationalUnitOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.OrganizationalUnit
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managerOrg(p.AccountID, "UpdateOrganizationalUnit")
		if err != nil {
			return err
		}
		u, err := r.mustOU(org.ID, *in.OrganizationalUnitId)
		if err != nil {
			return err
		}
		if in.Name != nil && *in.Name != u.Name {
			if err := r.checkOUName(u.ParentID, *in.Name, u.ID); err != nil {
				return err
			}
			old := u.Name
			u.Name = *in.Name
			if err := r.renameOU(u, old); err != nil {
				return err
			}
		}
		out, err = r.renderOU(org, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateOrganizationalUnitOutput{OrganizationalUnit: out}, nil
}

// DeleteOrganizationalUnit deletes an empty OU with its tags.
func (s *Service) DeleteOrganizationalUnit(ctx context.Context, in *api.DeleteOrganizationalUnitInput) (*api.DeleteOrganizationalUnitOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managerOrg(p.AccountID, "DeleteOrganizationalUnit")
		if err != nil {
			return err
		}
		u, err := r.mustOU(org.ID, *in.OrganizationalUnitId)
		if err != nil {
			return err
		}
		if busy, err := r.hasChildren(u.ID); err != nil {
			return err
		} else if busy {
			return api.NewOrganizationalUnitNotEmptyException("The organizational unit still contains accounts or organizational units; move or delete them first.")
		}
		// deleteOU takes its tags and policy attachments with it.
		return r.deleteOU(u)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteOrganizationalUnitOutput{}, nil
}

// ListOrganizationalUnitsForParent lists the OUs directly under a parent.
func (s *Service) ListOrganizationalUnitsForParent(ctx context.Context, in *api.ListOrganizationalUnitsForParentInput) (*api.ListOrganizationalUnitsForParentOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	parentID := *in.ParentId
	if err := checkParentID(parentID); err != nil {
		return nil, err
	}
	out := &api.ListOrganizationalUnitsForParentOutput{OrganizationalUnits: []api.OrganizationalUnit{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.readerOrDelegateOrg(p, "ListOrganizationalUnitsForParent", on(func(o *organization) []string { return []string{o.parentARN(parentID)} }))
		if err != nil {
			return err
		}
		if ok, err := r.parentExists(org.ID, parentID); err != nil {
			return err
		} else if !ok {
			return errParentNotFound(parentID)
		}
		prefix := childKey(parentID, childOU, "")
		pg, err := newPager(tx, "ListOrganizationalUnitsForParent/"+parentID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.NextToken, err = pg.scan(tx, bucketChildren, prefix, func(key string, _ []byte) error {
			u, err := r.ou(strings.TrimPrefix(key, prefix))
			if err != nil {
				return fmt.Errorf("OU under %s: %w", parentID, err)
			}
			v, err := r.renderOU(org, u)
			if err != nil {
				return err
			}
			out.OrganizationalUnits = append(out.OrganizationalUnits, *v)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mustOU returns the organization's OU or OrganizationalUnitNotFoundException.
func (r repo) mustOU(orgID, id string) (*ou, error) {
	u, err := r.orgOU(orgID, id)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, api.NewOrganizationalUnitNotFoundException(fmt.Sprintf("No organizational unit %s exists in your organization.", id))
	}
	return u, nil
}

// checkOUName refuses a name that a sibling OU (other than self) already has.
func (r repo) checkOUName(parentID, name, self string) error {
	id, err := r.ouWithName(parentID, name)
	if err != nil {
		return fmt.Errorf("OU under %s: %w", parentID, err)
	}
	if id != "" && id != self {
		return api.NewDuplicateOrganizationalUnitException("An organizational unit with that name already exists under this parent.")
	}
	return nil
}

// ouDepth is how many OUs deep the parent sits: 0 for the root.
func (r repo) ouDepth(orgID, parentID string) (int, error) {
	depth := 0
	for id := parentID; strings.HasPrefix(id, "ou-"); depth++ {
		u, err := r.ou(id)
		if err != nil {
			return 0, fmt.Errorf("OU %s of %s: %w", id, orgID, err)
		}
		id = u.ParentID
	}
	return depth, nil
}

// ouPath is the OU's place in the tree as AWS writes it:
// o-…/r-…/ou-…/ou-…/ with a trailing slash.
func (r repo) ouPath(org *organization, u *ou) (string, error) {
	ids := []string{u.ID}
	for id := u.ParentID; strings.HasPrefix(id, "ou-"); {
		p, err := r.ou(id)
		if err != nil {
			return "", fmt.Errorf("OU %s: %w", id, err)
		}
		ids = append(ids, p.ID)
		id = p.ParentID
	}
	var b strings.Builder
	b.WriteString(org.ID + "/" + org.RootID + "/")
	for i := len(ids) - 1; i >= 0; i-- {
		b.WriteString(ids[i] + "/")
	}
	return b.String(), nil
}

func (r repo) renderOU(org *organization, u *ou) (*api.OrganizationalUnit, error) {
	path, err := r.ouPath(org, u)
	if err != nil {
		return nil, err
	}
	return &api.OrganizationalUnit{
		Id:   ptr(u.ID),
		Arn:  ptr(org.ouARN(u.ID)),
		Name: ptr(u.Name),
		Path: ptr(path),
	}, nil
}

func errConstraint(reason api.ConstraintViolationExceptionReason, msg string) error {
	e := api.NewConstraintViolationException(msg)
	e.Reason = ptr(reason)
	return e
}
