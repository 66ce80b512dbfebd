package organizations

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/policy"
	"github.com/orgstack/orgstack/internal/store"
)

// effective is an account's effective management policy of one type.
type effective struct {
	Content json.RawMessage // nil when no policy of the type applies
	// Updated is the latest change among the contributing policies,
	// their attachments and detachments along the path.
	Updated time.Time
	// Sources are the contributing policies, root first.
	Sources []policy.Source
	// Path is the account's place in the tree as the API writes it:
	// o-…/r-…/ou-…/…/<account>/.
	Path string
}

// pathOf returns the ids from the root down to the account.
func (r repo) pathOf(org *organization, m *member) ([]string, error) {
	ids := []string{m.AccountID}
	for parent := m.ParentID; ; {
		ids = append(ids, parent)
		if parent == org.RootID || !strings.HasPrefix(parent, "ou-") {
			break
		}
		u, err := r.ou(parent)
		if err != nil {
			return nil, fmt.Errorf("parent %s: %w", parent, err)
		}
		parent = u.ParentID
	}
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids, nil
}

// effectivePolicy computes the account's effective policy of a management
// type from the policies attached along its path, each level in
// attachment order.
func (r repo) effectivePolicy(org *organization, m *member, t api.PolicyType) (*effective, error) {
	ids, err := r.pathOf(org, m)
	if err != nil {
		return nil, err
	}
	out := &effective{Path: org.ID + "/" + strings.Join(ids, "/") + "/"}
	levels := make([]policy.Level, 0, len(ids))
	for _, id := range ids {
		as, err := r.attachments(id, t)
		if err != nil {
			return nil, err
		}
		detached, err := r.lastDetached(id, t)
		if err != nil {
			return nil, err
		}
		out.Updated = latest(out.Updated, detached)
		var level policy.Level
		for _, a := range as {
			pv, err := r.policy(org, a.PolicyID)
			if err != nil {
				return nil, fmt.Errorf("policy attached to %s: %w", id, err)
			}
			level = append(level, []byte(pv.Content))
			out.Sources = append(out.Sources, policy.Source{ID: pv.ID, Doc: []byte(pv.Content)})
			out.Updated = latest(out.Updated, pv.UpdatedAt, a.AttachedAt)
		}
		levels = append(levels, level)
	}
	out.Content, err = policy.Effective(levels)
	if err != nil {
		return nil, fmt.Errorf("effective %s of %s: %w", t, m.AccountID, err)
	}
	return out, nil
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

func errNoEffectivePolicy(accountID string, t api.EffectivePolicyType) error {
	return api.NewEffectivePolicyNotFoundException(fmt.Sprintf("The account %s has no effective policy of type %s.", accountID, t))
}

// DescribeEffectivePolicy returns an account's effective management
// policy. Any account may ask for its own; the management account, a
// delegated administrator or a member the resource policy allows may ask
// for any account's.
func (s *Service) DescribeEffectivePolicy(ctx context.Context, in *api.DescribeEffectivePolicyInput) (*api.DescribeEffectivePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t := *in.PolicyType
	target := p.AccountID
	if in.TargetId != nil {
		target = *in.TargetId
	}
	var out *api.EffectivePolicy
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.callerOrgOrNotInUse(p.AccountID)
		if err != nil {
			return err
		}
		if !reAccountID.MatchString(target) {
			if reRootID.MatchString(target) || reOUID.MatchString(target) {
				e := api.NewInvalidInputException("An effective policy belongs to an account; roots and organizational units have none.")
				e.Reason = ptr(api.InvalidInputExceptionReasonTargetNotSupported)
				return e
			}
			e := api.NewInvalidInputException(fmt.Sprintf("%q is not an account id.", target))
			e.Reason = ptr(api.InvalidInputExceptionReasonInvalidPatternTargetId)
			return e
		}
		if target != p.AccountID {
			if err := r.authorize(org, p, "DescribeEffectivePolicy", []string{org.accountARN(target)}, string(t)); err != nil {
				return err
			}
		}
		m, err := r.membership(target)
		if err != nil {
			return err
		}
		if m == nil || m.OrgID != org.ID {
			return api.NewTargetNotFoundException(fmt.Sprintf("No account %s exists in your organization.", target))
		}
		eff, err := r.effectivePolicy(org, m, api.PolicyType(t))
		if err != nil {
			return err
		}
		if eff.Content == nil {
			return errNoEffectivePolicy(target, t)
		}
		out = &api.EffectivePolicy{
			PolicyContent:        ptr(string(eff.Content)),
			LastUpdatedTimestamp: ptr(eff.Updated),
			TargetId:             ptr(target),
			PolicyType:           ptr(t),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeEffectivePolicyOutput{EffectivePolicy: out}, nil
}

// ListAccountsWithInvalidEffectivePolicy lists, in id order, the accounts
// whose effective policy of the type fails the type's checks
// (policy.CheckEffective). A page may hold fewer accounts than asked for,
// as AWS warns.
func (s *Service) ListAccountsWithInvalidEffectivePolicy(ctx context.Context, in *api.ListAccountsWithInvalidEffectivePolicyInput) (*api.ListAccountsWithInvalidEffectivePolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t := *in.PolicyType
	out := &api.ListAccountsWithInvalidEffectivePolicyOutput{Accounts: []api.Account{}, PolicyType: ptr(t)}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.callerOrgOrNotInUse(p.AccountID)
		if err != nil {
			return err
		}
		if err := r.authorize(org, p, "ListAccountsWithInvalidEffectivePolicy", nil, string(t)); err != nil {
			return err
		}
		rt, err := r.root(org.RootID)
		if err != nil {
			return err
		}
		if !rt.typeEnabled(api.PolicyType(t)) {
			return api.NewEffectivePolicyNotFoundException(fmt.Sprintf("The policy type %s is not enabled, so no account has an effective policy of it.", t))
		}
		prefix := org.ID + "/"
		pg, err := newPager(tx, "ListAccountsWithInvalidEffectivePolicy/"+org.ID+"/"+string(t), in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.NextToken, err = pg.scan(tx, bucketOrgAccs, prefix, func(key string, _ []byte) error {
			m, err := r.membership(strings.TrimPrefix(key, prefix))
			if err != nil || m == nil {
				return err
			}
			findings, err := r.effectiveFindings(org, m, api.PolicyType(t))
			if err != nil || len(findings) == 0 {
				return err
			}
			a, err := r.memberView(org, m)
			if err != nil {
				return err
			}
			out.Accounts = append(out.Accounts, a)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// effectiveFindings checks the account's effective policy of the type.
func (r repo) effectiveFindings(org *organization, m *member, t api.PolicyType) ([]policy.Finding, error) {
	eff, err := r.effectivePolicy(org, m, t)
	if err != nil || eff.Content == nil {
		return nil, err
	}
	return policy.CheckEffective(string(t), eff.Content, eff.Sources)
}

// ListEffectivePolicyValidationErrors lists what is wrong with one
// account's effective policy of a type.
func (s *Service) ListEffectivePolicyValidationErrors(ctx context.Context, in *api.ListEffectivePolicyValidationErrorsInput) (*api.ListEffectivePolicyValidationErrorsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, accountID := *in.PolicyType, *in.AccountId
	out := &api.ListEffectivePolicyValidationErrorsOutput{
		AccountId: ptr(accountID), PolicyType: ptr(t),
		EffectivePolicyValidationErrors: []api.EffectivePolicyValidationError{},
	}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.callerOrgOrNotInUse(p.AccountID)
		if err != nil {
			return err
		}
		if err := r.authorize(org, p, "ListEffectivePolicyValidationErrors", []string{org.accountARN(accountID)}, string(t)); err != nil {
			return err
		}
		m, err := r.membership(accountID)
		if err != nil {
			return err
		}
		if !reAccountID.MatchString(accountID) || m == nil || m.OrgID != org.ID {
			return api.NewAccountNotFoundException(fmt.Sprintf("No account %s exists in your organization.", accountID))
		}
		eff, err := r.effectivePolicy(org, m, api.PolicyType(t))
		if err != nil {
			return err
		}
		if eff.Content == nil {
			return errNoEffectivePolicy(accountID, t)
		}
		findings, err := policy.CheckEffective(string(t), eff.Content, eff.Sources)
		if err != nil {
			return err
		}
		out.Path, out.EvaluationTimestamp = ptr(eff.Path), ptr(eff.Updated)
		pg, err := newPager(tx, "ListEffectivePolicyValidationErrors/"+accountID+"/"+string(t), in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		// Findings come in a stable order; the token is a position.
		keys := make([]string, len(findings))
		byKey := make(map[string]policy.Finding, len(findings))
		for i, f := range findings {
			keys[i] = fmt.Sprintf("%06d", i)
			byKey[keys[i]] = f
		}
		page, next := pg.sliceIDs(keys)
		out.NextToken = next
		for _, k := range page {
			f := byKey[k]
			out.EffectivePolicyValidationErrors = append(out.EffectivePolicyValidationErrors, api.EffectivePolicyValidationError{
				ErrorCode: ptr(f.Code), ErrorMessage: ptr(f.Message), PathToError: ptr(f.Path),
				ContributingPolicies: f.Contributors,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
