package automation

import (
	"bytes"
	"encoding/json"
	"slices"

	api "github.com/orgstack/orgstack/internal/api/automation"
)

// A prefilter looks at a volume's stored JSON, before decoding it, for
// text that every volume a rule could act on must contain, so that a
// scheduler run or a preview decodes only plausible volumes. It may let
// through volumes the rule does not want (they are judged in full after
// decoding), never hold back one it does: it only requires exact
// member/value pairs, as encoding/json writes them, that the criteria
// require.

// rawGroups: each group is a set of alternatives; a volume must contain
// one of each group's.
type rawGroups [][][]byte

func (g rawGroups) keep(raw []byte) bool {
	for _, alts := range g {
		found := false
		for _, a := range alts {
			if bytes.Contains(raw, a) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// rawPair is `"name":"value"` as encoding/json writes a string member.
func rawPair(name, value string) []byte {
	k, _ := json.Marshal(name)
	v, _ := json.Marshal(value)
	return append(append(k, ':'), v...)
}

// ruleFilter derives a prefilter from action types and criteria.
func ruleFilter(types []api.RecommendedActionType, c *api.Criteria) func([]byte) bool {
	var g rawGroups
	var kinds [][]byte
	if slices.Contains(types, api.RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume) {
		kinds = append(kinds, rawAvailable)
	}
	if slices.Contains(types, api.RecommendedActionTypeUpgradeEbsVolumeType) {
		kinds = append(kinds, rawUpgrades...)
	}
	g = append(g, kinds)
	if c != nil {
		for _, cond := range c.EbsVolumeType {
			if *cond.Comparison == api.ComparisonOperatorStringEquals {
				var alts [][]byte
				for _, v := range cond.Values {
					alts = append(alts, rawPair("volumeType", v))
				}
				g = append(g, alts)
			}
		}
		for _, cond := range c.ResourceTag {
			if *cond.Comparison == api.ComparisonOperatorStringEquals && cond.Key != nil {
				var alts [][]byte
				for _, v := range cond.Values {
					alts = append(alts, rawPair(*cond.Key, v))
				}
				g = append(g, alts)
			}
		}
	}
	return g.keep
}
