package automation

import (
	"context"
	"errors"
	"slices"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/store"
)

// The scheduler keeps one runner job per active rule, due at the rule's
// next run in its time zone. A run starts the rule's actions and enqueues
// the following run, in the transaction that takes the job, so a run
// happens exactly once even across restarts, and moving virtual time by a
// week performs exactly the runs the schedules call for. Creating,
// changing, deactivating or deleting a rule fixes its job up in the same
// transaction.

const (
	jobRuleRun      = "aco.rule-run"
	jobRuleContinue = "aco.rule-continue"
	bucketRuleRuns  = "aco.rule-runs" // owner/rule id -> ruleRun
)

// continueEvery is how long a run whose actions exceeded the concurrency
// quota waits before it starts more of them, within its execution window.
const continueEvery = 5 * time.Minute

// ruleRun is a rule's pending run job.
type ruleRun struct {
	Job string    `json:"job"`
	Due time.Time `json:"due"`
}

type ruleRunJob struct {
	Owner string `json:"owner"`
	Rule  string `json:"rule"`
}

// reschedule replaces a rule's pending run by one at its next run after
// now, if it is active and ever runs again.
func reschedule(tx store.Tx, r *rule, now time.Time) error {
	if err := unschedule(tx, r); err != nil {
		return err
	}
	if r.Status != api.RuleStatusActive {
		return nil
	}
	next, ok := NextRun(r.Schedule, now)
	if !ok {
		return nil
	}
	id, err := runner.Enqueue(tx, jobRuleRun, next, ruleRunJob{Owner: r.Owner, Rule: r.ID})
	if err != nil {
		return err
	}
	return store.PutJSON(tx, bucketRuleRuns, r.key(), ruleRun{Job: id, Due: next})
}

// unschedule drops a rule's pending run.
func unschedule(tx store.Tx, r *rule) error {
	run, err := store.GetJSON[ruleRun](tx, bucketRuleRuns, r.key())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := runner.Cancel(tx, run.Due, run.Job); err != nil {
		return err
	}
	return tx.Delete(bucketRuleRuns, r.key())
}

// runRule is the jobRuleRun handler.
func runRule(_ context.Context, tx store.Tx, job runner.Job) error {
	var p ruleRunJob
	if err := job.Decode(&p); err != nil {
		return err
	}
	key := p.Owner + "/" + p.Rule
	run, err := store.GetJSON[ruleRun](tx, bucketRuleRuns, key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && run.Job != job.ID) {
		return nil // the rule changed or went away; its new job (if any) stands
	}
	if err != nil {
		return err
	}
	if err := tx.Delete(bucketRuleRuns, key); err != nil {
		return err
	}
	r, err := store.GetJSON[rule](tx, bucketRules, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, deferred, err := executeRule(tx, r, job.Due)
	if err != nil {
		return err
	}
	if err := continueLater(tx, r, job.Due, windowEnd(r, job.Due), deferred); err != nil {
		return err
	}
	return reschedule(tx, r, job.Due)
}

// windowEnd is when a run that began at start must have started its
// actions by (the schedule's executionWindowInMinutes).
func windowEnd(r *rule, start time.Time) time.Time {
	minutes := int32(60)
	if r.Schedule.ExecutionWindowInMinutes != nil {
		minutes = *r.Schedule.ExecutionWindowInMinutes
	}
	return start.Add(time.Duration(minutes) * time.Minute)
}

// ruleContinueJob carries on a run that left actions for lack of quota.
type ruleContinueJob struct {
	Owner     string    `json:"owner"`
	Rule      string    `json:"rule"`
	Revision  int64     `json:"revision"`
	WindowEnd time.Time `json:"windowEnd"`
}

// continueLater enqueues the continuation of a run that deferred actions,
// if its window leaves time for it.
func continueLater(tx store.Tx, r *rule, at, end time.Time, deferred int) error {
	next := at.Add(continueEvery)
	if deferred == 0 || !next.Before(end) {
		return nil
	}
	_, err := runner.Enqueue(tx, jobRuleContinue, next, ruleContinueJob{Owner: r.Owner, Rule: r.ID, Revision: r.Revision, WindowEnd: end})
	return err
}

// runRuleContinue is the jobRuleContinue handler: the run goes on with
// the rule as it was, unless it changed, was deactivated or deleted since.
func runRuleContinue(_ context.Context, tx store.Tx, job runner.Job) error {
	var p ruleContinueJob
	if err := job.Decode(&p); err != nil {
		return err
	}
	r, err := store.GetJSON[rule](tx, bucketRules, p.Owner+"/"+p.Rule)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || r.Revision != p.Revision {
		return err
	}
	_, deferred, err := executeRule(tx, r, job.Due)
	if err != nil {
		return err
	}
	return continueLater(tx, r, job.Due, p.WindowEnd, deferred)
}

// ruleRunFailed: a run that kept failing inside orgstack is skipped; the
// rule's next run is still scheduled.
func ruleRunFailed(_ context.Context, tx store.Tx, job runner.Job, _ error) error {
	var p ruleRunJob
	if err := job.Decode(&p); err != nil {
		return err
	}
	r, err := store.GetJSON[rule](tx, bucketRules, p.Owner+"/"+p.Rule)
	if errors.Is(err, store.ErrNotFound) {
		return tx.Delete(bucketRuleRuns, p.Owner+"/"+p.Rule)
	}
	if err != nil {
		return err
	}
	return reschedule(tx, r, job.Due)
}

// ruleTargets are the accounts a rule acts on now.
func ruleTargets(tx store.Tx, r *rule) ([]string, error) {
	if r.Type != api.RuleTypeOrganizationRule {
		return []string{r.Owner}, nil
	}
	cands := []string(nil)
	if r.OrgConfig != nil && len(r.OrgConfig.AccountIds) > 0 {
		cands = slices.Sorted(slices.Values(r.OrgConfig.AccountIds))
	} else {
		var err error
		if cands, err = associatedMembers(tx, r.OrgID); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, a := range cands {
		if ok, err := appliesTo(tx, r, a); err != nil {
			return nil, err
		} else if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// executeRule runs a rule at the given time: every recommended action it
// owns (it matches it, and no rule ahead of it in claim order does) is
// started, within the concurrency quota and EBS's modification limit. It
// returns the number of events started and of actions deferred for lack
// of quota, which the run takes up later within its window. A rule whose
// owner opted out (its rules are then inactive) does nothing.
func executeRule(tx store.Tx, r *rule, at time.Time) (started, deferred int, err error) {
	if r.Status != api.RuleStatusActive {
		return 0, 0, nil
	}
	owner, err := loadEnrollment(tx, r.Owner)
	if err != nil || owner.Status != string(api.EnrollmentStatusActive) {
		return 0, 0, err
	}
	targets, err := ruleTargets(tx, r)
	if err != nil {
		return 0, 0, err
	}
	keep := ruleFilter(r.ActionTypes, r.Criteria)
	for _, acct := range targets {
		rules, err := rulesFor(tx, acct)
		if err != nil {
			return started, deferred, err
		}
		if !slices.ContainsFunc(rules, func(x *rule) bool { return x.ID == r.ID && x.Owner == r.Owner }) {
			continue
		}
		var todo []action
		err = inventory.ScanVolumesWhere(tx, acct, "", "", keep, func(v *inventory.Volume) error {
			for _, a := range deriveActions(v, at) {
				if !ruleMatches(r, &a) {
					continue
				}
				if w := winner(rules, &a); w == nil || w.ID != r.ID || w.Owner != r.Owner {
					continue
				}
				todo = append(todo, a)
				break // one event per volume at a time
			}
			return nil
		})
		if err != nil {
			return started, deferred, err
		}
		// Events under way per Region, counted once and then kept up to
		// date here rather than counted again for every action.
		active := map[string]int{}
		for i := range todo {
			a := &todo[i]
			n, ok := active[a.Vol.Region]
			if !ok {
				if n, err = activeCount(tx, acct, a.Vol.Region); err != nil {
					return started, deferred, err
				}
			}
			if n >= maxActivePerRegion {
				active[a.Vol.Region] = n
				deferred++ // over the quota: taken up later in the window
				continue
			}
			if a.Type == api.RecommendedActionTypeUpgradeEbsVolumeType && a.Vol.ModificationsSince(at.Add(-24*time.Hour)) >= maxModifications {
				active[a.Vol.Region] = n
				continue
			}
			if _, err := startEvent(tx, a, r.ID, at); err != nil {
				return started, deferred, err
			}
			active[a.Vol.Region] = n + 1
			started++
		}
	}
	return started, deferred, nil
}
