package automation

import (
	"testing"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
)

func TestEvalString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		op      api.ComparisonOperator
		values  []string
		attr    string
		present bool
		want    bool
	}{
		{api.ComparisonOperatorStringEquals, []string{"gp2", "io1"}, "io1", true, true},
		{api.ComparisonOperatorStringEquals, []string{"gp2"}, "GP2", true, false},
		{api.ComparisonOperatorStringEquals, []string{"gp2"}, "", false, false},
		{api.ComparisonOperatorStringNotEquals, []string{"gp2", "io1"}, "gp3", true, true},
		{api.ComparisonOperatorStringNotEquals, []string{"gp2", "io1"}, "io1", true, false},
		{api.ComparisonOperatorStringNotEquals, []string{"gp2"}, "", false, false},
		{api.ComparisonOperatorStringEqualsIgnoreCase, []string{"PROD"}, "prod", true, true},
		{api.ComparisonOperatorStringEqualsIgnoreCase, []string{"PROD"}, "", false, false},
		{api.ComparisonOperatorStringNotEqualsIgnoreCase, []string{"PROD"}, "prod", true, false},
		{api.ComparisonOperatorStringNotEqualsIgnoreCase, []string{"PROD"}, "dev", true, true},
		{api.ComparisonOperatorStringLike, []string{"arn:aws:ec2:*:volume/vol-0?"}, "arn:aws:ec2:us-east-1:111111111111:volume/vol-0a", true, true},
		{api.ComparisonOperatorStringLike, []string{"vol-0?"}, "vol-0ab", true, false},
		{api.ComparisonOperatorStringLike, []string{"*"}, "", true, true},
		{api.ComparisonOperatorStringLike, []string{"*?"}, "*", true, true}, // a * in the value too: still a wildcard (found by FuzzWildcardMatch)
		{api.ComparisonOperatorStringLike, []string{"a*b"}, "a*xb", true, true},
		{api.ComparisonOperatorStringLike, []string{"*"}, "", false, false},
		{api.ComparisonOperatorStringNotLike, []string{"dev*", "test*"}, "prod-eu", true, true},
		{api.ComparisonOperatorStringNotLike, []string{"dev*", "test*"}, "test-1", true, false},
		{api.ComparisonOperatorStringNotLike, []string{"dev*"}, "", false, false},
		{api.ComparisonOperatorStringEqualsIfExists, []string{"prod"}, "", false, true},
		{api.ComparisonOperatorStringEqualsIfExists, []string{"prod"}, "dev", true, false},
		{api.ComparisonOperatorStringNotEqualsIfExists, []string{"prod"}, "", false, true},
		{api.ComparisonOperatorStringNotEqualsIfExists, []string{"prod"}, "prod", true, false},
		{api.ComparisonOperatorStringEqualsIgnoreCaseIfExists, []string{"Prod"}, "PROD", true, true},
		{api.ComparisonOperatorStringEqualsIgnoreCaseIfExists, []string{"Prod"}, "", false, true},
		{api.ComparisonOperatorStringNotEqualsIgnoreCaseIfExists, []string{"Prod"}, "PROD", true, false},
		{api.ComparisonOperatorStringNotEqualsIgnoreCaseIfExists, []string{"Prod"}, "", false, true},
		{api.ComparisonOperatorStringLikeIfExists, []string{"p*d"}, "prod", true, true},
		{api.ComparisonOperatorStringLikeIfExists, []string{"p*d"}, "", false, true},
		{api.ComparisonOperatorStringNotLikeIfExists, []string{"p*d"}, "prod", true, false},
		{api.ComparisonOperatorStringNotLikeIfExists, []string{"p*d"}, "", false, true},
	}
	for _, c := range cases {
		t.Run(string(c.op)+"/"+c.attr, func(t *testing.T) {
			if got := evalString(c.op, c.values, c.attr, c.present); got != c.want {
				t.Errorf("%s %v on %q (present %v) = %v, want %v", c.op, c.values, c.attr, c.present, got, c.want)
			}
		})
	}
}

func TestEvalNumeric(t *testing.T) {
	t.Parallel()
	cases := []struct {
		op      api.ComparisonOperator
		values  []float64
		attr    float64
		present bool
		want    bool
	}{
		{api.ComparisonOperatorNumericEquals, []float64{10, 20}, 20, true, true},
		{api.ComparisonOperatorNumericEquals, []float64{10}, 11, true, false},
		{api.ComparisonOperatorNumericEquals, []float64{10}, 0, false, false},
		{api.ComparisonOperatorNumericNotEquals, []float64{10, 20}, 15, true, true},
		{api.ComparisonOperatorNumericNotEquals, []float64{10, 20}, 10, true, false},
		{api.ComparisonOperatorNumericLessThan, []float64{10}, 9.99, true, true},
		{api.ComparisonOperatorNumericLessThan, []float64{10}, 10, true, false},
		{api.ComparisonOperatorNumericLessThanEquals, []float64{10}, 10, true, true},
		{api.ComparisonOperatorNumericLessThanEquals, []float64{10}, 10.01, true, false},
		{api.ComparisonOperatorNumericGreaterThan, []float64{10}, 10, true, false},
		{api.ComparisonOperatorNumericGreaterThan, []float64{10, 5}, 6, true, true},
		{api.ComparisonOperatorNumericGreaterThanEquals, []float64{10}, 10, true, true},
		{api.ComparisonOperatorNumericGreaterThanEquals, []float64{10}, 0, false, false},
		{api.ComparisonOperatorNumericEqualsIfExists, []float64{1}, 0, false, true},
		{api.ComparisonOperatorNumericEqualsIfExists, []float64{1}, 2, true, false},
		{api.ComparisonOperatorNumericNotEqualsIfExists, []float64{1}, 0, false, true},
		{api.ComparisonOperatorNumericNotEqualsIfExists, []float64{1}, 1, true, false},
		{api.ComparisonOperatorNumericLessThanIfExists, []float64{1}, 0, false, true},
		{api.ComparisonOperatorNumericLessThanIfExists, []float64{1}, 1, true, false},
		{api.ComparisonOperatorNumericLessThanEqualsIfExists, []float64{1}, 1, true, true},
		{api.ComparisonOperatorNumericGreaterThanIfExists, []float64{1}, 0, false, true},
		{api.ComparisonOperatorNumericGreaterThanIfExists, []float64{1}, 1, true, false},
		{api.ComparisonOperatorNumericGreaterThanEqualsIfExists, []float64{1}, 1, true, true},
	}
	for _, c := range cases {
		t.Run(string(c.op), func(t *testing.T) {
			if got := evalNumeric(c.op, c.values, c.attr, c.present); got != c.want {
				t.Errorf("%s %v on %v (present %v) = %v, want %v", c.op, c.values, c.attr, c.present, got, c.want)
			}
		})
	}
}

func cond(op api.ComparisonOperator, v ...string) []api.StringCriteriaCondition {
	return []api.StringCriteriaCondition{{Comparison: &op, Values: v}}
}

func intCond(op api.ComparisonOperator, v ...int32) []api.IntegerCriteriaCondition {
	return []api.IntegerCriteriaCondition{{Comparison: &op, Values: v}}
}

// TestMatchCriteria covers every Criteria field and their combination.
func TestMatchCriteria(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	v := &inventory.Volume{AccountID: "111111111111", Region: "eu-west-1", ID: "vol-0123456789abcdef0", Type: "gp2", SizeGiB: 100,
		IOPS: 300, Throughput: 128, State: inventory.StateAvailable, UnattachedSince: now.AddDate(0, 0, -40), Tags: map[string]string{"env": "prod"}}
	acts := deriveActions(v, now)
	if len(acts) != 2 {
		t.Fatalf("actions = %d, want snapshot-and-delete and upgrade", len(acts))
	}
	del, up := &acts[0], &acts[1]
	gt := api.ComparisonOperatorNumericGreaterThan
	cases := []struct {
		name string
		c    *api.Criteria
		a    *action
		want bool
	}{
		{"nil criteria", nil, del, true},
		{"region", &api.Criteria{Region: cond(api.ComparisonOperatorStringEquals, "us-east-1", "eu-west-1")}, del, true},
		{"region mismatch", &api.Criteria{Region: cond(api.ComparisonOperatorStringEquals, "us-east-1")}, del, false},
		{"arn like with slash", &api.Criteria{ResourceArn: cond(api.ComparisonOperatorStringLike, "arn:aws:ec2:*:111111111111:volume/*")}, del, true},
		{"volume type", &api.Criteria{EbsVolumeType: cond(api.ComparisonOperatorStringNotEquals, "gp2")}, del, false},
		{"size", &api.Criteria{EbsVolumeSizeInGib: intCond(api.ComparisonOperatorNumericGreaterThanEquals, 100)}, del, true},
		{"savings", &api.Criteria{EstimatedMonthlySavings: []api.DoubleCriteriaCondition{{Comparison: &gt, Values: []float64{5}}}}, del, true},
		{"savings of upgrade below", &api.Criteria{EstimatedMonthlySavings: []api.DoubleCriteriaCondition{{Comparison: &gt, Values: []float64{5}}}}, up, false},
		{"tag present", &api.Criteria{ResourceTag: []api.ResourceTagsCriteriaCondition{{Comparison: ptr(api.ComparisonOperatorStringEquals), Key: ptr("env"), Values: []string{"prod"}}}}, del, true},
		{"tag absent", &api.Criteria{ResourceTag: []api.ResourceTagsCriteriaCondition{{Comparison: ptr(api.ComparisonOperatorStringNotEquals), Key: ptr("team"), Values: []string{"x"}}}}, del, false},
		{"tag absent IfExists", &api.Criteria{ResourceTag: []api.ResourceTagsCriteriaCondition{{Comparison: ptr(api.ComparisonOperatorStringNotEqualsIfExists), Key: ptr("team"), Values: []string{"x"}}}}, del, true},
		{"look-back", &api.Criteria{LookBackPeriodInDays: intCond(api.ComparisonOperatorNumericEquals, 32)}, del, true},
		{"look-back upgrade", &api.Criteria{LookBackPeriodInDays: intCond(api.ComparisonOperatorNumericEquals, 32)}, up, false},
		{"restart", &api.Criteria{RestartNeeded: cond(api.ComparisonOperatorStringEquals, "false")}, up, true},
		{"fields are ANDed", &api.Criteria{Region: cond(api.ComparisonOperatorStringEquals, "eu-west-1"), EbsVolumeType: cond(api.ComparisonOperatorStringEquals, "io1")}, del, false},
		{"conditions of one field are ANDed", &api.Criteria{Region: append(cond(api.ComparisonOperatorStringLike, "eu-*"), cond(api.ComparisonOperatorStringNotEquals, "eu-west-1")...)}, del, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := matchCriteria(c.c, c.a); got != c.want {
				t.Errorf("matchCriteria = %v, want %v", got, c.want)
			}
		})
	}
}

// TestWinner: organization rules before, account rules, organization
// rules after; lowest priority first, compared exactly; inactive rules
// are not in the list at all (rulesFor), so a matching active rule wins.
func TestWinner(t *testing.T) {
	t.Parallel()
	types := []api.RecommendedActionType{api.RecommendedActionTypeUpgradeEbsVolumeType}
	mk := func(id, prio string, order api.RuleApplyOrder, crit *api.Criteria) *rule {
		r := &rule{ID: id, Priority: prio, ActionTypes: types, Criteria: crit, Type: api.RuleTypeAccountRule}
		if order != "" {
			r.Type, r.OrgConfig = api.RuleTypeOrganizationRule, &api.OrganizationConfiguration{RuleApplyOrder: &order}
		}
		return r
	}
	v := &inventory.Volume{AccountID: "111111111111", Region: "us-east-1", ID: "vol-0123456789abcdef0", Type: "gp2", SizeGiB: 100, State: inventory.StateInUse}
	a := &deriveActions(v, time.Now())[0]
	io1 := &api.Criteria{EbsVolumeType: cond(api.ComparisonOperatorStringEquals, "io1")}
	cases := []struct {
		name  string
		rules []*rule
		want  string
	}{
		{"lowest priority", []*rule{mk("B", "0.2", "", nil), mk("A", "0.1000000000000000000000000000001", "", nil), mk("C", "0.1", "", nil)}, "C"},
		{"org before beats account", []*rule{mk("acct", "0.001", "", nil), mk("org", "0.9", api.RuleApplyOrderBeforeAccountRules, nil)}, "org"},
		{"account beats org after", []*rule{mk("acct", "0.9", "", nil), mk("org", "0.001", api.RuleApplyOrderAfterAccountRules, nil)}, "acct"},
		{"non-matching criteria skipped", []*rule{mk("first", "0.1", "", io1), mk("second", "0.2", "", nil)}, "second"},
		{"none matches", []*rule{mk("x", "0.1", "", io1)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, own, after []*rule
			for _, r := range c.rules {
				switch {
				case r.OrgConfig == nil:
					own = append(own, r)
				case *r.OrgConfig.RuleApplyOrder == api.RuleApplyOrderAfterAccountRules:
					after = append(after, r)
				default:
					before = append(before, r)
				}
			}
			for _, g := range [][]*rule{before, own, after} {
				sortByPriority(g)
			}
			got := ""
			if w := winner(append(append(before, own...), after...), a); w != nil {
				got = w.ID
			}
			if got != c.want {
				t.Errorf("winner = %q, want %q", got, c.want)
			}
		})
	}
}

func TestDeriveActions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		v     inventory.Volume
		types []api.RecommendedActionType
	}{
		{"31 days unattached gp3", inventory.Volume{Type: "gp3", SizeGiB: 10, State: inventory.StateAvailable, UnattachedSince: now.AddDate(0, 0, -31)}, nil},
		{"32 days unattached gp3", inventory.Volume{Type: "gp3", SizeGiB: 10, State: inventory.StateAvailable, UnattachedSince: now.AddDate(0, 0, -32)},
			[]api.RecommendedActionType{api.RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume}},
		{"attached io1", inventory.Volume{Type: "io1", SizeGiB: 10, IOPS: 500, State: inventory.StateInUse}, []api.RecommendedActionType{api.RecommendedActionTypeUpgradeEbsVolumeType}},
		{"under way", inventory.Volume{Type: "gp2", SizeGiB: 10, State: inventory.StateInUse, EventID: "x"}, nil},
		{"deleted", inventory.Volume{Type: "gp2", SizeGiB: 10, State: inventory.StateDeleted}, nil},
		{"st1", inventory.Volume{Type: "st1", SizeGiB: 500, State: inventory.StateInUse}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.v.AccountID, c.v.Region, c.v.ID = "111111111111", "us-east-1", "vol-0123456789abcdef0"
			var got []api.RecommendedActionType
			for _, a := range deriveActions(&c.v, now) {
				got = append(got, a.Type)
				if len(a.ID()) != 16 {
					t.Errorf("id %q is not 16 characters", a.ID())
				}
			}
			if len(got) != len(c.types) || (len(got) > 0 && got[0] != c.types[0]) {
				t.Errorf("actions %v, want %v", got, c.types)
			}
		})
	}
	// gp2 → gp3 keeps the baseline: 1000 GiB gp2 has 3000 IOPS, 250 MiB/s.
	v := &inventory.Volume{AccountID: "1", Region: "us-east-1", ID: "vol-1", Type: "gp2", SizeGiB: 2000, IOPS: 6000, Throughput: 250, State: inventory.StateInUse}
	a := deriveActions(v, now)[0]
	if a.Target.Type != "gp3" || a.Target.IOPS != 6000 || a.Target.Throughput != 250 {
		t.Errorf("target %+v", a.Target)
	}
	// 2000*0.10 - (2000*0.08 + 3000*0.005 + 125*0.04) = 200 - 180 = 20
	if a.Savings != 20 {
		t.Errorf("savings %v, want 20", a.Savings)
	}
}
