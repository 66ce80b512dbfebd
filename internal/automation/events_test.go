package automation

import (
	"context"
	"errors"
	"testing"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// runEvent starts the volume's first action and runs its steps as the
// runner would, each in its own transaction.
func runEvent(t *testing.T, st store.Store, volID string, at time.Time) *event {
	t.Helper()
	ctx := context.Background()
	var id string
	err := st.Write(ctx, func(tx store.Tx) error {
		v, err := inventory.GetVolume(tx, volID)
		if err != nil {
			return err
		}
		acts := deriveActions(v, at)
		if len(acts) == 0 {
			return errors.New("no action")
		}
		e, err := startEvent(tx, &acts[0], "", at)
		if e != nil {
			id = e.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	settleSteps(t, st, id, at)
	return loadEvent(t, st, id)
}

func settleSteps(t *testing.T, st store.Store, id string, at time.Time) {
	t.Helper()
	for range 5 {
		err := st.Write(context.Background(), func(tx store.Tx) error {
			return runEventStep(context.Background(), tx, runner.Job{Kind: jobEventStep, Due: at, Payload: []byte(`{"event":"` + id + `"}`)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func loadEvent(t *testing.T, st store.Store, id string) *event {
	t.Helper()
	var e *event
	if err := st.Read(context.Background(), func(tx store.Tx) error {
		var err error
		e, err = getEvent(tx, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func addVolume(t *testing.T, st store.Store, v *inventory.Volume) {
	t.Helper()
	if err := st.Write(context.Background(), func(tx store.Tx) error { return inventory.CreateVolume(tx, v) }); err != nil {
		t.Fatal(err)
	}
}

// TestRollbackRefusals: a rollback needs the event's snapshot, or a volume
// unchanged since the upgrade; the refusal changes nothing.
func TestRollbackRefusals(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		vol    inventory.Volume
		tamper func(tx store.Tx, e *event) error
	}{
		{"snapshot deleted", inventory.Volume{Type: "gp3", SizeGiB: 10, State: inventory.StateAvailable, UnattachedSince: now.AddDate(0, 0, -40)},
			func(tx store.Tx, e *event) error {
				s, err := inventory.GetSnapshot(tx, e.Snapshot)
				if err != nil {
					return err
				}
				s.State = "deleted"
				return inventory.PutSnapshot(tx, s)
			}},
		{"volume changed since", inventory.Volume{Type: "gp2", SizeGiB: 10, IOPS: 100, Throughput: 128, State: inventory.StateInUse},
			func(tx store.Tx, e *event) error {
				v, err := inventory.GetVolume(tx, e.VolumeID)
				if err != nil {
					return err
				}
				v.SizeGiB = 20
				return inventory.PutVolume(tx, v)
			}},
		{"volume deleted since", inventory.Volume{Type: "io1", SizeGiB: 10, IOPS: 500, State: inventory.StateInUse},
			func(tx store.Tx, e *event) error {
				v, err := inventory.GetVolume(tx, e.VolumeID)
				if err != nil {
					return err
				}
				v.State = inventory.StateDeleted
				return inventory.PutVolume(tx, v)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			c.vol.AccountID, c.vol.Region, c.vol.ID = "111111111111", "us-east-1", inventory.NewVolumeID()
			addVolume(t, st, &c.vol)
			e := runEvent(t, st, c.vol.ID, now)
			if e.Status != api.EventStatusComplete {
				t.Fatalf("event %s: %s", e.Status, e.Reason)
			}
			err := st.Write(context.Background(), func(tx store.Tx) error {
				if err := c.tamper(tx, e); err != nil {
					return err
				}
				return startRollback(tx, e, now)
			})
			var inv *api.InvalidParameterValueException
			if !errors.As(err, &inv) {
				t.Fatalf("rollback: %v, want InvalidParameterValueException", err)
			}
			if got := loadEvent(t, st, e.ID); got.Status != api.EventStatusComplete {
				t.Errorf("status after the refusal: %s", got.Status)
			}
		})
	}
}

// TestStepFailures: failStep fails that step, the event says why, and a
// rollback whose step fails ends RollbackFailed.
func TestStepFailures(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, step := range []string{"CreateEbsSnapshot", "DeleteEbsVolume", "ModifyEbsVolume", "CreateEbsVolume"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			v := &inventory.Volume{AccountID: "111111111111", Region: "us-east-1", ID: inventory.NewVolumeID(), Type: "gp3", SizeGiB: 10,
				State: inventory.StateAvailable, UnattachedSince: now.AddDate(0, 0, -40), FailStep: step}
			if step == "ModifyEbsVolume" {
				v.Type, v.State, v.UnattachedSince = "gp2", inventory.StateInUse, time.Time{}
			}
			addVolume(t, st, v)
			e := runEvent(t, st, v.ID, now)
			if step == "CreateEbsVolume" {
				if e.Status != api.EventStatusComplete {
					t.Fatalf("event %s", e.Status)
				}
				if err := st.Write(context.Background(), func(tx store.Tx) error { return startRollback(tx, e, now) }); err != nil {
					t.Fatal(err)
				}
				settleSteps(t, st, e.ID, now)
				e = loadEvent(t, st, e.ID)
				if e.Status != api.EventStatusRollbackFailed {
					t.Fatalf("rollback %s", e.Status)
				}
				return
			}
			if e.Status != api.EventStatusFailed || e.Reason == "" || e.Steps[len(e.Steps)-1].Status != api.StepStatusFailed {
				t.Fatalf("event %s %q %+v", e.Status, e.Reason, e.Steps)
			}
			// The volume is free again and still recommended.
			err := st.Read(context.Background(), func(tx store.Tx) error {
				got, err := inventory.GetVolume(tx, v.ID)
				if err == nil && (got.EventID != "" || len(deriveActions(got, now)) == 0) {
					err = errors.New("volume still held or no longer recommended")
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
}
