package automation

import (
	"context"
	"slices"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/store"
)

// A preview shows the recommended actions that a rule with the given
// configuration would act on if it ran now: actions of the given types
// that meet the criteria, on the accounts the rule would reach (its
// owner's for an account rule; for an organization rule the associated
// members that allow organization rules, narrowed to the scope's
// accounts). Like a new rule, which starts at the top of the order, it is
// not held back by the caller's other rules.

type previewConfig struct {
	ruleType api.RuleType
	scope    *api.OrganizationScope
	types    []api.RecommendedActionType
	criteria *api.Criteria
}

func checkPreview(c previewConfig) error {
	if err := checkActionTypes(c.types); err != nil {
		return err
	}
	if err := checkCriteria(c.criteria); err != nil {
		return err
	}
	if c.ruleType == api.RuleTypeAccountRule && c.scope != nil {
		return invalid("An AccountRule has no organizationScope; it previews your own account.")
	}
	if c.scope != nil {
		for _, id := range c.scope.AccountIds {
			if !accountIDRE.MatchString(id) {
				return invalid("organizationScope.accountIds: %q is not a 12-digit account id.", id)
			}
		}
	}
	return nil
}

// previewAccounts are the accounts a rule of this configuration reaches,
// walked from the index of associations as the preview goes.
func previewAccounts(tx store.Tx, req *requester, c previewConfig) (accountSeq, error) {
	if c.ruleType == api.RuleTypeAccountRule {
		return seqOf([]string{req.id}), nil
	}
	if !req.manager {
		return nil, api.NewAccessDeniedException("Only the management account or the delegated administrator for Compute Optimizer can preview an OrganizationRule.")
	}
	if err := req.requireTrusted(); err != nil {
		return nil, err
	}
	probe := &rule{Type: api.RuleTypeOrganizationRule, OrgID: req.mem.OrgID}
	return membersSeq(tx, req.mem.OrgID, "").where(func(m string) (bool, error) {
		if c.scope != nil && len(c.scope.AccountIds) > 0 && !slices.Contains(c.scope.AccountIds, m) {
			return false, nil
		}
		return appliesTo(tx, probe, m)
	}), nil
}

func (c previewConfig) matches(a *action) bool {
	return slices.Contains(c.types, a.Type) && matchCriteria(c.criteria, a)
}

// ListAutomationRulePreview lists what a rule of the given configuration
// would act on now.
func (s *Service) ListAutomationRulePreview(ctx context.Context, in *api.ListAutomationRulePreviewInput) (*api.ListAutomationRulePreviewOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	cfg := previewConfig{ruleType: *in.RuleType, scope: in.OrganizationScope, types: in.RecommendedActionTypes, criteria: in.Criteria}
	if err := checkPreview(cfg); err != nil {
		return nil, err
	}
	out := &api.ListAutomationRulePreviewOutput{PreviewResults: []api.PreviewResult{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		req, err := loadRequester(tx, p.AccountID)
		if err != nil {
			return err
		}
		if err := req.requireOptIn(); err != nil {
			return err
		}
		accts, err := previewAccounts(tx, req, cfg)
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListAutomationRulePreview/"+p.AccountID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		page, next, err := pageActionsWhere(tx, pg, accts, s.clock.Now(), ruleFilter(cfg.types, cfg.criteria), cfg.matches)
		if err != nil {
			return err
		}
		out.NextToken = next
		for _, ra := range page {
			out.PreviewResults = append(out.PreviewResults, api.PreviewResult(ra))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAutomationRulePreviewSummaries totals the preview per recommended
// action type.
func (s *Service) ListAutomationRulePreviewSummaries(ctx context.Context, in *api.ListAutomationRulePreviewSummariesInput) (*api.ListAutomationRulePreviewSummariesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	cfg := previewConfig{ruleType: *in.RuleType, scope: in.OrganizationScope, types: in.RecommendedActionTypes, criteria: in.Criteria}
	if err := checkPreview(cfg); err != nil {
		return nil, err
	}
	out := &api.ListAutomationRulePreviewSummariesOutput{PreviewResultSummaries: []api.PreviewResultSummary{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		req, err := loadRequester(tx, p.AccountID)
		if err != nil {
			return err
		}
		if err := req.requireOptIn(); err != nil {
			return err
		}
		accts, err := previewAccounts(tx, req, cfg)
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListAutomationRulePreviewSummaries/"+p.AccountID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		tot := newActionTotals()
		err = streamActionsWhere(tx, accts, s.clock.Now(), "", ruleFilter(cfg.types, cfg.criteria), func(a *action) error {
			if cfg.matches(a) {
				tot.add(a)
			}
			return nil
		})
		if err != nil {
			return err
		}
		page, next := pg.window(tot.keys)
		out.NextToken = next
		for _, k := range page {
			out.PreviewResultSummaries = append(out.PreviewResultSummaries, api.PreviewResultSummary{
				Key:   ptr(k),
				Total: &api.RulePreviewTotal{RecommendedActionCount: ptr(tot.count[k]), EstimatedMonthlySavings: savings(tot.amount[k])},
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
