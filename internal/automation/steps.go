package automation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/store"
)

// An event runs one step per runner job, each in the transaction that
// takes the job: the step changes the inventory, records itself on the
// event and enqueues the next step, or ends the event. Steps happen at the
// job's due time on the orgstack clock, so that a jump of virtual time
// leaves the timeline a real run would have.

// stepFailure is a step that failed for a reason the event shows, as
// opposed to an error of orgstack itself (which the runner retries).
type stepFailure struct{ reason string }

func (f *stepFailure) Error() string { return f.reason }

func failStep(format string, args ...any) error { return &stepFailure{fmt.Sprintf(format, args...)} }

// runEventStep is the jobEventStep handler.
func runEventStep(_ context.Context, tx store.Tx, job runner.Job) error {
	var p stepJob
	if err := job.Decode(&p); err != nil {
		return err
	}
	e, err := getEvent(tx, p.Event)
	if err != nil || !underWay(e.Status) || len(e.Plan) == 0 {
		return err
	}
	at := job.Due
	rollback := e.Status == api.EventStatusRollbackReady || e.Status == api.EventStatusRollbackInProgress
	if rollback {
		e.Status = api.EventStatusRollbackInProgress
	} else {
		e.Status = api.EventStatusInProgress
	}
	st := step{ID: idgen.String(idgen.Alnum, 16), Type: e.Plan[0], Start: at}
	e.Plan = e.Plan[1:]
	err = performStep(tx, e, &st, rollback, at)
	var failure *stepFailure
	switch {
	case errors.As(err, &failure):
		st.Status, st.Completed, st.Savings = api.StepStatusFailed, at, 0
		e.Steps = append(e.Steps, st)
		e.Plan = nil
		e.Reason = fmt.Sprintf("The %s step failed: %s", st.Type, failure.reason)
		return finishEvent(tx, e, at, rollback, false)
	case err != nil:
		return err
	}
	st.Status, st.Completed = api.StepStatusComplete, at
	e.Steps = append(e.Steps, st)
	if len(e.Plan) == 0 {
		return finishEvent(tx, e, at, rollback, true)
	}
	if err := putEvent(tx, e); err != nil {
		return err
	}
	_, err = runner.Enqueue(tx, jobEventStep, at, stepJob{Event: e.ID})
	return err
}

// finishEvent ends an event (or its rollback) and frees its volume.
func finishEvent(tx store.Tx, e *event, at time.Time, rollback, ok bool) error {
	switch {
	case ok && rollback:
		e.Status = api.EventStatusRollbackComplete
	case ok:
		e.Status = api.EventStatusComplete
	case rollback:
		e.Status = api.EventStatusRollbackFailed
	default:
		e.Status = api.EventStatusFailed
	}
	e.Completed = at
	if err := release(tx, e); err != nil {
		return err
	}
	return putEvent(tx, e)
}

// release frees the event's volume for other actions.
func release(tx store.Tx, e *event) error {
	v, err := inventory.GetVolume(tx, e.VolumeID)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil
	}
	if err != nil || v.EventID != e.ID {
		return err
	}
	v.EventID = ""
	return inventory.PutVolume(tx, v)
}

// performStep does one step to the inventory.
func performStep(tx store.Tx, e *event, st *step, rollback bool, at time.Time) error {
	v, err := inventory.GetVolume(tx, e.VolumeID)
	if errors.Is(err, inventory.ErrNotFound) {
		return failStep("the volume %s no longer exists", e.VolumeID)
	}
	if err != nil {
		return err
	}
	st.ResourceID = v.ID
	if v.FailStep == string(st.Type) {
		return failStep("EC2 refused the request for volume %s (failStep set in the orgstack inventory)", v.ID)
	}
	switch st.Type {
	case api.StepTypeCreateEbsSnapshot:
		if v.State == inventory.StateDeleted {
			return failStep("the volume %s was deleted", v.ID)
		}
		snap := &inventory.Snapshot{
			AccountID: v.AccountID, Region: v.Region, ID: inventory.NewSnapshotID(), VolumeID: v.ID,
			VolumeType: v.Type, SizeGiB: v.SizeGiB, IOPS: v.IOPS, Throughput: v.Throughput,
			Tags: map[string]string{snapshotTag: e.ID}, VolumeTags: maps.Clone(v.Tags), State: "completed", Created: at,
		}
		if err := inventory.PutSnapshot(tx, snap); err != nil {
			return err
		}
		e.Snapshot, st.ResourceID = snap.ID, snap.ID
		st.Savings = -inventory.SnapshotMonthlyCost(v.Region, v.SizeGiB)
		return nil
	case api.StepTypeDeleteEbsVolume:
		if v.State != inventory.StateAvailable {
			return failStep("the volume %s is %s, not available", v.ID, v.State)
		}
		v.State, v.DeletedAt, v.EventID = inventory.StateDeleted, at, ""
		st.Savings = e.Before.monthlyCost(v.Region)
		return inventory.PutVolume(tx, v)
	case api.StepTypeModifyEbsVolume:
		from, to := e.Before, *e.After
		if rollback {
			from, to = to, from
		}
		if v.State == inventory.StateDeleted {
			return failStep("the volume %s was deleted", v.ID)
		}
		if configOf(v) != from {
			return failStep("the volume %s was changed to %s", v.ID, configOf(v).summary())
		}
		if v.ModificationsSince(at.Add(-24*time.Hour)) >= maxModifications {
			return failStep("the volume %s was already modified %d times in 24 hours, the most EBS allows", v.ID, maxModifications)
		}
		v.Type, v.SizeGiB, v.IOPS, v.Throughput = to.Type, to.SizeGiB, to.IOPS, to.Throughput
		v.Modifications = append(v.Modifications, at)
		st.Savings = from.monthlyCost(v.Region) - to.monthlyCost(v.Region)
		return inventory.PutVolume(tx, v)
	case api.StepTypeCreateEbsVolume:
		snap, err := inventory.GetSnapshot(tx, e.Snapshot)
		if errors.Is(err, inventory.ErrNotFound) || (err == nil && snap.State != "completed") {
			return failStep("the snapshot %s no longer exists", e.Snapshot)
		}
		if err != nil {
			return err
		}
		nv := &inventory.Volume{
			AccountID: snap.AccountID, Region: snap.Region, ID: inventory.NewVolumeID(), Type: snap.VolumeType,
			SizeGiB: snap.SizeGiB, IOPS: snap.IOPS, Throughput: snap.Throughput, Tags: maps.Clone(snap.VolumeTags),
			State: inventory.StateAvailable, UnattachedSince: at, Created: at, SourceSnapshot: snap.ID,
		}
		if err := inventory.CreateVolume(tx, nv); err != nil {
			return err
		}
		e.Restored, st.ResourceID = nv.ID, nv.ID
		st.Savings = -(e.Before.monthlyCost(v.Region) - inventory.SnapshotMonthlyCost(v.Region, v.SizeGiB))
		return nil
	}
	return fmt.Errorf("automation: unknown step type %s", st.Type)
}

// eventStepFailed records an event whose step kept failing inside
// orgstack (not a simulated failure): the event fails and frees its volume.
func eventStepFailed(_ context.Context, tx store.Tx, job runner.Job, cause error) error {
	var p stepJob
	if err := job.Decode(&p); err != nil {
		return err
	}
	e, err := getEvent(tx, p.Event)
	if err != nil || !underWay(e.Status) {
		return err
	}
	e.Reason = "An internal error stopped the event."
	e.Plan = nil
	rollback := e.Status == api.EventStatusRollbackReady || e.Status == api.EventStatusRollbackInProgress
	return finishEvent(tx, e, job.Due, rollback, false)
}
