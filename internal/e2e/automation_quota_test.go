package e2e

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/app"
)

// TestAutomationConcurrencyQuota: at most 100 actions in progress per
// account and Region; the 101st start is refused until some finish.
func TestAutomationConcurrencyQuota(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			now := time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)
			e.Clock.Set(now)
			acct := accountID(340+i, 1)
			optIn(t, e, wire, acct)
			var specs []map[string]any
			for range 101 {
				specs = append(specs, map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 10, "attached": true})
			}
			specs = append(specs, map[string]any{"accountId": acct, "region": "us-west-2", "volumeType": "gp2", "sizeInGib": 10, "attached": true})
			seedVolumes(t, e, specs...)
			var acts []map[string]any
			in := map[string]any{}
			for {
				r := mustACO(t, e, wire, "ListRecommendedActions", acct, in)
				for _, a := range r.list("recommendedActions") {
					acts = append(acts, a.(map[string]any))
				}
				if r.str("nextToken") == "" {
					break
				}
				in["nextToken"] = r.str("nextToken")
			}
			if len(acts) != 102 {
				t.Fatalf("%d actions, want 102", len(acts))
			}
			// Hold the runner so that started events stay in progress.
			e.App.Runner.Stop()
			started := 0
			var west, over string
			for _, a := range acts {
				if a["region"] == "us-west-2" {
					west = a["recommendedActionId"].(string)
					continue
				}
				if started == 100 {
					over = a["recommendedActionId"].(string)
					continue
				}
				mustACO(t, e, wire, "StartAutomationEvent", acct, map[string]any{"recommendedActionId": a["recommendedActionId"]})
				started++
			}
			wantACOError(t, aco(t, e, wire, "StartAutomationEvent", acct, map[string]any{"recommendedActionId": over}), "ServiceQuotaExceededException")
			mustACO(t, e, wire, "StartAutomationEvent", acct, map[string]any{"recommendedActionId": west}) // another Region has its own quota
			e.App.Runner.Start()
			e.settle(t)
			mustACO(t, e, wire, "StartAutomationEvent", acct, map[string]any{"recommendedActionId": over})
		})
	}
}

// TestAutomationModificationLimit: EBS allows four modifications of a
// volume in 24 hours; upgrades and their rollbacks count.
func TestAutomationModificationLimit(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			now := time.Date(2026, 8, 3, 9, 0, 0, 0, time.UTC)
			e.Clock.Set(now)
			acct := accountID(350+i, 1)
			optIn(t, e, wire, acct)
			vol := seedVolumes(t, e, map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "io1", "sizeInGib": 100, "iops": 5000, "attached": true})[0]
			upgradeID := func() string {
				l := mustACO(t, e, wire, "ListRecommendedActions", acct, nil).list("recommendedActions")
				if len(l) != 1 {
					t.Fatalf("actions: %v", l)
				}
				return l[0].(map[string]any)["recommendedActionId"].(string)
			}
			id := upgradeID()
			for range 2 {
				if upgradeID() != id {
					t.Fatal("the action id changed while the action applied")
				}
				ev := mustACO(t, e, wire, "StartAutomationEvent", acct, map[string]any{"recommendedActionId": id})
				e.settle(t)
				if v := inventoryVolumes(t, e, acct)[vol]; v["volumeType"] != "io2" || v["iops"] != 5000.0 {
					t.Fatalf("upgraded: %v", v)
				}
				mustACO(t, e, wire, "RollbackAutomationEvent", acct, map[string]any{"eventId": ev.str("eventId")})
				e.settle(t)
				e.Clock.Set(e.Clock.Now().Add(time.Hour))
			}
			// Four modifications in the last 24 hours: no fifth.
			wantACOError(t, aco(t, e, wire, "StartAutomationEvent", acct, map[string]any{"recommendedActionId": id}), "ServiceQuotaExceededException")
			e.Clock.Set(now.Add(24*time.Hour + time.Minute))
			mustACO(t, e, wire, "StartAutomationEvent", acct, map[string]any{"recommendedActionId": id})
		})
	}
}

// TestAutomationSchedulerRestart: rule runs are jobs in the store; a
// restarted orgstack over the same store runs each scheduled run once.
func TestAutomationSchedulerRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wire := "json"
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	e.Clock.Set(now)
	acct := accountID(360, 1)
	optIn(t, e, wire, acct)
	seedVolumes(t, e,
		map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 10, "attached": true},
		map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 20, "attached": true})
	mustACO(t, e, wire, "CreateAutomationRule", acct, map[string]any{
		"name": "weekly", "ruleType": "AccountRule", "status": "Active",
		"recommendedActionTypes": []any{"UpgradeEbsVolumeType"},
		"criteria":               map[string]any{"ebsVolumeSizeInGib": []any{map[string]any{"comparison": "NumericLessThan", "values": []any{15}}}},
		"schedule":               map[string]any{"scheduleExpression": "0 6 * * 1", "executionWindowInMinutes": 60},
	})
	ctx := context.Background()
	if n, err := e.App.Runner.Pending(ctx, "aco.rule-run"); err != nil || n != 1 {
		t.Fatalf("pending rule runs %d %v", n, err)
	}
	e.App.Close()

	// A second orgstack over the same store, its clock a week later.
	a2, err := app.New(ctx, e.Store, app.Config{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a2.Close)
	hs := httptest.NewServer(a2.Handler())
	t.Cleanup(hs.Close)
	e2 := &env{URL: hs.URL, Store: e.Store, Clock: a2.Clock, App: a2}
	e2.Clock.Set(now.Add(7 * 24 * time.Hour))
	e2.settle(t)
	e2.settle(t)
	evs := mustACO(t, e2, wire, "ListAutomationEvents", acct, nil).list("automationEvents")
	if len(evs) != 1 || evs[0].(map[string]any)["eventStatus"] != "Complete" {
		t.Fatalf("events after a week: %v", evs)
	}
	if n, _ := a2.Runner.Pending(ctx, "aco.rule-run"); n != 1 {
		t.Errorf("pending rule runs after the run: %d", n)
	}
	// The volume of 20 GiB is not the rule's; the upgraded one has no
	// action left; another week runs once more and finds nothing.
	e2.Clock.Set(now.Add(14 * 24 * time.Hour))
	e2.settle(t)
	if l := mustACO(t, e2, wire, "ListAutomationEvents", acct, nil).list("automationEvents"); len(l) != 1 {
		t.Errorf("events after two weeks: %d", len(l))
	}
}
