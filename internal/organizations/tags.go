package organizations

import (
	"context"
	"errors"
	"fmt"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// TagResource adds or overwrites tags on an account, the root or an OU of
// the caller's organization. Delegated administrators get read-only access
// (FACTS §2), so only the management account may tag.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceInput) (*api.TagResourceOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		id := *in.ResourceId
		org, err := r.managerOrDelegateOrg(p, "TagResource", r.taggable(id))
		if err != nil {
			return err
		}
		if err := r.mustTaggable(org, id); err != nil {
			return err
		}
		existing, err := r.tags(id)
		if err != nil {
			return err
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		if err := validateTags(in.Tags, existing, q.TagsPerResource); err != nil {
			return err
		}
		return r.putTags(id, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &api.TagResourceOutput{}, nil
}

// UntagResource removes tags by key; keys the resource lacks are ignored.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceInput) (*api.UntagResourceOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		id := *in.ResourceId
		org, err := r.managerOrDelegateOrg(p, "UntagResource", r.taggable(id))
		if err != nil {
			return err
		}
		if err := r.mustTaggable(org, id); err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			if err := checkSystemTagKey(k); err != nil {
				return err
			}
		}
		for _, k := range in.TagKeys {
			if err := r.deleteTag(id, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagResourceOutput{}, nil
}

// ListTagsForResource lists a resource's tags in key order.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListTagsForResourceOutput{Tags: []api.Tag{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		id := *in.ResourceId
		org, err := r.readerOrDelegateOrg(p, "ListTagsForResource", r.taggable(id))
		if err != nil {
			return err
		}
		if err := r.mustTaggable(org, id); err != nil {
			return err
		}
		// The operation has no MaxResults; pages have the default size.
		pg, err := newPager(tx, "ListTagsForResource/"+id, in.NextToken, nil)
		if err != nil {
			return err
		}
		prefix := id + "/"
		out.NextToken, err = pg.scan(tx, bucketTags, prefix, func(key string, value []byte) error {
			out.Tags = append(out.Tags, api.Tag{Key: ptr(strings.TrimPrefix(key, prefix)), Value: ptr(string(value))})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mustTaggable answers TargetNotFoundException unless id names an account,
// the root, an OU, a policy (AWS managed ones are not the organization's
// to tag), the delegation policy or a responsibility transfer of the
// organization.
func (r repo) mustTaggable(org *organization, id string) error {
	var ok bool
	switch {
	case rePolicyID.MatchString(id):
		if awsManaged(id) == nil {
			pv, err := r.policy(org, id)
			var nf *api.PolicyNotFoundException
			if err != nil && !errors.As(err, &nf) {
				return err
			}
			ok = pv != nil
		}
	case strings.HasPrefix(id, "rp-"):
		rp, err := r.resourcePolicy(org.ID)
		if err != nil {
			return err
		}
		ok = rp != nil && rp.ID == id
	case strings.HasPrefix(id, "rt-"):
		t, err := r.transfer(id)
		if err != nil {
			return err
		}
		ok = t != nil && (t.TargetOrgID == org.ID || t.SourceOrgID == org.ID)
	case reAccountID.MatchString(id):
		m, err := r.membership(id)
		if err != nil {
			return err
		}
		ok = m != nil && m.OrgID == org.ID
	case reRootID.MatchString(id):
		ok = id == org.RootID
	case reOUID.MatchString(id):
		u, err := r.orgOU(org.ID, id)
		if err != nil {
			return err
		}
		ok = u != nil
	case !reOtherTaggable.MatchString(id):
		// The model's pattern is an unanchored alternation; AWS refuses
		// ids that only start like a taggable one.
		return invalidInput(api.InvalidInputExceptionReasonInvalidPattern,
			"The resource id is not the id of an account, root, organizational unit or policy.")
	}
	if !ok {
		return api.NewTargetNotFoundException(fmt.Sprintf("No taggable resource %s exists in your organization.", id))
	}
	return nil
}

// taggable names the resource for the delegation policy: the ARN the
// account, root, OU or policy has (or would have) in the organization, and
// a policy's type.
func (r repo) taggable(id string) grant {
	return func(o *organization) ([]string, string) {
		switch {
		case reAccountID.MatchString(id):
			return []string{o.accountARN(id)}, ""
		case reRootID.MatchString(id):
			return []string{o.rootARN(id)}, ""
		case reOUID.MatchString(id):
			return []string{o.ouARN(id)}, ""
		case rePolicyID.MatchString(id):
			if pv, err := r.policy(o, id); err == nil {
				return []string{pv.ARN}, string(pv.Type)
			}
			return []string{"arn:aws:organizations::" + o.ManagementID + ":policy/" + o.ID + "/*/" + id}, ""
		case strings.HasPrefix(id, "rp-"):
			return []string{o.resourcePolicyARN(id)}, ""
		}
		return nil, ""
	}
}
