package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// Rules are stored under their owner, so that an account's rules are one
// range scan; organization rules are also indexed under their
// organization, for the members and managers that see them.
const (
	bucketRules    = "aco.rules"     // owner account + "/" + rule id -> rule
	bucketOrgRules = "aco.org-rules" // org id + "/" + owner + "/" + rule id -> ""
)

// maxRulesPerAccount caps the rules an account owns. AWS documents no
// quota for it (../shared/docs/FACTS.md §6 marks it unconfirmed); 100 is
// orgstack's choice, enough for any realistic rule set and small enough
// that a runaway loop in a pipeline under test hits ServiceQuotaExceeded.
const maxRulesPerAccount = 100

// rule is an automation rule as stored.
type rule struct {
	ID          string                         `json:"id"`
	Owner       string                         `json:"owner"`
	Name        string                         `json:"name"`
	Description *string                        `json:"description,omitempty"`
	Type        api.RuleType                   `json:"ruleType"`
	Revision    int64                          `json:"revision"`
	OrgID       string                         `json:"orgId,omitempty"` // organization rules: the owner's organization
	OrgConfig   *api.OrganizationConfiguration `json:"organizationConfiguration,omitempty"`
	Priority    string                         `json:"priority"`
	ActionTypes []api.RecommendedActionType    `json:"recommendedActionTypes"`
	Criteria    *api.Criteria                  `json:"criteria,omitempty"`
	Schedule    api.Schedule                   `json:"schedule"`
	Status      api.RuleStatus                 `json:"status"`
	Tags        map[string]string              `json:"tags,omitempty"`
	Created     time.Time                      `json:"created"`
	Updated     time.Time                      `json:"updated"`
}

func (r *rule) key() string { return r.Owner + "/" + r.ID }

func (r *rule) arn() string {
	return "arn:aws:compute-optimizer::" + r.Owner + ":automation-rule/" + r.ID
}

// apiTags returns the rule's tags in key order.
func (r *rule) apiTags() []api.Tag {
	keys := make([]string, 0, len(r.Tags))
	for k := range r.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]api.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, api.Tag{Key: ptr(k), Value: ptr(r.Tags[k])})
	}
	return out
}

func putRule(tx store.Tx, r *rule) error {
	if err := store.PutJSON(tx, bucketRules, r.key(), r); err != nil {
		return err
	}
	if r.Type == api.RuleTypeOrganizationRule {
		return tx.Put(bucketOrgRules, r.OrgID+"/"+r.key(), nil)
	}
	return nil
}

// unindex removes the organization index entry of the rule as stored
// before a change or a deletion.
func unindex(tx store.Tx, old *rule) error {
	if old.Type == api.RuleTypeOrganizationRule {
		return tx.Delete(bucketOrgRules, old.OrgID+"/"+old.key())
	}
	return nil
}

var ruleARNRE = regexp.MustCompile(`^arn:aws:compute-optimizer::([0-9]{12}):automation-rule/([a-zA-Z0-9_-]+)$`)
var ruleIDRE = regexp.MustCompile(`^[0-9A-Za-z]{16}$`)

func errRuleNotFound(arn string) error {
	return api.NewResourceNotFoundException(fmt.Sprintf("No automation rule %s exists.", arn))
}

// findRule returns the rule an ARN names, or the error AWS answers: a
// malformed ARN is a bad parameter, an unknown rule is not found.
func findRule(tx store.Tx, arn string) (*rule, error) {
	m := ruleARNRE.FindStringSubmatch(arn)
	if m == nil {
		return nil, invalid("%q is not an automation rule ARN (arn:aws:compute-optimizer::<account>:automation-rule/<id>).", arn)
	}
	if !ruleIDRE.MatchString(m[2]) {
		return nil, errRuleNotFound(arn)
	}
	r, err := store.GetJSON[rule](tx, bucketRules, m[1]+"/"+m[2])
	if errors.Is(err, store.ErrNotFound) {
		return nil, errRuleNotFound(arn)
	}
	return r, err
}

// canView: the owner; for organization rules, the organization's managers
// and the members the rule applies to, who see but do not edit them.
func canView(tx store.Tx, req *requester, r *rule) (bool, error) {
	if r.Owner == req.id {
		return true, nil
	}
	if r.Type != api.RuleTypeOrganizationRule || req.mem == nil || req.mem.OrgID != r.OrgID {
		return false, nil
	}
	if req.manager {
		return true, nil
	}
	return appliesTo(tx, r, req.id)
}

// canEdit: the owner, and for organization rules any current manager of
// the organization (the management account edits its delegated
// administrator's rules and the other way round).
func canEdit(req *requester, r *rule) bool {
	return r.Owner == req.id ||
		(r.Type == api.RuleTypeOrganizationRule && req.manager && req.mem != nil && req.mem.OrgID == r.OrgID)
}

// editableRule finds the rule an ARN names for a change by req at the
// given revision.
func editableRule(tx store.Tx, req *requester, arn string, revision int64) (*rule, error) {
	r, err := findRule(tx, arn)
	if err != nil {
		return nil, err
	}
	if ok, err := canView(tx, req, r); err != nil {
		return nil, err
	} else if !ok {
		return nil, errRuleNotFound(arn)
	}
	if !canEdit(req, r) {
		return nil, api.NewAccessDeniedException(fmt.Sprintf("The organization rule %s is managed by your organization's administrator; member accounts can view it but not change it.", arn))
	}
	if revision != r.Revision {
		return nil, invalid("The rule is at revision %d, not %d: it changed since you read it. Get it again and retry with its current ruleRevision.", r.Revision, revision)
	}
	return r, nil
}

// appliesTo reports whether an organization rule acts on an account now:
// the account is associated with the rule's organization, has Automation
// enabled and allows organization rules, and the rule names it (or names
// no accounts, and so applies to every associated member). The scheduler
// asks this before it evaluates a rule for an account.
func appliesTo(tx store.Tx, r *rule, accountID string) (bool, error) {
	if r.Type != api.RuleTypeOrganizationRule {
		return r.Owner == accountID, nil
	}
	e, err := loadEnrollment(tx, accountID)
	if err != nil {
		return false, err
	}
	if e.AssociatedOrg != r.OrgID || e.Status != string(api.EnrollmentStatusActive) || e.RuleMode != string(api.OrganizationRuleModeAnyAllowed) {
		return false, nil
	}
	if r.OrgConfig == nil || len(r.OrgConfig.AccountIds) == 0 {
		return true, nil
	}
	return slices.Contains(r.OrgConfig.AccountIds, accountID), nil
}

// ownedRules returns the rules an account owns, in id order.
func ownedRules(tx store.Tx, owner string) ([]*rule, error) {
	var out []*rule
	err := store.ScanJSON(tx, bucketRules, owner+"/", "", 0, func(_ string, r *rule) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// deactivateRules stops every active rule an account owns, as opting out
// of Automation does; they stay inactive if it opts in again.
func deactivateRules(tx store.Tx, now time.Time, owner string) error {
	rules, err := ownedRules(tx, owner)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.Status == api.RuleStatusInactive {
			continue
		}
		r.Status, r.Revision, r.Updated = api.RuleStatusInactive, r.Revision+1, now
		if err := putRule(tx, r); err != nil {
			return err
		}
		if err := unschedule(tx, r); err != nil {
			return err
		}
	}
	return nil
}

// checkOrgConfig validates an organization rule's configuration for a
// manager: the accounts it names must be members associated with the
// organization that allow organization rules.
func checkOrgConfig(tx store.Tx, req *requester, cfg *api.OrganizationConfiguration) error {
	if cfg == nil {
		return invalid("An OrganizationRule needs an organizationConfiguration.")
	}
	seen := map[string]bool{}
	for _, id := range cfg.AccountIds {
		if !accountIDRE.MatchString(id) {
			return invalid("organizationConfiguration.accountIds: %q is not a 12-digit account id.", id)
		}
		if seen[id] {
			return invalid("organizationConfiguration.accountIds names %s twice.", id)
		}
		seen[id] = true
		e, err := loadEnrollment(tx, id)
		if err != nil {
			return err
		}
		if e.AssociatedOrg != req.mem.OrgID || e.RuleMode != string(api.OrganizationRuleModeAnyAllowed) {
			return invalid("organizationConfiguration.accountIds: account %s is not a member account associated with your organization (AssociateAccounts), so organization rules cannot target it.", id)
		}
	}
	return nil
}

// ruleInput is what CreateAutomationRule and UpdateAutomationRule share.
type ruleInput struct {
	Type      api.RuleType
	OrgConfig *api.OrganizationConfiguration
}

// checkRuleType enforces who may hold an organization rule and that only
// organization rules carry an organizationConfiguration.
func checkRuleType(tx store.Tx, req *requester, in ruleInput) error {
	if in.Type == api.RuleTypeAccountRule {
		if in.OrgConfig != nil {
			return invalid("An AccountRule has no organizationConfiguration; it applies to your own account.")
		}
		return nil
	}
	if !req.manager {
		return api.NewAccessDeniedException("Only the management account or the delegated administrator for Compute Optimizer can create or hold an OrganizationRule.")
	}
	if err := req.requireTrusted(); err != nil {
		return err
	}
	return checkOrgConfig(tx, req, in.OrgConfig)
}

// normalOrgConfig fills the default apply order of an organization rule.
// AWS documents none; orgstack runs such rules before account rules, the
// order the user guide lists first (**U** in FACTS §6).
func normalOrgConfig(cfg *api.OrganizationConfiguration) *api.OrganizationConfiguration {
	c := *cfg
	if c.RuleApplyOrder == nil {
		c.RuleApplyOrder = ptr(api.RuleApplyOrderBeforeAccountRules)
	}
	return &c
}

// CreateAutomationRule creates an account rule, or for a manager an
// organization rule, at revision 1.
func (s *Service) CreateAutomationRule(ctx context.Context, in *api.CreateAutomationRuleInput) (*api.CreateAutomationRuleOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	if err := checkName(*in.Name); err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if in.Priority != nil {
		if err := checkPriority(*in.Priority); err != nil {
			return nil, err
		}
	}
	if err := checkActionTypes(in.RecommendedActionTypes); err != nil {
		return nil, err
	}
	if err := checkCriteria(in.Criteria); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var out *api.CreateAutomationRuleOutput
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, "CreateAutomationRule", in.ClientToken, in, func() (*api.CreateAutomationRuleOutput, error) {
			r, err := s.createRule(tx, now, p.AccountID, in)
			if err != nil {
				return nil, err
			}
			return &api.CreateAutomationRuleOutput{
				RuleArn:                   ptr(r.arn()),
				RuleId:                    ptr(r.ID),
				Name:                      ptr(r.Name),
				Description:               r.Description,
				RuleType:                  ptr(r.Type),
				RuleRevision:              ptr(r.Revision),
				OrganizationConfiguration: r.OrgConfig,
				Priority:                  ptr(r.Priority),
				RecommendedActionTypes:    r.ActionTypes,
				Criteria:                  r.Criteria,
				Schedule:                  ptr(r.Schedule),
				Status:                    ptr(r.Status),
				Tags:                      r.apiTags(),
				CreatedTimestamp:          ptr(r.Created),
			}, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return out, nil
}

func (s *Service) createRule(tx store.Tx, now time.Time, owner string, in *api.CreateAutomationRuleInput) (*rule, error) {
	req, err := loadRequester(tx, owner)
	if err != nil {
		return nil, err
	}
	if err := req.requireOptIn(); err != nil {
		return nil, err
	}
	if err := checkRuleType(tx, req, ruleInput{Type: *in.RuleType, OrgConfig: in.OrganizationConfiguration}); err != nil {
		return nil, err
	}
	if err := checkSchedule(in.Schedule, now); err != nil {
		return nil, err
	}
	existing, err := ownedRules(tx, owner)
	if err != nil {
		return nil, err
	}
	if len(existing) >= maxRulesPerAccount {
		return nil, api.NewServiceQuotaExceededException(fmt.Sprintf("Your account has %d automation rules, the most it can have; delete one first.", len(existing)))
	}
	r := &rule{
		ID:          idgen.String(idgen.Alnum, 16),
		Owner:       owner,
		Name:        *in.Name,
		Description: in.Description,
		Type:        *in.RuleType,
		Revision:    1,
		ActionTypes: in.RecommendedActionTypes,
		Criteria:    in.Criteria,
		Schedule:    *in.Schedule,
		Status:      *in.Status,
		Created:     now,
		Updated:     now,
	}
	if r.Type == api.RuleTypeOrganizationRule {
		r.OrgID, r.OrgConfig = req.mem.OrgID, normalOrgConfig(in.OrganizationConfiguration)
	}
	if in.Priority != nil {
		r.Priority = *in.Priority
	} else {
		prios := make([]string, len(existing))
		for i, e := range existing {
			prios[i] = e.Priority
		}
		p, ok := priorityAbove(prios)
		if !ok {
			return nil, invalid("No priority with at most 30 digits ranks above your existing rules; give this rule a priority.")
		}
		r.Priority = p
	}
	if len(in.Tags) > 0 {
		r.Tags = map[string]string{}
		for _, t := range in.Tags {
			r.Tags[*t.Key] = *t.Value
		}
	}
	if err := putRule(tx, r); err != nil {
		return nil, err
	}
	return r, reschedule(tx, r, now)
}

// GetAutomationRule describes a rule the caller can see.
func (s *Service) GetAutomationRule(ctx context.Context, in *api.GetAutomationRuleInput) (*api.GetAutomationRuleOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.GetAutomationRuleOutput
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r, err := visibleRule(tx, p.AccountID, *in.RuleArn)
		if err != nil {
			return err
		}
		out = &api.GetAutomationRuleOutput{
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
			Criteria:                  r.Criteria,
			Schedule:                  ptr(r.Schedule),
			Status:                    ptr(r.Status),
			Tags:                      r.apiTags(),
			CreatedTimestamp:          ptr(r.Created),
			LastUpdatedTimestamp:      ptr(r.Updated),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// visibleRule loads the caller, checks its opt-in and returns the rule
// the ARN names if the caller can see it.
func visibleRule(tx store.Tx, accountID, arn string) (*rule, error) {
	req, err := loadRequester(tx, accountID)
	if err != nil {
		return nil, err
	}
	if err := req.requireOptIn(); err != nil {
		return nil, err
	}
	r, err := findRule(tx, arn)
	if err != nil {
		return nil, err
	}
	if ok, err := canView(tx, req, r); err != nil {
		return nil, err
	} else if !ok {
		return nil, errRuleNotFound(arn)
	}
	return r, nil
}

// UpdateAutomationRule changes the members given; the revision grows by
// one when anything changed.
func (s *Service) UpdateAutomationRule(ctx context.Context, in *api.UpdateAutomationRuleInput) (*api.UpdateAutomationRuleOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return nil, err
		}
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if in.Priority != nil {
		if err := checkPriority(*in.Priority); err != nil {
			return nil, err
		}
	}
	if in.RecommendedActionTypes != nil {
		if err := checkActionTypes(in.RecommendedActionTypes); err != nil {
			return nil, err
		}
	}
	if err := checkCriteria(in.Criteria); err != nil {
		return nil, err
	}
	var out *api.UpdateAutomationRuleOutput
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, "UpdateAutomationRule", in.ClientToken, in, func() (*api.UpdateAutomationRuleOutput, error) {
			r, err := s.updateRule(tx, now, p.AccountID, in)
			if err != nil {
				return nil, err
			}
			return &api.UpdateAutomationRuleOutput{
				RuleArn:                   ptr(r.arn()),
				RuleRevision:              ptr(r.Revision),
				Name:                      ptr(r.Name),
				Description:               r.Description,
				RuleType:                  ptr(r.Type),
				OrganizationConfiguration: r.OrgConfig,
				Priority:                  ptr(r.Priority),
				RecommendedActionTypes:    r.ActionTypes,
				Criteria:                  r.Criteria,
				Schedule:                  ptr(r.Schedule),
				Status:                    ptr(r.Status),
				CreatedTimestamp:          ptr(r.Created),
				LastUpdatedTimestamp:      ptr(r.Updated),
			}, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return out, nil
}

func (s *Service) updateRule(tx store.Tx, now time.Time, accountID string, in *api.UpdateAutomationRuleInput) (*rule, error) {
	req, err := loadRequester(tx, accountID)
	if err != nil {
		return nil, err
	}
	if err := req.requireOptIn(); err != nil {
		return nil, err
	}
	old, err := editableRule(tx, req, *in.RuleArn, *in.RuleRevision)
	if err != nil {
		return nil, err
	}
	r := *old
	if in.Name != nil {
		r.Name = *in.Name
	}
	if in.Description != nil {
		r.Description = in.Description
	}
	if in.RuleType != nil {
		r.Type = *in.RuleType
	}
	if in.Priority != nil {
		r.Priority = *in.Priority
	}
	if in.RecommendedActionTypes != nil {
		r.ActionTypes = in.RecommendedActionTypes
	}
	if in.Criteria != nil {
		r.Criteria = in.Criteria
	}
	if in.Status != nil {
		r.Status = *in.Status
	}
	if in.Schedule != nil {
		if err := checkSchedule(in.Schedule, now); err != nil {
			return nil, err
		}
		r.Schedule = *in.Schedule
	}
	switch {
	case r.Type == api.RuleTypeAccountRule:
		if in.OrganizationConfiguration != nil {
			return nil, invalid("An AccountRule has no organizationConfiguration; it applies to its owner's account.")
		}
		r.OrgID, r.OrgConfig = "", nil
	case in.OrganizationConfiguration != nil || old.Type != api.RuleTypeOrganizationRule:
		// A new configuration, or a rule that becomes an organization
		// rule: the caller must be a manager and every account named a
		// current target.
		cfg := in.OrganizationConfiguration
		if cfg == nil {
			cfg = r.OrgConfig
		}
		if err := checkRuleType(tx, req, ruleInput{Type: r.Type, OrgConfig: cfg}); err != nil {
			return nil, err
		}
		r.OrgID, r.OrgConfig = req.mem.OrgID, normalOrgConfig(cfg)
	default:
		// The configuration stays as it is, even if it names accounts
		// disassociated since (the rule no longer applies to them); only
		// the right to hold an organization rule is checked again.
		if !req.manager {
			return nil, api.NewAccessDeniedException("Only the management account or the delegated administrator for Compute Optimizer can change an OrganizationRule.")
		}
		if err := req.requireTrusted(); err != nil {
			return nil, err
		}
	}
	if same, err := sameRule(old, &r); err != nil || same {
		return old, err
	}
	r.Revision, r.Updated = old.Revision+1, now
	if err := unindex(tx, old); err != nil {
		return nil, err
	}
	if err := putRule(tx, &r); err != nil {
		return nil, err
	}
	return &r, reschedule(tx, &r, now)
}

// sameRule reports whether an update changed nothing.
func sameRule(a, b *rule) (bool, error) {
	x, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	y, err := json.Marshal(b)
	return string(x) == string(y), err
}

// DeleteAutomationRule deletes a rule at its current revision.
func (s *Service) DeleteAutomationRule(ctx context.Context, in *api.DeleteAutomationRuleInput) (*api.DeleteAutomationRuleOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	var out *api.DeleteAutomationRuleOutput
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		out, err = idempotent(tx, now, p.AccountID, "DeleteAutomationRule", in.ClientToken, in, func() (*api.DeleteAutomationRuleOutput, error) {
			req, err := loadRequester(tx, p.AccountID)
			if err != nil {
				return nil, err
			}
			if err := req.requireOptIn(); err != nil {
				return nil, err
			}
			r, err := editableRule(tx, req, *in.RuleArn, *in.RuleRevision)
			if err != nil {
				return nil, err
			}
			if err := unindex(tx, r); err != nil {
				return nil, err
			}
			if err := unschedule(tx, r); err != nil {
				return nil, err
			}
			return &api.DeleteAutomationRuleOutput{}, tx.Delete(bucketRules, r.key())
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
