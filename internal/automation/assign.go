package automation

import (
	"slices"
	"sort"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/store"
)

// accountSeq walks a set of account ids in order, from the first at or
// after `from` on (all of them for ""), calling fn for each until fn
// returns an error, which it returns. A walk reads no more of the set than
// its caller consumes, so that a page of results over an organization of
// any size costs what the page holds.
type accountSeq func(from string, fn func(acct string) error) error

// seqOf walks a sorted slice.
func seqOf(sorted []string) accountSeq {
	return func(from string, fn func(string) error) error {
		for _, a := range sorted[sort.SearchStrings(sorted, from):] {
			if err := fn(a); err != nil {
				return err
			}
		}
		return nil
	}
}

// where walks the accounts of s that keep lets through.
func (s accountSeq) where(keep func(acct string) (bool, error)) accountSeq {
	return func(from string, fn func(string) error) error {
		return s(from, func(a string) error {
			ok, err := keep(a)
			if err != nil || !ok {
				return err
			}
			return fn(a)
		})
	}
}

// membersSeq walks the accounts associated with the organization, and
// also, in its place, the account own (unless it is ""), from the index.
func membersSeq(tx store.Tx, orgID, own string) accountSeq {
	prefix := associationKey(orgID, "")
	return func(from string, fn func(string) error) error {
		ownDone := own == "" || own < from
		after := ""
		if from != "" {
			after = prefix + predecessor(from)
		}
		err := tx.Scan(bucketAssociated, prefix, after, 0, func(key string, _ []byte) error {
			acct := key[len(prefix):]
			if !ownDone && own <= acct {
				ownDone = true
				if own < acct {
					if err := fn(own); err != nil {
						return err
					}
				}
			}
			return fn(acct)
		})
		if err != nil || ownDone {
			return err
		}
		return fn(own)
	}
}

// visibleSeq walks visibleAccounts without reading them all first.
func visibleSeq(tx store.Tx, req *requester) accountSeq {
	if req.manager && req.trusted {
		return membersSeq(tx, req.mem.OrgID, req.id)
	}
	return seqOf([]string{req.id})
}

// visibleAccounts are the accounts whose resources, recommended actions
// and events the caller sees: its own, and for the management account or
// delegated administrator (with trusted access) the associated members.
func visibleAccounts(tx store.Tx, req *requester) ([]string, error) {
	accts := []string{req.id}
	if req.manager && req.trusted {
		members, err := associatedMembers(tx, req.mem.OrgID)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if m != req.id {
				accts = append(accts, m)
			}
		}
	}
	sort.Strings(accts)
	return accts, nil
}

// rulesFor returns the active rules that may act on an account, in the
// order they claim actions: organization rules that run before account
// rules, the account's own rules, organization rules that run after; by
// priority within each group (lowest value first, compared exactly), and
// by id among equal priorities so that the order is total.
func rulesFor(tx store.Tx, account string) ([]*rule, error) {
	enr, err := loadEnrollment(tx, account)
	if err != nil {
		return nil, err
	}
	if enr.Status != string(api.EnrollmentStatusActive) {
		return nil, nil
	}
	var before, own, after []*rule
	owned, err := ownedRules(tx, account)
	if err != nil {
		return nil, err
	}
	for _, r := range owned {
		if r.Status == api.RuleStatusActive && r.Type == api.RuleTypeAccountRule {
			own = append(own, r)
		}
	}
	if enr.AssociatedOrg != "" {
		var keys []string
		err := tx.Scan(bucketOrgRules, enr.AssociatedOrg+"/", "", 0, func(k string, _ []byte) error {
			keys = append(keys, strings.TrimPrefix(k, enr.AssociatedOrg+"/"))
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			r, err := store.GetJSON[rule](tx, bucketRules, k)
			if err != nil {
				return nil, err
			}
			if r.Status != api.RuleStatusActive {
				continue
			}
			if ok, err := appliesTo(tx, r, account); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
			if r.OrgConfig != nil && r.OrgConfig.RuleApplyOrder != nil && *r.OrgConfig.RuleApplyOrder == api.RuleApplyOrderAfterAccountRules {
				after = append(after, r)
			} else {
				before = append(before, r)
			}
		}
	}
	for _, g := range [][]*rule{before, own, after} {
		sortByPriority(g)
	}
	return slices.Concat(before, own, after), nil
}

func sortByPriority(rs []*rule) {
	sort.SliceStable(rs, func(i, j int) bool {
		if c := comparePriority(rs[i].Priority, rs[j].Priority); c != 0 {
			return c < 0
		}
		return rs[i].ID < rs[j].ID
	})
}

// ruleMatches reports whether a rule's action types and criteria take the
// action, whatever the rule's status.
func ruleMatches(r *rule, a *action) bool {
	return slices.Contains(r.ActionTypes, a.Type) && matchCriteria(r.Criteria, a)
}

// winner is the rule that owns an action: the first in claim order that
// matches it, or nil.
func winner(rules []*rule, a *action) *rule {
	for _, r := range rules {
		if ruleMatches(r, a) {
			return r
		}
	}
	return nil
}
