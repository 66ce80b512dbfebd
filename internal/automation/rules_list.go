package automation

import (
	"context"
	"path"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/store"
)

// ListAutomationRules lists the rules the caller can see, in ARN order:
// its own, and its organization's rules as canView allows (all of them for
// a manager, those that apply to it for a member), narrowed by filters.
// Values of one filter are alternatives; filters all apply. Filter values
// may use * and ? wildcards, which their pattern allows.
func (s *Service) ListAutomationRules(ctx context.Context, in *api.ListAutomationRulesInput) (*api.ListAutomationRulesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range in.Filters {
		if len(f.Values) == 0 {
			return nil, invalid("The filter %s needs at least one value.", *f.Name)
		}
		for _, v := range f.Values {
			if !filterValueRE.MatchString(v) {
				return nil, invalid("The filter value %q must be 1 to 255 letters, digits, spaces or - _ . * ?.", v)
			}
		}
	}
	out := &api.ListAutomationRulesOutput{AutomationRules: []api.AutomationRule{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		req, err := loadRequester(tx, p.AccountID)
		if err != nil {
			return err
		}
		if err := req.requireOptIn(); err != nil {
			return err
		}
		pg, err := newPager(tx, "ListAutomationRules/"+p.AccountID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		visible := map[string]*rule{} // by ARN
		add := func(r *rule) error {
			if ok, err := canView(tx, req, r); err != nil || !ok {
				return err
			}
			if matchesFilters(r, in.Filters) {
				visible[r.arn()] = r
			}
			return nil
		}
		own, err := ownedRules(tx, p.AccountID)
		if err != nil {
			return err
		}
		for _, r := range own {
			if err := add(r); err != nil {
				return err
			}
		}
		if req.mem != nil {
			err = tx.Scan(bucketOrgRules, req.mem.OrgID+"/", "", 0, func(key string, _ []byte) error {
				r, err := store.GetJSON[rule](tx, bucketRules, strings.TrimPrefix(key, req.mem.OrgID+"/"))
				if err != nil {
					return err
				}
				return add(r)
			})
			if err != nil {
				return err
			}
		}
		arns := make([]string, 0, len(visible))
		for arn := range visible {
			arns = append(arns, arn)
		}
		page, next := pg.window(arns)
		out.NextToken = next
		for _, arn := range page {
			r := visible[arn]
			out.AutomationRules = append(out.AutomationRules, api.AutomationRule{
				RuleArn:                   ptr(r.arn()),
				RuleId:                    ptr(r.ID),
				Name:                      ptr(r.Name),
				Description:               r.Description,
				RuleType:                  ptr(r.Type),
				RuleRevision:              ptr(r.Revision),
				AccountId:                 ptr(r.Owner),
				OrganizationConfiguration: r.OrgConfig,
				Priority:                  ptr(r.Priority),
				RecommendedActionTypes:    r.ActionTypes,
				Schedule:                  ptr(r.Schedule),
				Status:                    ptr(r.Status),
				CreatedTimestamp:          ptr(r.Created),
				LastUpdatedTimestamp:      ptr(r.Updated),
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// matchesFilters applies every filter to a rule.
func matchesFilters(r *rule, filters []api.Filter) bool {
	for _, f := range filters {
		var attrs []string
		switch *f.Name {
		case api.AutomationRuleFilterNameName:
			attrs = []string{r.Name}
		case api.AutomationRuleFilterNameRecommendedActionType:
			for _, t := range r.ActionTypes {
				attrs = append(attrs, string(t))
			}
		case api.AutomationRuleFilterNameStatus:
			attrs = []string{string(r.Status)}
		case api.AutomationRuleFilterNameRuleType:
			attrs = []string{string(r.Type)}
		case api.AutomationRuleFilterNameOrganizationConfigurationRuleApplyOrder:
			if r.OrgConfig != nil && r.OrgConfig.RuleApplyOrder != nil {
				attrs = []string{string(*r.OrgConfig.RuleApplyOrder)}
			}
		case api.AutomationRuleFilterNameAccountId:
			attrs = []string{r.Owner}
		}
		if !anyMatch(f.Values, attrs) {
			return false
		}
	}
	return true
}

// anyMatch reports whether any attribute matches any of the wildcard
// patterns (* any run of characters, ? one character).
func anyMatch(patterns, attrs []string) bool {
	for _, p := range patterns {
		// The filter-value pattern admits no [ or \, so path.Match sees
		// only * and ? as special; "/" cannot occur in these attributes.
		for _, a := range attrs {
			if ok, _ := path.Match(p, a); ok {
				return true
			}
		}
	}
	return false
}
