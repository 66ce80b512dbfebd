package e2e

import (
	"testing"
	"time"
)

// TestAutomationScheduleScope: an organization rule skips members that
// were disassociated; the rules of an account that opted out stop; a
// scheduled run starts at most what one rule owns by priority.
func TestAutomationScheduleScope(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
			e.Clock.Set(now)
			mgmt, a, b, c := accountID(380+i, 1), accountID(380+i, 2), accountID(380+i, 3), accountID(380+i, 4)
			newACOOrg(t, e, wire, mgmt, a, b, c)
			mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a, b)})
			optIn(t, e, wire, c)
			for _, acct := range []string{a, b, c} {
				seedVolumes(t, e,
					map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 10, "attached": true, "tags": map[string]any{"tier": "gold"}},
					map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 10, "attached": true})
			}
			sched := map[string]any{"scheduleExpression": "0 1 * * *", "executionWindowInMinutes": 60}
			types := []any{"UpgradeEbsVolumeType"}
			// The organization rule runs after account rules, so a's own
			// rule for gold volumes takes those first.
			org := mustACO(t, e, wire, "CreateAutomationRule", mgmt, map[string]any{
				"name": "org", "ruleType": "OrganizationRule", "status": "Active", "schedule": sched, "recommendedActionTypes": types,
				"organizationConfiguration": map[string]any{"ruleApplyOrder": "AfterAccountRules"},
			})
			own := mustACO(t, e, wire, "CreateAutomationRule", a, map[string]any{
				"name": "gold", "ruleType": "AccountRule", "status": "Active", "schedule": map[string]any{"scheduleExpression": "0 2 * * *", "executionWindowInMinutes": 60},
				"recommendedActionTypes": types,
				"criteria":               map[string]any{"resourceTag": []any{map[string]any{"key": "tier", "comparison": "StringEquals", "values": []any{"gold"}}}},
			})
			mustACO(t, e, wire, "CreateAutomationRule", c, map[string]any{"name": "c", "ruleType": "AccountRule", "status": "Active", "schedule": sched, "recommendedActionTypes": types})
			mustACO(t, e, wire, "DisassociateAccounts", mgmt, map[string]any{"accountIds": ids(b)})
			mustACO(t, e, wire, "UpdateEnrollmentConfiguration", c, map[string]any{"status": "Inactive"})

			e.do(t, "POST", "/_orgstack/clock", nil, []byte(`{"advance":"24h"}`))
			got := map[string]string{}
			for _, x := range mustACO(t, e, wire, "ListAutomationEvents", mgmt, nil).list("automationEvents") {
				xm := x.(map[string]any)
				got[xm["resourceId"].(string)] = xm["ruleId"].(string)
			}
			vols := inventoryVolumes(t, e, a)
			if len(got) != 2 {
				t.Fatalf("events %v, want a's two volumes only", got)
			}
			for id, v := range vols {
				want := org.str("ruleId")
				if tags, _ := v["tags"].(map[string]any); tags["tier"] == "gold" {
					want = own.str("ruleId")
				}
				if got[id] != want {
					t.Errorf("volume %s went to rule %s, want %s", id, got[id], want)
				}
			}
			for _, acct := range []string{b, c} {
				for id, v := range inventoryVolumes(t, e, acct) {
					if v["volumeType"] != "gp2" {
						t.Errorf("%s's volume %s changed: %v", acct, id, v)
					}
				}
			}
		})
	}
}

// TestAutomationRunWithinWindow: a run with more actions than the
// concurrency quota starts 100, then the rest as the first finish, within
// its execution window.
func TestAutomationRunWithinWindow(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
			e.Clock.Set(now)
			acct := accountID(390+i, 1)
			optIn(t, e, wire, acct)
			var specs []map[string]any
			for range 150 {
				specs = append(specs, map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp3", "sizeInGib": 8, "attached": false, "unattachedSince": "2026-01-01T00:00:00Z"})
			}
			seedVolumes(t, e, specs...)
			mustACO(t, e, wire, "CreateAutomationRule", acct, map[string]any{
				"name": "cleanup", "ruleType": "AccountRule", "status": "Active",
				"recommendedActionTypes": []any{"SnapshotAndDeleteUnattachedEbsVolume"},
				"schedule":               map[string]any{"scheduleExpression": "0 4 * * *", "executionWindowInMinutes": 60},
			})
			e.do(t, "POST", "/_orgstack/clock", nil, []byte(`{"advance":"20h"}`))
			at := map[time.Time]int{}
			in := map[string]any{}
			for {
				r := mustACO(t, e, wire, "ListAutomationEvents", acct, in)
				for _, x := range r.list("automationEvents") {
					xm := x.(map[string]any)
					if xm["eventStatus"] != "Complete" {
						t.Errorf("event %v", xm)
					}
					at[xm["createdTimestamp"].(time.Time)]++
				}
				if r.str("nextToken") == "" {
					break
				}
				in["nextToken"] = r.str("nextToken")
			}
			run := time.Date(2026, 11, 3, 4, 0, 0, 0, time.UTC)
			want := map[time.Time]int{run: 100, run.Add(5 * time.Minute): 50}
			if len(at) != 2 || at[run] != 100 || at[run.Add(5*time.Minute)] != 50 {
				t.Errorf("events by start %v, want %v", at, want)
			}
		})
	}
}
