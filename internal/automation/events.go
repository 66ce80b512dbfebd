package automation

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/store"
)

// Events are stored under their account and creation time, so that an
// account's events in a time range are one range scan.
const (
	bucketEvents   = "aco.events"    // account/created/event id -> event
	bucketEventIDs = "aco.event-ids" // event id -> events key
	// bucketActive holds the events under way per account and Region, for
	// the concurrency quota: account/region/event id -> "".
	bucketActive = "aco.active-events"
)

// maxActivePerRegion is the concurrency quota: up to 100 actions in
// progress per account and Region (automation-rules.html; FACTS §6).
const maxActivePerRegion = 100

// maxModifications is EBS's limit of Elastic Volumes changes per volume
// in any 24 hours (automation-rec.html; FACTS §6).
const maxModifications = 4

// eventHistory is how far back listings reach: a year.
const eventHistory = 365 * 24 * time.Hour

// snapshotTag marks the snapshots Automation takes (automation-rec.html).
const snapshotTag = "aws:compute-optimizer:automation-event-id"

const createdLayout = "2006-01-02T15:04:05.000000000Z"

// jobEventStep is the runner kind that performs an event's next step.
const jobEventStep = "aco.event-step"

var eventIDRE = regexp.MustCompile(`^[0-9A-Za-z]{16}$`)

// step is one step of an event as stored.
type step struct {
	ID         string         `json:"id"`
	Type       api.StepType   `json:"type"`
	Status     api.StepStatus `json:"status"`
	ResourceID string         `json:"resourceId"`
	Start      time.Time      `json:"start,omitzero"`
	Completed  time.Time      `json:"completed,omitzero"`
	Savings    float64        `json:"savings"`
}

// event is an automation event as stored.
type event struct {
	ID          string          `json:"id"`
	Account     string          `json:"account"`
	Region      string          `json:"region"`
	VolumeID    string          `json:"volumeId"`
	ResourceArn string          `json:"resourceArn"`
	ActionID    string          `json:"actionId"`
	RuleID      string          `json:"ruleId,omitempty"`
	Type        api.EventType   `json:"type"`
	Status      api.EventStatus `json:"status"`
	Reason      string          `json:"reason,omitempty"`
	Created     time.Time       `json:"created"`
	Completed   time.Time       `json:"completed,omitzero"`
	Savings     float64         `json:"savings"`
	// Plan is the steps still to do, in order; Steps those started.
	Plan  []api.StepType `json:"plan"`
	Steps []step         `json:"steps"`
	// Before and After are the volume's configurations around the event,
	// for rollback and its checks.
	Before   volumeConfig  `json:"before"`
	After    *volumeConfig `json:"after,omitempty"`
	Snapshot string        `json:"snapshot,omitempty"`
	Restored string        `json:"restored,omitempty"`
}

func (e *event) key() string {
	return e.Account + "/" + e.Created.UTC().Format(createdLayout) + "/" + e.ID
}

func (e *event) description() string {
	if e.Type == api.EventTypeSnapshotAndDeleteUnattachedEbsVolume {
		return fmt.Sprintf("Snapshot and delete the unattached EBS volume %s", e.VolumeID)
	}
	return fmt.Sprintf("Upgrade the EBS volume %s from %s to %s", e.VolumeID, e.Before.Type, e.After.Type)
}

// underWay reports whether the event holds its volume and counts against
// the concurrency quota.
func underWay(s api.EventStatus) bool {
	switch s {
	case api.EventStatusReady, api.EventStatusInProgress, api.EventStatusRollbackReady, api.EventStatusRollbackInProgress:
		return true
	}
	return false
}

func putEvent(tx store.Tx, e *event) error {
	if err := store.PutJSON(tx, bucketEvents, e.key(), e); err != nil {
		return err
	}
	if err := tx.Put(bucketEventIDs, e.ID, []byte(e.key())); err != nil {
		return err
	}
	activeKey := e.Account + "/" + e.Region + "/" + e.ID
	if underWay(e.Status) {
		return tx.Put(bucketActive, activeKey, nil)
	}
	return tx.Delete(bucketActive, activeKey)
}

func getEvent(tx store.Tx, id string) (*event, error) {
	key, err := tx.Get(bucketEventIDs, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errEventNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	return store.GetJSON[event](tx, bucketEvents, string(key))
}

func errEventNotFound(id string) error {
	return api.NewResourceNotFoundException(fmt.Sprintf("No automation event %s exists.", id))
}

// activeCount counts the events under way in an account and Region.
func activeCount(tx store.Tx, account, region string) (int, error) {
	return tx.Count(bucketActive, account+"/"+region+"/")
}

// checkQuota refuses an action that would exceed the concurrency quota or
// EBS's modification limit.
func checkQuota(tx store.Tx, a *action, now time.Time) error {
	n, err := activeCount(tx, a.Vol.AccountID, a.Vol.Region)
	if err != nil {
		return err
	}
	if n >= maxActivePerRegion {
		return api.NewServiceQuotaExceededException(fmt.Sprintf(
			"Account %s already has %d automation actions in progress in %s, the most allowed; wait for some to finish.", a.Vol.AccountID, n, a.Vol.Region))
	}
	if a.Type == api.RecommendedActionTypeUpgradeEbsVolumeType && a.Vol.ModificationsSince(now.Add(-24*time.Hour)) >= maxModifications {
		return api.NewServiceQuotaExceededException(fmt.Sprintf(
			"The volume %s was modified %d times in the last 24 hours, the most EBS allows.", a.Vol.ID, maxModifications))
	}
	return nil
}

// startEvent creates the event for an action at the given time, takes the
// volume and enqueues the first step, all in the caller's transaction.
func startEvent(tx store.Tx, a *action, ruleID string, at time.Time) (*event, error) {
	e := &event{
		ID: idgen.String(idgen.Alnum, 16), Account: a.Vol.AccountID, Region: a.Vol.Region, VolumeID: a.Vol.ID,
		ResourceArn: a.Vol.ARN(), ActionID: a.ID(), RuleID: ruleID, Type: api.EventType(a.Type),
		Status: api.EventStatusReady, Created: at, Savings: a.Savings, Before: a.Current, After: a.Target, Steps: []step{},
	}
	if a.Type == api.RecommendedActionTypeSnapshotAndDeleteUnattachedEbsVolume {
		e.Plan = []api.StepType{api.StepTypeCreateEbsSnapshot, api.StepTypeDeleteEbsVolume}
	} else {
		e.Plan = []api.StepType{api.StepTypeModifyEbsVolume}
	}
	a.Vol.EventID = e.ID
	if err := inventory.PutVolume(tx, a.Vol); err != nil {
		return nil, err
	}
	if err := putEvent(tx, e); err != nil {
		return nil, err
	}
	if _, err := enqueueStep(tx, e.ID, at); err != nil {
		return nil, err
	}
	return e, nil
}

type stepJob struct {
	Event string `json:"event"`
}

func (e *event) toAPI() api.AutomationEvent {
	out := api.AutomationEvent{
		EventId:             ptr(e.ID),
		EventDescription:    ptr(e.description()),
		EventType:           ptr(e.Type),
		EventStatus:         ptr(e.Status),
		ResourceArn:         ptr(e.ResourceArn),
		ResourceId:          ptr(e.VolumeID),
		RecommendedActionId: ptr(e.ActionID),
		AccountId:           ptr(e.Account),
		Region:              ptr(e.Region),
		ResourceType:        ptr(api.ResourceTypeEbsVolume),
		CreatedTimestamp:    ptr(e.Created),
	}
	if e.Reason != "" {
		out.EventStatusReason = ptr(e.Reason)
	}
	if e.RuleID != "" {
		out.RuleId = ptr(e.RuleID)
	}
	if !e.Completed.IsZero() {
		out.CompletedTimestamp = ptr(e.Completed)
	}
	// Savings are shown for completed events and completed rollbacks
	// (automation-events.html).
	if e.Status == api.EventStatusComplete || e.Status == api.EventStatusRollbackComplete {
		out.EstimatedMonthlySavings = savings(e.Savings)
	}
	return out
}

func (s *step) toAPI(eventID string) api.AutomationEventStep {
	out := api.AutomationEventStep{
		EventId:                 ptr(eventID),
		StepId:                  ptr(s.ID),
		StepType:                ptr(s.Type),
		StepStatus:              ptr(s.Status),
		ResourceId:              ptr(s.ResourceID),
		EstimatedMonthlySavings: savings(s.Savings),
	}
	if !s.Start.IsZero() {
		out.StartTimestamp = ptr(s.Start)
	}
	if !s.Completed.IsZero() {
		out.CompletedTimestamp = ptr(s.Completed)
	}
	return out
}

func enqueueStep(tx store.Tx, eventID string, at time.Time) (string, error) {
	return runner.Enqueue(tx, jobEventStep, at, stepJob{Event: eventID})
}
