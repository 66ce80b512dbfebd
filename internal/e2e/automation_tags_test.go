package e2e

import (
	"fmt"
	"reflect"
	"testing"
)

func tagList(kv ...string) []any {
	out := []any{}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, map[string]any{"key": kv[i], "value": kv[i+1]})
	}
	return out
}

func TestAutomationRuleTags(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			owner, stranger := accountID(400+i, 1), accountID(400+i, 2)
			optIn(t, e, wire, owner)
			optIn(t, e, wire, stranger)
			arn := mustACO(t, e, wire, "CreateAutomationRule", owner, ruleIn(with("tags", tagList("team", "platform")))).str("ruleArn")
			tags := func() []any {
				return mustACO(t, e, wire, "ListTagsForResource", owner, map[string]any{"resourceArn": arn}).list("tags")
			}
			revision := func() int64 {
				return mustACO(t, e, wire, "GetAutomationRule", owner, map[string]any{"ruleArn": arn}).num("ruleRevision")
			}

			// Tagging needs the current revision and makes a new one.
			wantACOError(t, aco(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 2, "tags": tagList("env", "dev")}), "InvalidParameterValueException")
			if r := mustACO(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 1, "tags": tagList("env", "dev", "team", "finops")}); len(r.body) != 0 {
				t.Errorf("TagResource answered %v", r.body)
			}
			if got := tags(); !reflect.DeepEqual(got, tagList("env", "dev", "team", "finops")) {
				t.Errorf("tags = %v, want env=dev and team replaced, in key order", got)
			}
			if revision() != 2 {
				t.Errorf("revision after tagging = %d, want 2", revision())
			}
			// Tags that are already there change nothing, not even the revision.
			mustACO(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 2, "tags": tagList("env", "dev")})
			if revision() != 2 {
				t.Errorf("revision after a no-op tag = %d, want 2", revision())
			}

			wantACOError(t, aco(t, e, wire, "UntagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 1, "tagKeys": ids("env")}), "InvalidParameterValueException")
			mustACO(t, e, wire, "UntagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 2, "tagKeys": ids("env", "absent")})
			if got := tags(); !reflect.DeepEqual(got, tagList("team", "finops")) || revision() != 3 {
				t.Errorf("after untag: %v at revision %d", got, revision())
			}

			// Errors.
			wantACOError(t, aco(t, e, wire, "TagResource", stranger, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tags": tagList("a", "b")}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "UntagResource", stranger, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tagKeys": ids("team")}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "ListTagsForResource", stranger, map[string]any{"resourceArn": arn}), "ResourceNotFoundException")
			wantACOError(t, aco(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tags": tagList("aws:x", "b")}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tags": tagList("k", "a", "k", "b")}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tags": tagList("k", "v#")}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tags": []any{}}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "UntagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tagKeys": ids()}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "UntagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tagKeys": ids("bad#key")}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "ListTagsForResource", owner, map[string]any{"resourceArn": "not-an-arn"}), "InvalidParameterValueException")

			// At most 200 tags on a rule.
			var many []string
			for n := 0; n < 199; n++ {
				many = append(many, fmt.Sprintf("k%03d", n), "v")
			}
			mustACO(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tags": tagList(many...)})
			if got := len(tags()); got != 200 {
				t.Fatalf("%d tags, want 200", got)
			}
			wantACOError(t, aco(t, e, wire, "TagResource", owner, map[string]any{"resourceArn": arn, "ruleRevision": 4, "tags": tagList("one", "more")}), "InvalidParameterValueException")
			// Creating with 201 is refused too.
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", owner, ruleIn(with("tags", tagList(append(many, "x1", "v", "x2", "v")...)))), "InvalidParameterValueException")
		})
	}
}
