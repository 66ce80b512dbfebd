package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// seedVolumes adds volumes through the inventory admin API.
func seedVolumes(t *testing.T, e *env, vols ...map[string]any) []string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"volumes": vols})
	status, m := e.adminDo(t, "POST", "/_orgstack/inventory/ebs-volumes", string(b))
	if status != http.StatusOK {
		t.Fatalf("seed volumes: %d %v", status, m)
	}
	return strs(m["volumeIds"].([]any))
}

// inventoryVolumes reads an account's volumes by id.
func inventoryVolumes(t *testing.T, e *env, account string) map[string]map[string]any {
	t.Helper()
	status, m := e.adminDo(t, "GET", "/_orgstack/inventory/ebs-volumes?accountId="+account, "")
	if status != http.StatusOK {
		t.Fatalf("list volumes: %d %v", status, m)
	}
	out := map[string]map[string]any{}
	for _, v := range m["volumes"].([]any) {
		vm := v.(map[string]any)
		out[vm["volumeId"].(string)] = vm
	}
	return out
}

func actionsByVolume(r acoResult) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, a := range r.list("recommendedActions") {
		am := a.(map[string]any)
		out[am["resourceId"].(string)+"/"+am["recommendedActionType"].(string)] = am
	}
	return out
}

func TestAutomationEventsLifecycle(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
			e.Clock.Set(now)
			mgmt, a, b, outsider := accountID(300+i, 1), accountID(300+i, 2), accountID(300+i, 3), accountID(300+i, 9)
			newACOOrg(t, e, wire, mgmt, a, b)
			mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a, b)})
			optIn(t, e, wire, outsider)
			old := now.AddDate(0, 0, -40).Format(time.RFC3339)
			vols := seedVolumes(t, e,
				map[string]any{"accountId": a, "region": "us-east-1", "volumeType": "gp3", "sizeInGib": 100, "attached": false, "unattachedSince": old, "tags": map[string]any{"env": "dev"}},
				map[string]any{"accountId": a, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 500, "attached": true, "tags": map[string]any{"env": "prod"}},
				map[string]any{"accountId": b, "region": "eu-west-1", "volumeType": "io1", "sizeInGib": 50, "iops": 1000, "attached": true},
				map[string]any{"accountId": b, "region": "us-east-1", "volumeType": "gp3", "sizeInGib": 20, "attached": false, "unattachedSince": old, "failStep": "DeleteEbsVolume"},
				map[string]any{"accountId": a, "region": "us-east-1", "volumeType": "gp3", "sizeInGib": 10, "attached": false}, // unattached today: nothing yet
			)

			// The management account sees both members; a member only itself.
			all := actionsByVolume(mustACO(t, e, wire, "ListRecommendedActions", mgmt, nil))
			if len(all) != 4 {
				t.Fatalf("management account sees %d actions, want 4: %v", len(all), all)
			}
			del := all[vols[0]+"/SnapshotAndDeleteUnattachedEbsVolume"]
			// 100 GiB gp3 at 0.08 minus a 100 GiB snapshot at 0.05.
			if sv := del["estimatedMonthlySavings"].(map[string]any); sv["beforeDiscountSavings"] != 3.0 || sv["currency"] != "USD" || sv["afterDiscountSavings"] != 3.0 {
				t.Errorf("savings of the delete: %v", sv)
			}
			up := all[vols[1]+"/UpgradeEbsVolumeType"]
			if rc := up["recommendedResourceDetails"].(map[string]any)["ebsVolume"].(map[string]any)["configuration"].(map[string]any); rc["type"] != "gp3" || rc["iops"] != 3000.0 || rc["throughput"] != 250.0 {
				t.Errorf("upgrade target %v", rc)
			}
			if got := actionsByVolume(mustACO(t, e, wire, "ListRecommendedActions", a, nil)); len(got) != 2 {
				t.Errorf("member sees %d actions, want its own 2", len(got))
			}
			if got := mustACO(t, e, wire, "ListRecommendedActions", outsider, nil); len(got.list("recommendedActions")) != 0 {
				t.Errorf("outsider sees %v", got.body)
			}
			filtered := mustACO(t, e, wire, "ListRecommendedActions", mgmt, map[string]any{"filters": []any{
				map[string]any{"name": "RecommendedActionType", "values": []any{"UpgradeEbsVolumeType"}},
				map[string]any{"name": "CurrentResourceDetailsEbsVolumeType", "values": []any{"io*"}},
			}})
			if l := filtered.list("recommendedActions"); len(l) != 1 || l[0].(map[string]any)["resourceId"] != vols[2] {
				t.Errorf("filtered: %v", filtered.body)
			}
			// Paging: one per page, all four, no repeats.
			seen := map[string]bool{}
			in := map[string]any{"maxResults": 1}
			for {
				r := mustACO(t, e, wire, "ListRecommendedActions", mgmt, in)
				for _, x := range r.list("recommendedActions") {
					seen[x.(map[string]any)["recommendedActionId"].(string)] = true
				}
				if r.str("nextToken") == "" {
					break
				}
				in["nextToken"] = r.str("nextToken")
			}
			if len(seen) != 4 {
				t.Errorf("paging saw %d actions", len(seen))
			}
			wantACOError(t, aco(t, e, wire, "ListRecommendedActions", mgmt, map[string]any{"nextToken": "bogus"}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "ListRecommendedActions", accountID(300+i, 8), nil), "OptInRequiredException")

			sums := mustACO(t, e, wire, "ListRecommendedActionSummaries", mgmt, nil)
			if l := sums.list("recommendedActionSummaries"); len(l) != 2 || l[0].(map[string]any)["key"] != "SnapshotAndDeleteUnattachedEbsVolume" ||
				l[0].(map[string]any)["total"].(map[string]any)["recommendedActionCount"] != 2.0 {
				t.Errorf("summaries: %v", sums.body)
			}

			// Previews.
			prev := mustACO(t, e, wire, "ListAutomationRulePreview", mgmt, map[string]any{
				"ruleType": "OrganizationRule", "recommendedActionTypes": []any{"SnapshotAndDeleteUnattachedEbsVolume"},
				"organizationScope": map[string]any{"accountIds": []any{a}},
			})
			if l := prev.list("previewResults"); len(l) != 1 || l[0].(map[string]any)["resourceId"] != vols[0] {
				t.Errorf("org preview: %v", prev.body)
			}
			wantACOError(t, aco(t, e, wire, "ListAutomationRulePreview", a, map[string]any{
				"ruleType": "OrganizationRule", "recommendedActionTypes": []any{"UpgradeEbsVolumeType"}}), "AccessDeniedException")
			ps := mustACO(t, e, wire, "ListAutomationRulePreviewSummaries", a, map[string]any{
				"ruleType": "AccountRule", "recommendedActionTypes": []any{"UpgradeEbsVolumeType"},
				"criteria": map[string]any{"resourceTag": []any{map[string]any{"key": "env", "comparison": "StringEquals", "values": []any{"prod"}}}},
			})
			if l := ps.list("previewResultSummaries"); len(l) != 1 || l[0].(map[string]any)["total"].(map[string]any)["recommendedActionCount"] != 1.0 {
				t.Errorf("preview summaries: %v", ps.body)
			}

			// Start the delete as the management account, for member a.
			wantACOError(t, aco(t, e, wire, "StartAutomationEvent", outsider, map[string]any{"recommendedActionId": del["recommendedActionId"]}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "StartAutomationEvent", mgmt, map[string]any{"recommendedActionId": "AAAAAAAAAAAAAAAA"}), "ResourceNotFoundException")
			st := mustACO(t, e, wire, "StartAutomationEvent", mgmt, map[string]any{"recommendedActionId": del["recommendedActionId"], "clientToken": "tok-1"})
			again := mustACO(t, e, wire, "StartAutomationEvent", mgmt, map[string]any{"recommendedActionId": del["recommendedActionId"], "clientToken": "tok-1"})
			if st.str("eventStatus") != "Ready" || again.str("eventId") != st.str("eventId") {
				t.Fatalf("start %v, retry %v", st.body, again.body)
			}
			wantACOError(t, aco(t, e, wire, "StartAutomationEvent", mgmt, map[string]any{"recommendedActionId": up["recommendedActionId"], "clientToken": "tok-1"}), "IdempotentParameterMismatchException")
			e.settle(t)
			ev := mustACO(t, e, wire, "GetAutomationEvent", a, map[string]any{"eventId": st.str("eventId")})
			if ev.str("eventStatus") != "Complete" || ev.str("accountId") != a || ev.body["estimatedMonthlySavings"] == nil {
				t.Fatalf("event: %v", ev.body)
			}
			steps := mustACO(t, e, wire, "ListAutomationEventSteps", mgmt, map[string]any{"eventId": st.str("eventId")}).list("automationEventSteps")
			if len(steps) != 2 || steps[0].(map[string]any)["stepType"] != "CreateEbsSnapshot" || steps[1].(map[string]any)["stepStatus"] != "Complete" {
				t.Errorf("steps: %v", steps)
			}
			if v := inventoryVolumes(t, e, a)[vols[0]]; v["state"] != "deleted" {
				t.Errorf("volume after the event: %v", v)
			}
			_, snaps := e.adminDo(t, "GET", "/_orgstack/inventory/ebs-snapshots?accountId="+a, "")
			sl := snaps["snapshots"].([]any)
			if len(sl) != 1 || sl[0].(map[string]any)["tags"].(map[string]any)["aws:compute-optimizer:automation-event-id"] != st.str("eventId") {
				t.Errorf("snapshots: %v", snaps)
			}
			wantACOError(t, aco(t, e, wire, "GetAutomationEvent", outsider, map[string]any{"eventId": st.str("eventId")}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "GetAutomationEvent", a, map[string]any{"eventId": "ZZZZZZZZZZZZZZZZ"}), "ResourceNotFoundException")

			// Roll it back: a new volume with the user tags.
			rb := mustACO(t, e, wire, "RollbackAutomationEvent", a, map[string]any{"eventId": st.str("eventId")})
			if rb.str("eventStatus") != "RollbackReady" {
				t.Errorf("rollback: %v", rb.body)
			}
			e.settle(t)
			if got := mustACO(t, e, wire, "GetAutomationEvent", a, map[string]any{"eventId": st.str("eventId")}); got.str("eventStatus") != "RollbackComplete" {
				t.Errorf("after rollback: %v", got.body)
			}
			restored := 0
			for id, v := range inventoryVolumes(t, e, a) {
				if id != vols[0] && v["sourceSnapshot"] != nil && v["tags"].(map[string]any)["env"] == "dev" && v["state"] == "available" {
					restored++
				}
			}
			if restored != 1 {
				t.Errorf("restored volumes: %d", restored)
			}
			wantACOError(t, aco(t, e, wire, "RollbackAutomationEvent", a, map[string]any{"eventId": st.str("eventId")}), "InvalidParameterValueException")

			// Upgrade and roll back; then a failing delete.
			su := mustACO(t, e, wire, "StartAutomationEvent", a, map[string]any{"recommendedActionId": up["recommendedActionId"]})
			failing := all[vols[3]+"/SnapshotAndDeleteUnattachedEbsVolume"]
			sf := mustACO(t, e, wire, "StartAutomationEvent", b, map[string]any{"recommendedActionId": failing["recommendedActionId"]})
			e.settle(t)
			if v := inventoryVolumes(t, e, a)[vols[1]]; v["volumeType"] != "gp3" {
				t.Errorf("upgraded volume: %v", v)
			}
			fe := mustACO(t, e, wire, "GetAutomationEvent", b, map[string]any{"eventId": sf.str("eventId")})
			if fe.str("eventStatus") != "Failed" || fe.str("eventStatusReason") == "" {
				t.Errorf("failing event: %v", fe.body)
			}
			wantACOError(t, aco(t, e, wire, "RollbackAutomationEvent", b, map[string]any{"eventId": sf.str("eventId")}), "InvalidParameterValueException")
			mustACO(t, e, wire, "RollbackAutomationEvent", mgmt, map[string]any{"eventId": su.str("eventId"), "clientToken": "rb-1"})
			e.settle(t)
			if v := inventoryVolumes(t, e, a)[vols[1]]; v["volumeType"] != "gp2" {
				t.Errorf("rolled back volume: %v", v)
			}

			// Listings.
			evs := mustACO(t, e, wire, "ListAutomationEvents", mgmt, map[string]any{"filters": []any{map[string]any{"name": "EventStatus", "values": []any{"Rollback*"}}}})
			if l := evs.list("automationEvents"); len(l) != 2 {
				t.Errorf("rolled back events: %v", evs.body)
			}
			if l := mustACO(t, e, wire, "ListAutomationEvents", a, nil).list("automationEvents"); len(l) != 2 {
				t.Errorf("member's events: %d", len(l))
			}
			if l := mustACO(t, e, wire, "ListAutomationEvents", mgmt, map[string]any{"endTimeExclusive": tsArg(wire, now.Add(-time.Hour))}).list("automationEvents"); len(l) != 0 {
				t.Errorf("events before: %d", len(l))
			}
			es := mustACO(t, e, wire, "ListAutomationEventSummaries", mgmt, map[string]any{"startDateInclusive": "2026-05-04"})
			total := 0.0
			for _, s := range es.list("automationEventSummaries") {
				sm := s.(map[string]any)
				tp := sm["timePeriod"].(map[string]any)
				if sm["key"] != "2026-05" || !asTime(tp["startTimeInclusive"]).Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) ||
					!asTime(tp["endTimeExclusive"]).Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("summary %v", sm)
				}
				total += sm["total"].(map[string]any)["automationEventCount"].(float64)
			}
			if total != 3 {
				t.Errorf("summaries count %v events: %v", total, es.body)
			}
			wantACOError(t, aco(t, e, wire, "ListAutomationEventSummaries", mgmt, map[string]any{"startDateInclusive": "May 4"}), "InvalidParameterValueException")
			// Events older than a year are not listed.
			e.Clock.Set(now.AddDate(1, 0, 1))
			if l := mustACO(t, e, wire, "ListAutomationEvents", mgmt, nil).list("automationEvents"); len(l) != 0 {
				t.Errorf("year-old events listed: %d", len(l))
			}
		})
	}
}

// TestAutomationScheduledRuns: an organization rule for 02:00 in Berlin
// runs once a day when the clock is advanced through the admin API, acts
// only on what it owns, and a deactivated rule stops.
func TestAutomationScheduledRuns(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
			e.Clock.Set(now)
			mgmt, a, b := accountID(320+i, 1), accountID(320+i, 2), accountID(320+i, 3)
			newACOOrg(t, e, wire, mgmt, a, b)
			mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a, b)})
			old := now.AddDate(0, 0, -60).Format(time.RFC3339)
			var specs []map[string]any
			for _, acct := range []string{a, b} {
				for range 3 {
					specs = append(specs, map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 100, "attached": false, "unattachedSince": old})
				}
			}
			seedVolumes(t, e, specs...)
			rule := mustACO(t, e, wire, "CreateAutomationRule", mgmt, map[string]any{
				"name": "nightly", "ruleType": "OrganizationRule", "status": "Active",
				"organizationConfiguration": map[string]any{"accountIds": []any{a}, "ruleApplyOrder": "BeforeAccountRules"},
				"recommendedActionTypes":    []any{"SnapshotAndDeleteUnattachedEbsVolume"},
				"schedule":                  map[string]any{"scheduleExpression": "0 2 * * *", "scheduleExpressionTimezone": "Europe/Berlin", "executionWindowInMinutes": 60},
			})
			// Member b's own account rule for upgrades, daily at 03:00 UTC.
			mustACO(t, e, wire, "CreateAutomationRule", b, map[string]any{
				"name": "upgrades", "ruleType": "AccountRule", "status": "Active",
				"recommendedActionTypes": []any{"UpgradeEbsVolumeType"},
				"schedule":               map[string]any{"scheduleExpression": "0 3 * * *", "executionWindowInMinutes": 60},
			})
			if c := e.do(t, "POST", "/_orgstack/clock", nil, []byte(`{"advance":"48h"}`)); c.status != 200 {
				t.Fatalf("advance: %d", c.status)
			}
			evs := mustACO(t, e, wire, "ListAutomationEvents", mgmt, nil).list("automationEvents")
			byAcct := map[string]int{}
			for _, x := range evs {
				xm := x.(map[string]any)
				if xm["eventStatus"] != "Complete" {
					t.Errorf("event %v", xm)
				}
				byAcct[xm["accountId"].(string)+"/"+xm["eventType"].(string)]++
				if xm["accountId"] == a {
					if xm["ruleId"] != rule.str("ruleId") || !xm["createdTimestamp"].(time.Time).Equal(time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC)) {
						t.Errorf("org rule event %v", xm)
					}
				}
			}
			// The org rule deletes a's three volumes on its first run
			// (02:00 CEST = 00:00 UTC on June 11); b's rule upgrades its
			// three on June 11 03:00 UTC. Nothing runs twice.
			want := map[string]int{a + "/SnapshotAndDeleteUnattachedEbsVolume": 3, b + "/UpgradeEbsVolumeType": 3}
			if fmt.Sprint(byAcct) != fmt.Sprint(want) {
				t.Errorf("events %v, want %v", byAcct, want)
			}
			// Disassociating b... and deactivating: no more runs.
			mustACO(t, e, wire, "UpdateAutomationRule", mgmt, map[string]any{"ruleArn": rule.str("ruleArn"), "ruleRevision": 1, "status": "Inactive"})
			seedVolumes(t, e, map[string]any{"accountId": a, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 10, "attached": false, "unattachedSince": old})
			e.do(t, "POST", "/_orgstack/clock", nil, []byte(`{"advance":"168h"}`))
			if n := len(mustACO(t, e, wire, "ListAutomationEvents", a, nil).list("automationEvents")); n != 3 {
				t.Errorf("inactive rule ran: %d events for a", n)
			}
		})
	}
}

// tsArg is a timestamp request member for a wire: epoch seconds in JSON,
// a tagged time in CBOR.
func tsArg(wire string, t time.Time) any {
	if wire == "json" {
		return float64(t.Unix())
	}
	return t
}

// asTime reads a timestamp member that normalizeTimes does not know by
// name: epoch seconds from JSON, a time from CBOR.
func asTime(v any) time.Time {
	switch v := v.(type) {
	case float64:
		return time.Unix(int64(v), 0).UTC()
	case time.Time:
		return v.UTC()
	}
	return time.Time{}
}
