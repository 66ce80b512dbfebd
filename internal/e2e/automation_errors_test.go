package e2e

import (
	"testing"
	"time"
)

// TestAutomationEventErrors: the documented error paths of the
// recommended-action, preview and event operations, over both wires.
func TestAutomationEventErrors(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			e.Clock.Set(now)
			acct, other, never := accountID(395+i, 1), accountID(395+i, 2), accountID(395+i, 9)
			optIn(t, e, wire, acct)
			optIn(t, e, wire, other)
			vol := seedVolumes(t, e, map[string]any{"accountId": acct, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 10, "attached": true})[0]
			act := mustACO(t, e, wire, "ListRecommendedActions", acct, nil).list("recommendedActions")[0].(map[string]any)
			ev := mustACO(t, e, wire, "StartAutomationEvent", acct, map[string]any{"recommendedActionId": act["recommendedActionId"], "clientToken": "t1"})
			e.settle(t)
			_ = vol

			badFilter := []any{map[string]any{"name": "AccountId", "values": []any{"bad!"}}}
			preview := func(extra map[string]any) map[string]any {
				m := map[string]any{"ruleType": "AccountRule", "recommendedActionTypes": []any{"UpgradeEbsVolumeType"}}
				for k, v := range extra {
					m[k] = v
				}
				return m
			}
			cases := []struct {
				name, op, account string
				in                map[string]any
				code              string
			}{
				{"actions: not opted in", "ListRecommendedActions", never, nil, "OptInRequiredException"},
				{"actions: bad filter value", "ListRecommendedActions", acct, map[string]any{"filters": badFilter}, "InvalidParameterValueException"},
				{"action summaries: not opted in", "ListRecommendedActionSummaries", never, nil, "OptInRequiredException"},
				{"action summaries: bad filter value", "ListRecommendedActionSummaries", acct, map[string]any{"filters": badFilter}, "InvalidParameterValueException"},
				{"action summaries: bad token", "ListRecommendedActionSummaries", acct, map[string]any{"nextToken": "x"}, "InvalidParameterValueException"},
				{"preview: not opted in", "ListAutomationRulePreview", never, preview(nil), "OptInRequiredException"},
				{"preview: organization scope on an account rule", "ListAutomationRulePreview", acct, preview(map[string]any{"organizationScope": map[string]any{"accountIds": []any{other}}}), "InvalidParameterValueException"},
				{"preview: organization rule outside an organization", "ListAutomationRulePreview", acct, preview(map[string]any{"ruleType": "OrganizationRule"}), "AccessDeniedException"},
				{"preview: bad criteria", "ListAutomationRulePreview", acct, preview(map[string]any{"criteria": map[string]any{"region": []any{map[string]any{"comparison": "NumericEquals", "values": []any{"x"}}}}}), "InvalidParameterValueException"},
				{"preview: no action types", "ListAutomationRulePreview", acct, preview(map[string]any{"recommendedActionTypes": []any{}}), "InvalidParameterValueException"},
				{"preview summaries: not opted in", "ListAutomationRulePreviewSummaries", never, preview(nil), "OptInRequiredException"},
				{"preview summaries: bad criteria", "ListAutomationRulePreviewSummaries", acct, preview(map[string]any{"criteria": map[string]any{"ebsVolumeSizeInGib": []any{map[string]any{"comparison": "StringEquals", "values": []any{1}}}}}), "InvalidParameterValueException"},
				{"preview summaries: organization rule", "ListAutomationRulePreviewSummaries", acct, preview(map[string]any{"ruleType": "OrganizationRule"}), "AccessDeniedException"},
				{"start: not opted in", "StartAutomationEvent", never, map[string]any{"recommendedActionId": act["recommendedActionId"]}, "OptInRequiredException"},
				{"start: malformed id", "StartAutomationEvent", acct, map[string]any{"recommendedActionId": "short"}, "InvalidParameterValueException"},
				{"start: bad token", "StartAutomationEvent", acct, map[string]any{"recommendedActionId": act["recommendedActionId"], "clientToken": "no spaces"}, "InvalidParameterValueException"},
				{"start: another account's action", "StartAutomationEvent", other, map[string]any{"recommendedActionId": act["recommendedActionId"]}, "ResourceNotFoundException"},
				{"start: the action was done", "StartAutomationEvent", acct, map[string]any{"recommendedActionId": act["recommendedActionId"]}, "ResourceNotFoundException"},
				{"get: not opted in", "GetAutomationEvent", never, map[string]any{"eventId": ev.str("eventId")}, "OptInRequiredException"},
				{"get: malformed id", "GetAutomationEvent", acct, map[string]any{"eventId": "bad-id-0123456789"}, "InvalidParameterValueException"},
				{"get: another account's event", "GetAutomationEvent", other, map[string]any{"eventId": ev.str("eventId")}, "ResourceNotFoundException"},
				{"events: not opted in", "ListAutomationEvents", never, nil, "OptInRequiredException"},
				{"events: empty range", "ListAutomationEvents", acct, map[string]any{"startTimeInclusive": tsArg(wire, now), "endTimeExclusive": tsArg(wire, now)}, "InvalidParameterValueException"},
				{"events: bad filter value", "ListAutomationEvents", acct, map[string]any{"filters": []any{map[string]any{"name": "EventStatus", "values": []any{"Complete!"}}}}, "InvalidParameterValueException"},
				{"steps: unknown event", "ListAutomationEventSteps", acct, map[string]any{"eventId": "AAAAAAAAAAAAAAAA"}, "ResourceNotFoundException"},
				{"steps: another account's event", "ListAutomationEventSteps", other, map[string]any{"eventId": ev.str("eventId")}, "ResourceNotFoundException"},
				{"steps: not opted in", "ListAutomationEventSteps", never, map[string]any{"eventId": ev.str("eventId")}, "OptInRequiredException"},
				{"event summaries: not opted in", "ListAutomationEventSummaries", never, nil, "OptInRequiredException"},
				{"event summaries: end before start", "ListAutomationEventSummaries", acct, map[string]any{"startDateInclusive": "2026-05-02", "endDateExclusive": "2026-05-01"}, "InvalidParameterValueException"},
				{"rollback: not opted in", "RollbackAutomationEvent", never, map[string]any{"eventId": ev.str("eventId")}, "OptInRequiredException"},
				{"rollback: unknown event", "RollbackAutomationEvent", acct, map[string]any{"eventId": "AAAAAAAAAAAAAAAA"}, "ResourceNotFoundException"},
				{"rollback: another account's event", "RollbackAutomationEvent", other, map[string]any{"eventId": ev.str("eventId")}, "ResourceNotFoundException"},
				{"rollback: bad token", "RollbackAutomationEvent", acct, map[string]any{"eventId": ev.str("eventId"), "clientToken": "x y"}, "InvalidParameterValueException"},
			}
			for _, c := range cases {
				wantACOErrorNamed(t, c.name, aco(t, e, wire, c.op, c.account, c.in), c.code)
			}
			// A token used for one rollback cannot start another request.
			mustACO(t, e, wire, "RollbackAutomationEvent", acct, map[string]any{"eventId": ev.str("eventId"), "clientToken": "rb"})
			wantACOError(t, aco(t, e, wire, "RollbackAutomationEvent", acct, map[string]any{"eventId": "BBBBBBBBBBBBBBBB", "clientToken": "rb"}), "IdempotentParameterMismatchException")
			// Refusals changed nothing: the event is rolling back once.
			if got := mustACO(t, e, wire, "GetAutomationEvent", acct, map[string]any{"eventId": ev.str("eventId")}); got.str("eventStatus") != "RollbackReady" && got.str("eventStatus") != "RollbackComplete" {
				t.Errorf("event %v", got.body)
			}
		})
	}
}

func wantACOErrorNamed(t *testing.T, name string, r acoResult, code string) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Helper()
		wantACOError(t, r, code)
	})
}
