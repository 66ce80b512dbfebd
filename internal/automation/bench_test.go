package automation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/pagination"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// The benchmarks run the engine behind the operations over a fleet of
// 100,000 generated volumes in 50 accounts (two Regions), in the SQLite
// store as the server uses it: a filtered ListRecommendedActions page, a
// rule preview page, and one scheduler pass over 100 active rules (each
// run in a transaction that is rolled back, so every pass sees the same
// fleet).

var benchFleet struct {
	once  sync.Once
	st    store.Store
	accts []string
	now   time.Time
	err   error
}

const benchOrg = "o-bench00000"

func fleet(b *testing.B) (store.Store, []string, time.Time) {
	b.Helper()
	f := &benchFleet
	f.once.Do(func() {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, sqlite.Options{Path: ":memory:"})
		if err != nil {
			f.err = err
			return
		}
		f.st, f.now = st, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
		for i := range 50 {
			f.accts = append(f.accts, fmt.Sprintf("5000000000%02d", i))
		}
		vols, err := inventory.Generate(inventory.GenerateSpec{AccountIDs: f.accts, Regions: []string{"us-east-1", "eu-west-1"}, Volumes: 100_000, Seed: 7}, f.now)
		if err != nil {
			f.err = err
			return
		}
		for start := 0; start < len(vols); start += 5000 {
			batch := vols[start:min(start+5000, len(vols))]
			f.err = st.Write(ctx, func(tx store.Tx) error {
				for _, v := range batch {
					if err := inventory.CreateVolume(tx, v); err != nil {
						return err
					}
				}
				return nil
			})
			if f.err != nil {
				return
			}
		}
		f.err = st.Write(ctx, func(tx store.Tx) error {
			if _, err := pagination.Load(tx); err != nil {
				return err
			}
			for i, a := range f.accts {
				e := &enrollment{Status: string(api.EnrollmentStatusActive), UpdatedAt: f.now}
				if i > 0 {
					e.AssociatedOrg, e.RuleMode = benchOrg, string(api.OrganizationRuleModeAnyAllowed)
				}
				if err := putEnrollment(tx, a, e); err != nil {
					return err
				}
			}
			// 100 active rules: two account rules in each account, with
			// criteria that select a few of its volumes each.
			for i := range 100 {
				owner := f.accts[i%50]
				op := api.ComparisonOperatorStringEquals
				gte := api.ComparisonOperatorNumericGreaterThanEquals
				r := &rule{
					ID: fmt.Sprintf("BenchRule%07d", i), Owner: owner, Name: "bench", Type: api.RuleTypeAccountRule, Revision: 1,
					Priority: fmt.Sprintf("0.%d", 10+i), Status: api.RuleStatusActive,
					ActionTypes: []api.RecommendedActionType{api.RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume, api.RecommendedActionTypeUpgradeEbsVolumeType},
					Criteria: &api.Criteria{
						ResourceTag:        []api.ResourceTagsCriteriaCondition{{Key: ptr("team"), Comparison: &op, Values: []string{[]string{"ml", "web"}[i/50]}}},
						EbsVolumeSizeInGib: []api.IntegerCriteriaCondition{{Comparison: &gte, Values: []int32{512}}},
					},
					Schedule: api.Schedule{ScheduleExpression: ptr("0 2 * * *"), ExecutionWindowInMinutes: ptr(int32(60))},
					Created:  f.now, Updated: f.now,
				}
				if err := putRule(tx, r); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.st, f.accts, f.now
}

func reportRSS(b *testing.B) {
	b.Helper()
	if s, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(s), "\n") {
			if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "VmHWM:") {
				b.Log(l)
			}
		}
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.Logf("Go heap in use: %d MiB", m.HeapInuse>>20)
}

// BenchmarkListRecommendedActionsPage: the management account's view
// (all 50 accounts), filtered to io1 upgrades, a page of 100.
func BenchmarkListRecommendedActionsPage(b *testing.B) {
	st, accts, now := fleet(b)
	filters := []api.RecommendedActionFilter{
		{Name: ptr(api.RecommendedActionFilterNameRecommendedActionType), Values: []string{"UpgradeEbsVolumeType"}},
		{Name: ptr(api.RecommendedActionFilterNameCurrentResourceDetailsEbsVolumeType), Values: []string{"io1"}},
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		err := st.Read(ctx, func(tx store.Tx) error {
			pg, err := newPager(tx, "bench", nil, ptr(int32(100)))
			if err != nil {
				return err
			}
			page, next, err := pageActions(tx, pg, seqOf(accts), now, func(a *action) bool { return actionMatches(a, filters) })
			if err == nil && (len(page) != 100 || next == nil) {
				err = fmt.Errorf("page of %d", len(page))
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRSS(b)
}

// BenchmarkRulePreview: an organization rule over the 49 members, for
// large unattached volumes of one team, a page of 100.
func BenchmarkRulePreview(b *testing.B) {
	st, accts, now := fleet(b)
	op, gte := api.ComparisonOperatorStringEquals, api.ComparisonOperatorNumericGreaterThanEquals
	cfg := previewConfig{
		ruleType: api.RuleTypeOrganizationRule,
		types:    []api.RecommendedActionType{api.RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume},
		criteria: &api.Criteria{
			ResourceTag:        []api.ResourceTagsCriteriaCondition{{Key: ptr("env"), Comparison: &op, Values: []string{"dev", "test"}}},
			EbsVolumeSizeInGib: []api.IntegerCriteriaCondition{{Comparison: &gte, Values: []int32{256}}},
		},
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		err := st.Read(ctx, func(tx store.Tx) error {
			members, err := associatedMembers(tx, benchOrg)
			if err != nil {
				return err
			}
			pg, err := newPager(tx, "bench", nil, ptr(int32(100)))
			if err != nil {
				return err
			}
			page, _, err := pageActionsWhere(tx, pg, seqOf(members), now, ruleFilter(cfg.types, cfg.criteria), cfg.matches)
			if err == nil && len(page) != 100 {
				err = fmt.Errorf("preview of %d", len(page))
			}
			_ = accts
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRSS(b)
}

var errRollback = errors.New("bench: roll back")

// BenchmarkSchedulerPass runs all 100 rules once, each in its own
// transaction as the runner does, and rolls each back.
func BenchmarkSchedulerPass(b *testing.B) {
	st, _, now := fleet(b)
	ctx := context.Background()
	var rules []*rule
	err := st.Read(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, bucketRules, "", "", 0, func(_ string, r *rule) error {
			rules = append(rules, r)
			return nil
		})
	})
	if err != nil || len(rules) != 100 {
		b.Fatalf("rules: %d %v", len(rules), err)
	}
	b.ResetTimer()
	started := 0
	for b.Loop() {
		started = 0
		for _, r := range rules {
			err := st.Write(ctx, func(tx store.Tx) error {
				n, _, err := executeRule(tx, r, now)
				if err != nil {
					return err
				}
				started += n
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.Logf("events started per pass: %d", started)
	reportRSS(b)
}
