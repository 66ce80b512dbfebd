package automation

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
)

// A recommended action is not stored: it is derived from the inventory on
// the orgstack clock every time it is read, so it appears when a volume
// qualifies and disappears when it no longer does (or while an event acts
// on the volume).

// unattachedDays is how long a volume must have been unattached before
// Compute Optimizer recommends snapshotting and deleting it
// (automation-rec.html; ../shared/docs/FACTS.md §6).
const unattachedDays = 32

// Look-back periods: an unattached volume is judged over the 32 days it
// must have been idle; an upgrade over Compute Optimizer's default
// 14-day look-back (orgstack's choice; AWS shows one value per action).
const (
	lookBackDelete  = 32
	lookBackUpgrade = 14
)

// upgrades maps previous-generation types to the type recommended instead
// (FACTS §6 marks the exact map unconfirmed: gp2 → gp3, io1 → io2).
var upgrades = map[string]string{"gp2": "gp3", "io1": "io2"}

// volumeConfig is an EBS volume's configuration.
type volumeConfig struct {
	Type       string `json:"type"`
	SizeGiB    int32  `json:"sizeInGib"`
	IOPS       int32  `json:"iops,omitempty"`
	Throughput int32  `json:"throughput,omitempty"`
}

func configOf(v *inventory.Volume) volumeConfig {
	return volumeConfig{Type: v.Type, SizeGiB: v.SizeGiB, IOPS: v.IOPS, Throughput: v.Throughput}
}

func (c volumeConfig) details() *api.ResourceDetails {
	cfg := &api.EbsVolumeConfiguration{Type: ptr(c.Type), SizeInGib: ptr(c.SizeGiB)}
	if c.IOPS > 0 {
		cfg.Iops = ptr(c.IOPS)
	}
	if c.Throughput > 0 {
		cfg.Throughput = ptr(c.Throughput)
	}
	return &api.ResourceDetails{EbsVolume: &api.EbsVolume{Configuration: cfg}}
}

func (c volumeConfig) summary() string {
	s := fmt.Sprintf("%s, %d GiB", c.Type, c.SizeGiB)
	if c.IOPS > 0 {
		s += fmt.Sprintf(", %d IOPS", c.IOPS)
	}
	if c.Throughput > 0 {
		s += fmt.Sprintf(", %d MiB/s", c.Throughput)
	}
	return s
}

func (c volumeConfig) monthlyCost(region string) float64 {
	return inventory.MonthlyCost(region, c.Type, c.SizeGiB, c.IOPS, c.Throughput)
}

// action is one recommended action on one volume.
type action struct {
	id       string // see ID
	Type     api.RecommendedActionType
	Vol      *inventory.Volume
	LookBack int32
	Current  volumeConfig
	Target   *volumeConfig // the upgrade's configuration; nil for a delete
	Savings  float64
}

// Action id suffixes: a volume digest names the volume, two letters the
// action type, so an id is 16 alphanumerics (the RecommendedActionId
// shape) and stays the same while the action applies.
var actionSuffix = map[api.RecommendedActionType]string{
	api.RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume: "Sd",
	api.RecommendedActionTypeUpgradeEbsVolumeType:                 "Up",
}

func actionID(v *inventory.Volume, t api.RecommendedActionType) string {
	return inventory.Digest(v.AccountID, v.Region, v.ID) + actionSuffix[t]
}

// ID is the action's id, computed when first asked for: a scheduler pass
// judges far more actions than it names.
func (a *action) ID() string {
	if a.id == "" {
		a.id = actionID(a.Vol, a.Type)
	}
	return a.id
}

// key orders actions: account, Region, volume, action type.
func (a *action) key() string {
	return a.Vol.AccountID + "/" + a.Vol.Region + "/" + a.Vol.ID + "/" + string(a.Type)
}

// upgradeTarget is the configuration an upgrade keeps the volume's
// baseline performance with: gp3 gets at least gp2's burst-free IOPS and
// throughput (never below gp3's free baseline); io2 keeps io1's IOPS.
func upgradeTarget(v *inventory.Volume) (volumeConfig, bool) {
	to, ok := upgrades[v.Type]
	if !ok {
		return volumeConfig{}, false
	}
	c := volumeConfig{Type: to, SizeGiB: v.SizeGiB, IOPS: v.IOPS, Throughput: v.Throughput}
	if to == "gp3" {
		c.IOPS = max(v.IOPS, 3000)
		c.Throughput = max(v.Throughput, 125)
	}
	return c, true
}

// deriveActions returns the volume's recommended actions at now, in
// action-type order.
func deriveActions(v *inventory.Volume, now time.Time) []action {
	if v.State == inventory.StateDeleted || v.EventID != "" {
		return nil
	}
	var out []action
	cur := configOf(v)
	if v.State == inventory.StateAvailable && !v.UnattachedSince.IsZero() && !now.Before(v.UnattachedSince.AddDate(0, 0, unattachedDays)) {
		out = append(out, action{
			Type: api.RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume, Vol: v, LookBack: lookBackDelete, Current: cur,
			Savings: cents(cur.monthlyCost(v.Region) - inventory.SnapshotMonthlyCost(v.Region, v.SizeGiB)),
		})
	}
	if to, ok := upgradeTarget(v); ok {
		out = append(out, action{
			Type: api.RecommendedActionTypeUpgradeEbsVolumeType, Vol: v, LookBack: lookBackUpgrade, Current: cur, Target: &to,
			Savings: cents(cur.monthlyCost(v.Region) - to.monthlyCost(v.Region)),
		})
	}
	return out
}

func cents(x float64) float64 { return math.Round(x*100) / 100 }

// savings is the API form of an amount. orgstack models no discounts, so
// the after-discount amount equals the list-price one and the mode is
// BeforeDiscount (Compute Optimizer's default without savings estimation).
func savings(x float64) *api.EstimatedMonthlySavings {
	return &api.EstimatedMonthlySavings{
		Currency:              ptr("USD"),
		BeforeDiscountSavings: ptr(cents(x)),
		AfterDiscountSavings:  ptr(cents(x)),
		SavingsEstimationMode: ptr(api.SavingsEstimationModeBeforeDiscount),
	}
}

// restartNeeded: Elastic Volumes changes and deleting an unattached
// volume need no restart of anything.
func (a *action) restartNeeded() bool { return false }

func (a *action) apiTags() []api.Tag {
	keys := make([]string, 0, len(a.Vol.Tags))
	for k := range a.Vol.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]api.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, api.Tag{Key: ptr(k), Value: ptr(a.Vol.Tags[k])})
	}
	return out
}

func (a *action) toAPI() api.RecommendedAction {
	ra := api.RecommendedAction{
		RecommendedActionId:     ptr(a.ID()),
		ResourceArn:             ptr(a.Vol.ARN()),
		ResourceId:              ptr(a.Vol.ID),
		AccountId:               ptr(a.Vol.AccountID),
		Region:                  ptr(a.Vol.Region),
		ResourceType:            ptr(api.ResourceTypeEbsVolume),
		LookBackPeriodInDays:    ptr(a.LookBack),
		RecommendedActionType:   ptr(a.Type),
		CurrentResourceSummary:  ptr(a.Current.summary()),
		CurrentResourceDetails:  a.Current.details(),
		RestartNeeded:           ptr(a.restartNeeded()),
		EstimatedMonthlySavings: savings(a.Savings),
		ResourceTags:            a.apiTags(),
	}
	if a.Target != nil {
		ra.RecommendedResourceSummary = ptr(a.Target.summary())
		ra.RecommendedResourceDetails = a.Target.details()
	} else {
		ra.RecommendedResourceSummary = ptr("Deleted; a snapshot of the volume is kept")
	}
	return ra
}

// filterAttrs are an action's values for a RecommendedActionFilterName.
func (a *action) filterAttrs(name api.RecommendedActionFilterName) []string {
	switch name {
	case api.RecommendedActionFilterNameResourceType:
		return []string{string(api.ResourceTypeEbsVolume)}
	case api.RecommendedActionFilterNameRecommendedActionType:
		return []string{string(a.Type)}
	case api.RecommendedActionFilterNameResourceId:
		return []string{a.Vol.ID}
	case api.RecommendedActionFilterNameLookBackPeriodInDays:
		return []string{strconv.Itoa(int(a.LookBack))}
	case api.RecommendedActionFilterNameCurrentResourceDetailsEbsVolumeType:
		return []string{a.Current.Type}
	case api.RecommendedActionFilterNameAccountId:
		return []string{a.Vol.AccountID}
	case api.RecommendedActionFilterNameRestartNeeded:
		return []string{strconv.FormatBool(a.restartNeeded())}
	case api.RecommendedActionFilterNameResourceTagsKey, api.RecommendedActionFilterNameResourceTagsValue:
		out := make([]string, 0, len(a.Vol.Tags))
		for k, v := range a.Vol.Tags {
			if name == api.RecommendedActionFilterNameResourceTagsKey {
				out = append(out, k)
			} else {
				out = append(out, v)
			}
		}
		return out
	}
	return nil
}
