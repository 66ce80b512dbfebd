package e2e

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/store"
)

func TestClientTokens(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.Clock.Set(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
			mgmt, a, b := accountID(500+i, 1), accountID(500+i, 2), accountID(500+i, 3)
			newACOOrg(t, e, wire, mgmt, a, b)

			// Same token, same parameters: the first result, the work done once.
			first := mustACO(t, e, wire, "CreateAutomationRule", mgmt, ruleIn(with("clientToken", "create-1")))
			e.Clock.Advance(time.Hour)
			again := mustACO(t, e, wire, "CreateAutomationRule", mgmt, ruleIn(with("clientToken", "create-1")))
			if !reflect.DeepEqual(first.body, again.body) {
				t.Errorf("retry answered differently:\n%v\n%v", first.body, again.body)
			}
			if n := len(mustACO(t, e, wire, "ListAutomationRules", mgmt, nil).list("automationRules")); n != 1 {
				t.Errorf("%d rules after a retried create, want 1", n)
			}
			// Same token, other parameters.
			wantACOError(t, aco(t, e, wire, "CreateAutomationRule", mgmt, ruleIn(with("clientToken", "create-1"), with("name", "other"))), "IdempotentParameterMismatchException")
			// Tokens are per operation: the same token elsewhere is a new request.
			arn := first.str("ruleArn")
			mustACO(t, e, wire, "TagResource", mgmt, map[string]any{"resourceArn": arn, "ruleRevision": 1, "tags": tagList("a", "1"), "clientToken": "create-1"})
			// A retried tag answers the first result even though the revision moved on.
			mustACO(t, e, wire, "TagResource", mgmt, map[string]any{"resourceArn": arn, "ruleRevision": 1, "tags": tagList("a", "1"), "clientToken": "create-1"})
			// Tokens are per account.
			optIn(t, e, wire, a)
			if r := mustACO(t, e, wire, "CreateAutomationRule", a, ruleIn(with("clientToken", "create-1"), with("name", "other"))); r.str("ruleArn") == arn {
				t.Error("another account's token returned the first account's rule")
			}

			// A refused request remembers nothing: its token can be used after.
			wantACOError(t, aco(t, e, wire, "UpdateAutomationRule", mgmt, map[string]any{"ruleArn": arn, "ruleRevision": 1, "status": "Inactive", "clientToken": "upd"}), "InvalidParameterValueException")
			mustACO(t, e, wire, "UpdateAutomationRule", mgmt, map[string]any{"ruleArn": arn, "ruleRevision": 2, "status": "Inactive", "clientToken": "upd"})

			// Associate: a retry is not reported as "already associated".
			r1 := mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a), "clientToken": "assoc"})
			r2 := mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a), "clientToken": "assoc"})
			if !reflect.DeepEqual(r1.body, r2.body) || len(r2.list("errors")) != 0 {
				t.Errorf("retried association: %v then %v", r1.body, r2.body)
			}
			wantACOError(t, aco(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(b), "clientToken": "assoc"}), "IdempotentParameterMismatchException")
			// Without a token, the same request is judged again.
			if r := mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a)}); len(r.list("errors")) != 1 {
				t.Errorf("tokenless repeat: %v, want a reported as already associated", r.body)
			}

			// The token lasts 24 hours on the orgstack clock.
			mustACO(t, e, wire, "DisassociateAccounts", mgmt, map[string]any{"accountIds": ids(a), "clientToken": "dis"})
			mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a)})
			e.Clock.Advance(23 * time.Hour)
			if r := mustACO(t, e, wire, "DisassociateAccounts", mgmt, map[string]any{"accountIds": ids(a), "clientToken": "dis"}); len(r.list("accountIds")) != 1 {
				t.Fatalf("retry within 24h: %v", r.body)
			}
			if got := mustACO(t, e, wire, "GetEnrollmentConfiguration", a, nil); got.str("organizationRuleMode") != "AnyAllowed" {
				t.Errorf("a retry within 24h redid the work: %v", got.body)
			}
			e.Clock.Advance(2 * time.Hour)
			mustACO(t, e, wire, "DisassociateAccounts", mgmt, map[string]any{"accountIds": ids(a), "clientToken": "dis"})
			if got := mustACO(t, e, wire, "GetEnrollmentConfiguration", a, nil); got.str("organizationRuleMode") != "NoneAllowed" {
				t.Errorf("after 25h the token is new and the work is done: %v", got.body)
			}

			// Enrollment, delete and untag take tokens too.
			u1 := mustACO(t, e, wire, "UpdateEnrollmentConfiguration", b, map[string]any{"status": "Active", "clientToken": "enr"})
			e.Clock.Advance(time.Minute)
			u2 := mustACO(t, e, wire, "UpdateEnrollmentConfiguration", b, map[string]any{"status": "Active", "clientToken": "enr"})
			if !reflect.DeepEqual(u1.body, u2.body) {
				t.Errorf("enrollment retry: %v then %v", u1.body, u2.body)
			}
			wantACOError(t, aco(t, e, wire, "UpdateEnrollmentConfiguration", b, map[string]any{"status": "Inactive", "clientToken": "enr"}), "IdempotentParameterMismatchException")
			mustACO(t, e, wire, "UntagResource", mgmt, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tagKeys": ids("a"), "clientToken": "un"})
			wantACOError(t, aco(t, e, wire, "UntagResource", mgmt, map[string]any{"resourceArn": arn, "ruleRevision": 3, "tagKeys": ids("b"), "clientToken": "un"}), "IdempotentParameterMismatchException")
			mustACO(t, e, wire, "DeleteAutomationRule", mgmt, map[string]any{"ruleArn": arn, "ruleRevision": 4, "clientToken": "del"})
			mustACO(t, e, wire, "DeleteAutomationRule", mgmt, map[string]any{"ruleArn": arn, "ruleRevision": 4, "clientToken": "del"})
			wantACOError(t, aco(t, e, wire, "DeleteAutomationRule", mgmt, map[string]any{"ruleArn": arn, "ruleRevision": 4}), "ResourceNotFoundException")
		})
	}
}

// TestClientTokenConcurrency sends one clientToken from many goroutines at
// once: exactly one rule is created and every caller gets it.
func TestClientTokenConcurrency(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			owner := accountID(510+i, 1)
			optIn(t, e, wire, owner)
			const n = 32
			arns := make([]string, n)
			statuses := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := 0; g < n; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r := aco(t, e, wire, "CreateAutomationRule", owner, ruleIn(with("clientToken", "same-token")))
					arns[g], statuses[g] = r.str("ruleArn"), r.status
				}()
			}
			close(start)
			wg.Wait()
			for g := range n {
				if statuses[g] != 200 || arns[g] != arns[0] {
					t.Fatalf("caller %d: %d %q, want 200 and the one rule %q", g, statuses[g], arns[g], arns[0])
				}
			}
			var stored int
			if err := e.Store.Read(context.Background(), func(tx store.Tx) error {
				var err error
				stored, err = tx.Count("aco.rules", owner+"/")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if stored != 1 {
				t.Fatalf("%d rules stored, want exactly 1", stored)
			}
		})
	}
}
