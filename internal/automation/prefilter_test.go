package automation

import (
	"encoding/json"
	"testing"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
)

// TestRuleFilterKeepsEveryMatch: the prefilter never holds back a volume
// with an action that the types and criteria take.
func TestRuleFilterKeepsEveryMatch(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	vols, err := inventory.Generate(inventory.GenerateSpec{AccountIDs: []string{"111111111111"}, Regions: []string{"us-east-1", "eu-west-1"}, Volumes: 3000, Seed: 3}, now)
	if err != nil {
		t.Fatal(err)
	}
	vols[0].Tags["team"] = `we"b <&>` // escaping must agree
	eq, like := api.ComparisonOperatorStringEquals, api.ComparisonOperatorStringLike
	both := []api.RecommendedActionType{api.RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume, api.RecommendedActionTypeUpgradeEbsVolumeType}
	cases := []struct {
		name  string
		types []api.RecommendedActionType
		c     *api.Criteria
	}{
		{"no criteria", both, nil},
		{"deletes only", both[:1], nil},
		{"upgrades of io1", both[1:], &api.Criteria{EbsVolumeType: []api.StringCriteriaCondition{{Comparison: &eq, Values: []string{"io1", "st1"}}}}},
		{"tag", both, &api.Criteria{ResourceTag: []api.ResourceTagsCriteriaCondition{{Comparison: &eq, Key: ptr("team"), Values: []string{"ml", `we"b <&>`}}}}},
		{"tag like", both, &api.Criteria{ResourceTag: []api.ResourceTagsCriteriaCondition{{Comparison: &like, Key: ptr("env"), Values: []string{"p*"}}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keep := ruleFilter(c.types, c.c)
			cfg := previewConfig{types: c.types, criteria: c.c}
			kept, wanted := 0, 0
			for _, v := range vols {
				raw, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				want := false
				for _, a := range deriveActions(v, now) {
					want = want || cfg.matches(&a)
				}
				k := keep(raw)
				if want && !k {
					t.Fatalf("volume %+v held back", v)
				}
				if k {
					kept++
				}
				if want {
					wanted++
				}
			}
			t.Logf("kept %d of %d volumes for %d wanted", kept, len(vols), wanted)
		})
	}
}
