package e2e

import (
	"reflect"
	"regexp"
	"testing"
	"time"
)

// ruleIn is a valid CreateAutomationRule request, changed by the options.
func ruleIn(opts ...func(map[string]any)) map[string]any {
	in := map[string]any{
		"name":                   "snapshot-idle-volumes",
		"description":            "Snapshot and delete idle volumes",
		"ruleType":               "AccountRule",
		"recommendedActionTypes": []any{"SnapshotAndDeleteUnattachedEbsVolume"},
		"schedule": map[string]any{
			"scheduleExpression":         "30 12 * * *",
			"scheduleExpressionTimezone": "Europe/Paris",
			"executionWindowInMinutes":   120,
		},
		"criteria": map[string]any{
			"region":             []any{map[string]any{"comparison": "StringEquals", "values": []any{"us-east-1", "eu-west-1"}}},
			"ebsVolumeType":      []any{map[string]any{"comparison": "StringEqualsIgnoreCase", "values": []any{"GP2"}}},
			"ebsVolumeSizeInGib": []any{map[string]any{"comparison": "NumericLessThan", "values": []any{500}}},
			"estimatedMonthlySavings": []any{map[string]any{
				"comparison": "NumericGreaterThanEquals", "values": []any{1.5},
			}},
			"resourceTag":   []any{map[string]any{"comparison": "StringLike", "key": "env", "values": []any{"dev*"}}},
			"restartNeeded": []any{map[string]any{"comparison": "StringEquals", "values": []any{"false"}}},
		},
		"status": "Active",
		"tags":   []any{map[string]any{"key": "team", "value": "platform"}},
	}
	for _, o := range opts {
		o(in)
	}
	return in
}

func with(k string, v any) func(map[string]any) {
	return func(m map[string]any) {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
}

func withSchedule(expr, tz string) func(map[string]any) {
	return with("schedule", map[string]any{"scheduleExpression": expr, "scheduleExpressionTimezone": tz, "executionWindowInMinutes": 60})
}

func withCriteria(field string, cond map[string]any) func(map[string]any) {
	return with("criteria", map[string]any{field: []any{cond}})
}

func TestAutomationRuleLifecycle(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			created := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
			e.Clock.Set(created)
			owner, stranger := accountID(300+i, 1), accountID(300+i, 2)
			optIn(t, e, wire, owner)
			optIn(t, e, wire, stranger)

			c := mustACO(t, e, wire, "CreateAutomationRule", owner, ruleIn())
			arn, id := c.str("ruleArn"), c.str("ruleId")
			if !regexp.MustCompile(`^[0-9A-Za-z]{16}$`).MatchString(id) || arn != "arn:aws:compute-optimizer::"+owner+":automation-rule/"+id {
				t.Fatalf("ruleId %q, ruleArn %q", id, arn)
			}
			if c.num("ruleRevision") != 1 || c.str("priority") != "0.5" || c.str("status") != "Active" || c.str("ruleType") != "AccountRule" ||
				!c.body["createdTimestamp"].(time.Time).Equal(created) || len(c.list("tags")) != 1 {
				t.Errorf("created: %v", c.body)
			}
			if got := c.body["criteria"].(map[string]any)["estimatedMonthlySavings"].([]any)[0].(map[string]any)["values"]; !reflect.DeepEqual(got, []any{1.5}) {
				t.Errorf("criteria round trip: %v", got)
			}

			g := mustACO(t, e, wire, "GetAutomationRule", owner, map[string]any{"ruleArn": arn})
			if g.str("accountId") != owner || g.str("name") != "snapshot-idle-volumes" || g.num("ruleRevision") != 1 ||
				!g.body["lastUpdatedTimestamp"].(time.Time).Equal(created) || g.body["schedule"].(map[string]any)["scheduleExpressionTimezone"] != "Europe/Paris" {
				t.Errorf("get: %v", g.body)
			}
			if !reflect.DeepEqual(g.body["criteria"], c.body["criteria"]) || !reflect.DeepEqual(g.body["tags"], c.body["tags"]) {
				t.Errorf("get and create disagree:\n%v\n%v", g.body, c.body)
			}
			// Another account does not see it.
			wantACOError(t, aco(t, e, wire, "GetAutomationRule", stranger, map[string]any{"ruleArn": arn}), "ResourceNotFoundException")

			// Update: a stale revision is refused; a good one makes revision 2.
			e.Clock.Advance(time.Hour)
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 7, "status": "Inactive"}), "InvalidParameterValueException")
			u := mustACO(t, e, wire, "UpdateAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 1, "status": "Inactive", "priority": "0.25"})
			if u.num("ruleRevision") != 2 || u.str("status") != "Inactive" || u.str("priority") != "0.25" || u.str("name") != "snapshot-idle-volumes" ||
				!u.body["lastUpdatedTimestamp"].(time.Time).Equal(created.Add(time.Hour)) || !u.body["createdTimestamp"].(time.Time).Equal(created) {
				t.Errorf("update: %v", u.body)
			}
			// An update that changes nothing keeps the revision.
			if u := mustACO(t, e, wire, "UpdateAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 2, "status": "Inactive"}); u.num("ruleRevision") != 2 {
				t.Errorf("no-op update: revision %d, want 2", u.num("ruleRevision"))
			}
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", stranger, map[string]any{"ruleArn": arn, "ruleRevision": 2, "status": "Active"}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 2, "schedule": map[string]any{"scheduleExpression": "* 12 * * *"}}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 2, "organizationConfiguration": map[string]any{"ruleApplyOrder": "AfterAccountRules"}}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 2, "ruleType": "OrganizationRule", "organizationConfiguration": map[string]any{"ruleApplyOrder": "AfterAccountRules"}}), "AccessDeniedException")
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 2, "recommendedActionTypes": []any{}}), "InvalidParameterValueException")

			// A new rule without a priority goes to the top: below the lowest.
			c2 := mustACO(t, e, wire, "CreateAutomationRule", owner, ruleIn(with("name", "second")))
			if c2.str("priority") != "0.125" {
				t.Errorf("second rule's priority = %q, want 0.125 (half of 0.25)", c2.str("priority"))
			}

			// Delete: stale revision, stranger, then the owner.
			wantACOError(t, aco(t, e, wire, "DeleteAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 1}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "DeleteAutomationRule", stranger, map[string]any{"ruleArn": arn, "ruleRevision": 2}), "ResourceNotFoundException")
			if r := mustACO(t, e, wire, "DeleteAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 2}); len(r.body) != 0 {
				t.Errorf("delete answered %v", r.body)
			}
			wantACOError(t, aco(t, e, wire, "GetAutomationRule", owner, map[string]any{"ruleArn": arn}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "DeleteAutomationRule", owner, map[string]any{"ruleArn": arn, "ruleRevision": 2}), "ResourceNotFoundException")
			// Malformed ARNs are bad parameters; well-formed unknown ids are not found.
			wantACOError(t, aco(t, e, wire, "GetAutomationRule", owner, map[string]any{"ruleArn": "arn:aws:compute-optimizer::" + owner + ":automation-rule/short"}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "GetAutomationRule", owner, map[string]any{"ruleArn": "xarn:aws:compute-optimizer::" + owner + ":automation-rule/AAAAAAAAAAAAAAAA"}), "InvalidParameterValueException")
		})
	}
}

func TestCreateAutomationRuleValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts []func(map[string]any)
	}{
		{"empty name", []func(map[string]any){with("name", "")}},
		{"name with spaces", []func(map[string]any){with("name", "my rule")}},
		{"description characters", []func(map[string]any){with("description", "50% off!")}},
		{"priority zero", []func(map[string]any){with("priority", "0.000")}},
		{"priority one", []func(map[string]any){with("priority", "1")}},
		{"priority above one", []func(map[string]any){with("priority", "1.5")}},
		{"priority 31 digits", []func(map[string]any){with("priority", "0.1234567890123456789012345678901")}},
		{"priority not a number", []func(map[string]any){with("priority", "0.5e1")}},
		{"no action types", []func(map[string]any){with("recommendedActionTypes", []any{})}},
		{"action type twice", []func(map[string]any){with("recommendedActionTypes", []any{"UpgradeEbsVolumeType", "UpgradeEbsVolumeType"})}},
		{"unknown action type", []func(map[string]any){with("recommendedActionTypes", []any{"DeleteEverything"})}},
		{"schedule wildcard minutes", []func(map[string]any){withSchedule("* 12 * * *", "UTC")}},
		{"schedule wildcard hours", []func(map[string]any){withSchedule("30 * * * *", "UTC")}},
		{"schedule twice a day", []func(map[string]any){withSchedule("30 6,18 * * *", "UTC")}},
		{"schedule hour range", []func(map[string]any){withSchedule("0 1-3 * * *", "UTC")}},
		{"schedule step minutes", []func(map[string]any){withSchedule("*/30 12 * * *", "UTC")}},
		{"schedule four fields", []func(map[string]any){withSchedule("30 12 * *", "UTC")}},
		{"schedule seven fields", []func(map[string]any){withSchedule("0 30 12 * * * 2027", "UTC")}},
		{"schedule bad month", []func(map[string]any){withSchedule("30 12 * 13 *", "UTC")}},
		{"schedule never runs", []func(map[string]any){withSchedule("30 12 31 2 *", "UTC")}},
		{"schedule in the past", []func(map[string]any){withSchedule("30 12 * * * 2020", "UTC")}},
		{"schedule hour 24", []func(map[string]any){withSchedule("0 24 * * *", "UTC")}},
		{"unknown time zone", []func(map[string]any){withSchedule("30 12 * * *", "Mars/Olympus_Mons")}},
		{"Go's Local zone", []func(map[string]any){withSchedule("30 12 * * *", "Local")}},
		{"no expression", []func(map[string]any){with("schedule", map[string]any{"scheduleExpressionTimezone": "UTC"})}},
		{"window too short", []func(map[string]any){with("schedule", map[string]any{"scheduleExpression": "30 12 * * *", "executionWindowInMinutes": 59})}},
		{"window too long", []func(map[string]any){with("schedule", map[string]any{"scheduleExpression": "30 12 * * *", "executionWindowInMinutes": 1441})}},
		{"numeric operator on a string field", []func(map[string]any){withCriteria("region", map[string]any{"comparison": "NumericEquals", "values": []any{"1"}})}},
		{"string operator on a number field", []func(map[string]any){withCriteria("ebsVolumeSizeInGib", map[string]any{"comparison": "StringEquals", "values": []any{100}})}},
		{"string operator on savings", []func(map[string]any){withCriteria("estimatedMonthlySavings", map[string]any{"comparison": "StringLike", "values": []any{1.0}})}},
		{"no operator", []func(map[string]any){withCriteria("region", map[string]any{"values": []any{"us-east-1"}})}},
		{"no values", []func(map[string]any){withCriteria("region", map[string]any{"comparison": "StringEquals", "values": []any{}})}},
		{"unknown volume type", []func(map[string]any){withCriteria("ebsVolumeType", map[string]any{"comparison": "StringEquals", "values": []any{"gp9"}})}},
		{"volume type case", []func(map[string]any){withCriteria("ebsVolumeType", map[string]any{"comparison": "StringEquals", "values": []any{"GP3"}})}},
		{"restartNeeded not boolean", []func(map[string]any){withCriteria("restartNeeded", map[string]any{"comparison": "StringEquals", "values": []any{"maybe"}})}},
		{"zero size", []func(map[string]any){withCriteria("ebsVolumeSizeInGib", map[string]any{"comparison": "NumericGreaterThan", "values": []any{0}})}},
		{"negative savings", []func(map[string]any){withCriteria("estimatedMonthlySavings", map[string]any{"comparison": "NumericGreaterThan", "values": []any{-1.0}})}},
		{"tag condition without key", []func(map[string]any){withCriteria("resourceTag", map[string]any{"comparison": "StringEquals", "values": []any{"x"}})}},
		{"criteria value characters", []func(map[string]any){withCriteria("resourceArn", map[string]any{"comparison": "StringLike", "values": []any{"arn<>"}})}},
		{"21 values", []func(map[string]any){withCriteria("resourceArn", map[string]any{"comparison": "StringLike", "values": twentyOne()})}},
		{"tag key twice", []func(map[string]any){with("tags", []any{map[string]any{"key": "a", "value": "1"}, map[string]any{"key": "a", "value": "2"}})}},
		{"aws: tag key", []func(map[string]any){with("tags", []any{map[string]any{"key": "aws:owner", "value": "1"}})}},
		{"tag value characters", []func(map[string]any){with("tags", []any{map[string]any{"key": "a", "value": "#1"}})}},
		{"organization configuration on an account rule", []func(map[string]any){with("organizationConfiguration", map[string]any{"ruleApplyOrder": "BeforeAccountRules"})}},
		{"client token", []func(map[string]any){with("clientToken", "no spaces")}},
		{"missing status", []func(map[string]any){with("status", nil)}},
	}
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			owner := accountID(310+i, 1)
			optIn(t, e, wire, owner)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					wantACOError(t, aco(t, e, wire, "CreateAutomationRule", owner, ruleIn(tc.opts...)), "InvalidParameterValueException")
				})
			}
			// Nothing was created.
			if r := mustACO(t, e, wire, "ListAutomationRules", owner, nil); len(r.list("automationRules")) != 0 {
				t.Errorf("refused creations left rules: %v", r.body)
			}
			// What the checks accept.
			for _, opts := range [][]func(map[string]any){
				{withSchedule("0 3 * * 1-5", "America/New_York")},
				{withSchedule("0 3 1 * ? 2027-2030", "Asia/Tokyo")}, // six fields, with a year
				{withSchedule("15 23 * JAN,JUL SUN", "UTC")},
				{with("priority", "0.999999999999999999999999999999")},
				{withCriteria("ebsVolumeType", map[string]any{"comparison": "StringNotLikeIfExists", "values": []any{"io*"}})},
				{withCriteria("lookBackPeriodInDays", map[string]any{"comparison": "NumericGreaterThanEqualsIfExists", "values": []any{14, 32}})},
				{with("criteria", nil), with("tags", nil), with("description", nil), with("schedule", map[string]any{"scheduleExpression": "30 12 * * *"})},
			} {
				mustACO(t, e, wire, "CreateAutomationRule", owner, ruleIn(opts...))
			}
			// The smallest priority leaves no room above it for a rule
			// that asks for the top place without giving a priority.
			mustACO(t, e, wire, "CreateAutomationRule", owner, ruleIn(with("priority", "0.000000000000000000000000000001")))
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", owner, ruleIn()), "InvalidParameterValueException")
		})
	}
}

func twentyOne() []any {
	out := make([]any, 21)
	for i := range out {
		out[i] = "arn:aws:ec2:*"
	}
	return out
}

func TestAutomationRuleCallerRules(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			owner := accountID(320+i, 1)
			arn := "arn:aws:compute-optimizer::" + owner + ":automation-rule/AAAAAAAAAAAAAAAA"
			// Every rule operation needs an enrolled account.
			for op, in := range map[string]map[string]any{
				"CreateAutomationRule": ruleIn(),
				"GetAutomationRule":    {"ruleArn": arn},
				"UpdateAutomationRule": {"ruleArn": arn, "ruleRevision": 1},
				"DeleteAutomationRule": {"ruleArn": arn, "ruleRevision": 1},
				"ListAutomationRules":  nil,
				"TagResource":          {"resourceArn": arn, "ruleRevision": 1, "tags": []any{map[string]any{"key": "a", "value": "b"}}},
				"UntagResource":        {"resourceArn": arn, "ruleRevision": 1, "tagKeys": []any{"a"}},
				"ListTagsForResource":  {"resourceArn": arn},
			} {
				wantACOError(t, aco(t, e, wire, op, owner, in), "OptInRequiredException")
			}
			optIn(t, e, wire, owner)
			// A standalone account cannot hold an organization rule.
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", owner, ruleIn(with("ruleType", "OrganizationRule"),
				with("organizationConfiguration", map[string]any{"ruleApplyOrder": "BeforeAccountRules"}))), "AccessDeniedException")
			// Opting out stops the account's rules; opting in again leaves them stopped.
			e.Clock.Set(time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC))
			r := mustACO(t, e, wire, "CreateAutomationRule", owner, ruleIn())
			mustACO(t, e, wire, "UpdateEnrollmentConfiguration", owner, map[string]any{"status": "Inactive"})
			e.Clock.Advance(24 * time.Hour)
			optIn(t, e, wire, owner)
			g := mustACO(t, e, wire, "GetAutomationRule", owner, map[string]any{"ruleArn": r.str("ruleArn")})
			if g.str("status") != "Inactive" || g.num("ruleRevision") != 2 {
				t.Errorf("rule after opt-out and opt-in: %v, want Inactive at revision 2", g.body)
			}
		})
	}
}

func TestAutomationRuleQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const wire = "cbor"
	owner := accountID(330, 1)
	optIn(t, e, wire, owner)
	for n := 0; n < 100; n++ {
		mustACO(t, e, wire, "CreateAutomationRule", owner, ruleIn(with("priority", "0.5")))
	}
	wantACOError(t, aco(t, e, wire, "CreateAutomationRule", owner, ruleIn()), "ServiceQuotaExceededException")
}

func TestOrganizationRules(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mgmt, da, a, b, other := accountID(340+i, 1), accountID(340+i, 2), accountID(340+i, 3), accountID(340+i, 4), accountID(340+i, 5)
			newACOOrg(t, e, wire, mgmt, da, a, b, other)
			optIn(t, e, wire, da)
			registerDA(t, e, mgmt, da)
			mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a, b)})
			optIn(t, e, wire, other) // enrolled, not associated

			orgRule := func(accounts ...string) func(map[string]any) {
				return func(m map[string]any) {
					m["ruleType"] = "OrganizationRule"
					cfg := map[string]any{"ruleApplyOrder": "AfterAccountRules"}
					if len(accounts) > 0 {
						cfg["accountIds"] = ids(accounts...)
					}
					m["organizationConfiguration"] = cfg
				}
			}
			// The delegated administrator creates one for a and b.
			r := mustACO(t, e, wire, "CreateAutomationRule", da, ruleIn(orgRule(a, b)))
			arn := r.str("ruleArn")
			if cfg := r.body["organizationConfiguration"].(map[string]any); cfg["ruleApplyOrder"] != "AfterAccountRules" || !reflect.DeepEqual(cfg["accountIds"], ids(a, b)) {
				t.Errorf("organizationConfiguration = %v", cfg)
			}
			// Without an apply order, the rule runs before account rules.
			r2 := mustACO(t, e, wire, "CreateAutomationRule", mgmt, ruleIn(with("ruleType", "OrganizationRule"), with("organizationConfiguration", map[string]any{})))
			if cfg := r2.body["organizationConfiguration"].(map[string]any); cfg["ruleApplyOrder"] != "BeforeAccountRules" {
				t.Errorf("default apply order: %v", cfg)
			}

			// Who may create one, and whom it may name.
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", a, ruleIn(orgRule(b))), "AccessDeniedException")
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", mgmt, ruleIn(orgRule(other))), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", mgmt, ruleIn(orgRule(a, a))), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", mgmt, ruleIn(with("ruleType", "OrganizationRule"))), "InvalidParameterValueException")

			// Members see it; only managers change it.
			if g := mustACO(t, e, wire, "GetAutomationRule", a, map[string]any{"ruleArn": arn}); g.str("accountId") != da {
				t.Errorf("member's view: %v", g.body)
			}
			wantACOError(t, aco(t, e, wire, "GetAutomationRule", other, map[string]any{"ruleArn": arn}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", a, map[string]any{"ruleArn": arn, "ruleRevision": 1, "status": "Inactive"}), "AccessDeniedException")
			wantACOError(t, aco(t, e, wire, "DeleteAutomationRule", a, map[string]any{"ruleArn": arn, "ruleRevision": 1}), "AccessDeniedException")
			u := mustACO(t, e, wire, "UpdateAutomationRule", mgmt, map[string]any{"ruleArn": arn, "ruleRevision": 1, "organizationConfiguration": map[string]any{"accountIds": ids(a)}})
			if u.num("ruleRevision") != 2 {
				t.Errorf("management account's update: %v", u.body)
			}

			// Disassociating b: rules can no longer name it.
			r3 := mustACO(t, e, wire, "CreateAutomationRule", mgmt, ruleIn(orgRule(a, b))).str("ruleArn")
			mustACO(t, e, wire, "DisassociateAccounts", mgmt, map[string]any{"accountIds": ids(b)})
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", da, ruleIn(orgRule(b))), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", da, map[string]any{"ruleArn": arn, "ruleRevision": 2, "organizationConfiguration": map[string]any{"accountIds": ids(a, b)}}), "InvalidParameterValueException")
			// A change that leaves the configuration alone still works,
			// though the rule names b (it no longer applies to b).
			u = mustACO(t, e, wire, "UpdateAutomationRule", mgmt, map[string]any{"ruleArn": r3, "ruleRevision": 1, "status": "Inactive"})
			if u.num("ruleRevision") != 2 {
				t.Errorf("status change of an organization rule: %v", u.body)
			}
			// The rule with no account list no longer shows to b.
			wantACOError(t, aco(t, e, wire, "GetAutomationRule", b, map[string]any{"ruleArn": r2.str("ruleArn")}), "ResourceNotFoundException")
			if g := mustACO(t, e, wire, "GetAutomationRule", a, map[string]any{"ruleArn": r2.str("ruleArn")}); g.str("ruleType") != "OrganizationRule" {
				t.Errorf("a's view of the rule for every associated member: %v", g.body)
			}
			// Turning it into an account rule drops its configuration.
			u = mustACO(t, e, wire, "UpdateAutomationRule", da, map[string]any{"ruleArn": arn, "ruleRevision": 2, "ruleType": "AccountRule"})
			if u.body["organizationConfiguration"] != nil || u.num("ruleRevision") != 3 {
				t.Errorf("org rule to account rule: %v", u.body)
			}
			wantACOError(t, aco(t, e, wire, "GetAutomationRule", a, map[string]any{"ruleArn": arn}), "ResourceNotFoundException")
		})
	}
}

func TestListAutomationRules(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mgmt, a := accountID(350+i, 1), accountID(350+i, 2)
			newACOOrg(t, e, wire, mgmt, a)
			mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a)})
			mk := func(acct, name string, opts ...func(map[string]any)) string {
				return mustACO(t, e, wire, "CreateAutomationRule", acct, ruleIn(append([]func(map[string]any){with("name", name)}, opts...)...)).str("ruleArn")
			}
			mk(mgmt, "mgmt-upgrade", with("recommendedActionTypes", []any{"UpgradeEbsVolumeType"}), with("status", "Inactive"))
			mk(mgmt, "mgmt-org", with("ruleType", "OrganizationRule"), with("organizationConfiguration", map[string]any{"ruleApplyOrder": "AfterAccountRules", "accountIds": ids(a)}))
			mk(a, "member-snapshot")
			mk(a, "member-upgrade", with("recommendedActionTypes", []any{"UpgradeEbsVolumeType", "SnapshotAndDeleteUnattachedEbsVolume"}))

			names := func(account string, in map[string]any) []string {
				t.Helper()
				var out []string
				if in == nil {
					in = map[string]any{}
				}
				for {
					r := mustACO(t, e, wire, "ListAutomationRules", account, in)
					for _, x := range r.list("automationRules") {
						rule := x.(map[string]any)
						if rule["criteria"] != nil || rule["tags"] != nil {
							t.Errorf("list items carry criteria or tags: %v", rule)
						}
						out = append(out, rule["name"].(string))
					}
					if r.str("nextToken") == "" {
						return out
					}
					in["nextToken"] = r.str("nextToken")
				}
			}
			sameSet := func(t *testing.T, got []string, want ...string) {
				t.Helper()
				g, w := map[string]int{}, map[string]int{}
				for _, x := range got {
					g[x]++
				}
				for _, x := range want {
					w[x]++
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("got %v, want %v", got, want)
				}
			}
			filter := func(name string, values ...string) map[string]any {
				return map[string]any{"filters": []any{map[string]any{"name": name, "values": ids(values...)}}}
			}
			sameSet(t, names(mgmt, nil), "mgmt-upgrade", "mgmt-org")
			sameSet(t, names(a, nil), "mgmt-org", "member-snapshot", "member-upgrade")
			sameSet(t, names(a, map[string]any{"maxResults": 1}), "mgmt-org", "member-snapshot", "member-upgrade")
			sameSet(t, names(a, filter("Name", "member-*")), "member-snapshot", "member-upgrade")
			sameSet(t, names(a, filter("Name", "member-?pgrade", "mgmt-org")), "member-upgrade", "mgmt-org")
			sameSet(t, names(a, filter("RecommendedActionType", "UpgradeEbsVolumeType")), "member-upgrade")
			sameSet(t, names(mgmt, filter("Status", "Inactive")), "mgmt-upgrade")
			sameSet(t, names(a, filter("RuleType", "OrganizationRule")), "mgmt-org")
			sameSet(t, names(a, filter("OrganizationConfigurationRuleApplyOrder", "AfterAccountRules")), "mgmt-org")
			sameSet(t, names(a, filter("AccountId", a)), "member-snapshot", "member-upgrade")
			sameSet(t, names(a, map[string]any{"filters": []any{
				map[string]any{"name": "AccountId", "values": ids(a)},
				map[string]any{"name": "Name", "values": ids("*snap*")},
			}}), "member-snapshot")

			wantACOError(t, aco(t, e, wire, "ListAutomationRules", a, filter("Name")), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "ListAutomationRules", a, filter("Name", "a/b")), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "ListAutomationRules", a, filter("Colour", "red")), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "ListAutomationRules", a, map[string]any{"maxResults": 101}), "InvalidParameterValueException")
			// A token of one account's list does not page another's.
			first := mustACO(t, e, wire, "ListAutomationRules", a, map[string]any{"maxResults": 1})
			wantACOError(t, aco(t, e, wire, "ListAutomationRules", mgmt, map[string]any{"nextToken": first.str("nextToken")}), "InvalidParameterValueException")
		})
	}
}
