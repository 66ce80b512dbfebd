package automation

import (
	"context"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/store"
)

// TagResource adds or replaces tags of a rule at its current revision. A
// change makes a new revision.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceInput) (*api.TagResourceOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, invalid("tags must hold at least one tag.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var out *api.TagResourceOutput
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, "TagResource", in.ClientToken, in, func() (*api.TagResourceOutput, error) {
			return &api.TagResourceOutput{}, changeTags(tx, p.AccountID, *in.ResourceArn, *in.RuleRevision, func(r *rule) (bool, error) {
				changed := false
				if r.Tags == nil {
					r.Tags = map[string]string{}
				}
				for _, t := range in.Tags {
					if v, ok := r.Tags[*t.Key]; !ok || v != *t.Value {
						r.Tags[*t.Key], changed = *t.Value, true
					}
				}
				// TagResource declares no quota error: too many tags is a bad parameter.
				if len(r.Tags) > maxTagsPerRule {
					return false, invalid("The rule would have %d tags; a rule has at most %d.", len(r.Tags), maxTagsPerRule)
				}
				return changed, nil
			}, now)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UntagResource removes tags of a rule at its current revision; keys the
// rule does not have are ignored.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceInput) (*api.UntagResourceOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, invalid("tagKeys must name at least one tag key.")
	}
	for _, k := range in.TagKeys {
		if !tagKeyRE.MatchString(k) {
			return nil, invalid("%q is not a valid tag key.", k)
		}
	}
	var out *api.UntagResourceOutput
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, "UntagResource", in.ClientToken, in, func() (*api.UntagResourceOutput, error) {
			return &api.UntagResourceOutput{}, changeTags(tx, p.AccountID, *in.ResourceArn, *in.RuleRevision, func(r *rule) (bool, error) {
				changed := false
				for _, k := range in.TagKeys {
					if _, ok := r.Tags[k]; ok {
						delete(r.Tags, k)
						changed = true
					}
				}
				return changed, nil
			}, now)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeTags applies change to the rule the ARN names, at the given
// revision, and stores a new revision if the tags changed.
func changeTags(tx store.Tx, accountID, arn string, revision int64, change func(*rule) (bool, error), now time.Time) error {
	req, err := loadRequester(tx, accountID)
	if err != nil {
		return err
	}
	if err := req.requireOptIn(); err != nil {
		return err
	}
	r, err := editableRule(tx, req, arn, revision)
	if err != nil {
		return err
	}
	changed, err := change(r)
	if err != nil || !changed {
		return err
	}
	r.Revision, r.Updated = r.Revision+1, now
	return putRule(tx, r)
}

// ListTagsForResource lists a visible rule's tags in key order.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.ListTagsForResourceOutput
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r, err := visibleRule(tx, p.AccountID, *in.ResourceArn)
		if err != nil {
			return err
		}
		out = &api.ListTagsForResourceOutput{Tags: r.apiTags()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
