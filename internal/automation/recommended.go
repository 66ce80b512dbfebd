package automation

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/store"
)

// errPageFull ends a stream once a page and one more item were found.
var errPageFull = errors.New("automation: page full")

// streamActions calls fn for the recommended actions of the accounts'
// volumes at now, in key order, starting after the key given ("" for the
// start). The volumes are read with range scans per account, so a page
// costs the volumes up to it, not the fleet.
func streamActions(tx store.Tx, accounts accountSeq, now time.Time, after string, fn func(*action) error) error {
	return streamActionsWhere(tx, accounts, now, after, mayHaveActions, fn)
}

// streamActionsWhere is streamActions over the volumes keep lets through.
func streamActionsWhere(tx store.Tx, accounts accountSeq, now time.Time, after string, keep func([]byte) bool, fn func(*action) error) error {
	var afterAcct, afterPos string
	if after != "" {
		parts := strings.SplitN(after, "/", 4)
		if len(parts) == 4 {
			afterAcct = parts[0]
			// Start at the volume of the key itself: its other action
			// may follow the one the key names.
			afterPos = predecessor(parts[1] + "/" + parts[2])
		}
	}
	return accounts(afterAcct, func(acct string) error {
		pos := ""
		if acct == afterAcct {
			pos = afterPos
		}
		return inventory.ScanVolumesWhere(tx, acct, "", pos, keep, func(v *inventory.Volume) error {
			for _, a := range deriveActions(v, now) {
				if after != "" && a.key() <= after {
					continue
				}
				if err := fn(&a); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// The stored forms of the only volumes that can have recommended actions:
// unattached ones, and those of a type with an upgrade. A tag spelled like
// one of these only makes a volume be decoded and judged in full.
var (
	rawAvailable = []byte(`"state":"available"`)
	rawUpgrades  = [][]byte{[]byte(`"volumeType":"gp2"`), []byte(`"volumeType":"io1"`)}
)

// mayHaveActions looks at a stored volume without decoding it.
func mayHaveActions(raw []byte) bool {
	if bytes.Contains(raw, rawAvailable) {
		return true
	}
	for _, u := range rawUpgrades {
		if bytes.Contains(raw, u) {
			return true
		}
	}
	return false
}

// predecessor returns a string just before s in byte order, so that a
// strict "after" scan includes s itself (keys here are printable ASCII).
func predecessor(s string) string {
	if s == "" {
		return ""
	}
	return s[:len(s)-1] + string(s[len(s)-1]-1) + "\xff"
}

// checkFilterValues validates filter values whole (the model's pattern is
// not anchored).
func checkFilterValues(values []string) error {
	if len(values) == 0 {
		return invalid("Every filter needs at least one value.")
	}
	for _, v := range values {
		if !filterValueRE.MatchString(v) {
			return invalid("The filter value %q is not valid: 1 to 255 letters, digits, spaces and - _ . * ?.", v)
		}
	}
	return nil
}

func checkActionFilters(filters []api.RecommendedActionFilter) error {
	for _, f := range filters {
		if err := checkFilterValues(f.Values); err != nil {
			return err
		}
	}
	return nil
}

// actionMatches applies RecommendedActionFilters: one filter's values are
// alternatives (with * and ? wildcards), all filters must hold.
func actionMatches(a *action, filters []api.RecommendedActionFilter) bool {
	for _, f := range filters {
		if !anyMatch(f.Values, a.filterAttrs(*f.Name)) {
			return false
		}
	}
	return true
}

// narrowAccounts keeps the accounts an AccountId filter lets through, so
// that the others are not even scanned.
func narrowAccounts(accts accountSeq, filters []api.RecommendedActionFilter) accountSeq {
	for _, f := range filters {
		if *f.Name == api.RecommendedActionFilterNameAccountId {
			accts = accts.where(func(a string) (bool, error) { return anyMatch(f.Values, []string{a}), nil })
		}
	}
	return accts
}

// actionScope loads an opted-in caller and the accounts it sees.
func actionScope(tx store.Tx, accountID string) (*requester, []string, error) {
	req, err := loadRequester(tx, accountID)
	if err != nil {
		return nil, nil, err
	}
	if err := req.requireOptIn(); err != nil {
		return nil, nil, err
	}
	accts, err := visibleAccounts(tx, req)
	return req, accts, err
}

// pageActions streams the matching actions into one page.
func pageActions(tx store.Tx, pg *pager, accts accountSeq, now time.Time, match func(*action) bool) ([]api.RecommendedAction, *string, error) {
	return pageActionsWhere(tx, pg, accts, now, mayHaveActions, match)
}

// pageActionsWhere is pageActions over the volumes keep lets through.
func pageActionsWhere(tx store.Tx, pg *pager, accts accountSeq, now time.Time, keep func([]byte) bool, match func(*action) bool) ([]api.RecommendedAction, *string, error) {
	out := []api.RecommendedAction{}
	var lastKey string
	var next *string
	err := streamActionsWhere(tx, accts, now, pg.after, keep, func(a *action) error {
		if !match(a) {
			return nil
		}
		if len(out) == pg.limit {
			tok := pg.signer.Encode(pg.scope, lastKey)
			next = &tok
			return errPageFull
		}
		out = append(out, a.toAPI())
		lastKey = a.key()
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return nil, nil, err
	}
	return out, next, nil
}

// ListRecommendedActions lists the recommended actions of the caller's
// resources and, for a manager, of its associated members'.
func (s *Service) ListRecommendedActions(ctx context.Context, in *api.ListRecommendedActionsInput) (*api.ListRecommendedActionsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkActionFilters(in.Filters); err != nil {
		return nil, err
	}
	out := &api.ListRecommendedActionsOutput{}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		req, err := loadRequester(tx, p.AccountID)
		if err != nil {
			return err
		}
		if err := req.requireOptIn(); err != nil {
			return err
		}
		pg, err := newPager(tx, "ListRecommendedActions/"+p.AccountID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.RecommendedActions, out.NextToken, err = pageActions(tx, pg, narrowAccounts(visibleSeq(tx, req), in.Filters), s.clock.Now(),
			func(a *action) bool { return actionMatches(a, in.Filters) })
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// actionTotals sums actions per recommended action type, the grouping the
// Compute Optimizer console shows.
type actionTotals struct {
	keys   []string
	count  map[string]int32
	amount map[string]float64
}

func newActionTotals() *actionTotals {
	return &actionTotals{count: map[string]int32{}, amount: map[string]float64{}}
}

func (t *actionTotals) add(a *action) {
	k := string(a.Type)
	if _, ok := t.count[k]; !ok {
		t.keys = append(t.keys, k)
	}
	t.count[k]++
	t.amount[k] += a.Savings
}

// ListRecommendedActionSummaries counts the matching recommended actions
// and their savings per recommended action type.
func (s *Service) ListRecommendedActionSummaries(ctx context.Context, in *api.ListRecommendedActionSummariesInput) (*api.ListRecommendedActionSummariesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkActionFilters(in.Filters); err != nil {
		return nil, err
	}
	out := &api.ListRecommendedActionSummariesOutput{RecommendedActionSummaries: []api.RecommendedActionSummary{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		_, accts, err := actionScope(tx, p.AccountID)
		if err != nil {
			return err
		}
		pg, err := newPager(tx, "ListRecommendedActionSummaries/"+p.AccountID, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		tot := newActionTotals()
		err = streamActions(tx, narrowAccounts(seqOf(accts), in.Filters), s.clock.Now(), "", func(a *action) error {
			if actionMatches(a, in.Filters) {
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
			out.RecommendedActionSummaries = append(out.RecommendedActionSummaries, api.RecommendedActionSummary{
				Key:   ptr(k),
				Total: &api.RecommendedActionTotal{RecommendedActionCount: ptr(tot.count[k]), EstimatedMonthlySavings: savings(tot.amount[k])},
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
