package e2e

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	orgsapi "github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"

	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

func TestAssociateAndDisassociateAccounts(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.Clock.Set(time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC))
			mgmt, a, b, c := accountID(200+i, 1), accountID(200+i, 2), accountID(200+i, 3), accountID(200+i, 4)
			outsider := accountID(200+i, 9)
			newACOOrg(t, e, wire, mgmt, a, b, c)
			optIn(t, e, wire, b) // b enabled Automation itself; a and c never did

			r := mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a, b, a, mgmt, outsider)})
			if got := strs(r.list("accountIds")); !reflect.DeepEqual(got, []string{a, b}) {
				t.Errorf("associated %v, want [%s %s] (the duplicate once)", got, a, b)
			}
			errs := strs(r.list("errors"))
			if len(errs) != 2 || !strings.HasPrefix(errs[0], mgmt+": ") || !strings.HasPrefix(errs[1], outsider+": ") {
				t.Errorf("errors = %q, want one for the caller itself and one for the outsider", errs)
			}

			// Association enrolled a and set both to AnyAllowed.
			for _, m := range []string{a, b} {
				got := mustACO(t, e, wire, "GetEnrollmentConfiguration", m, nil)
				if got.str("status") != "Active" || got.str("organizationRuleMode") != "AnyAllowed" ||
					!got.body["lastUpdatedTimestamp"].(time.Time).Equal(e.Clock.Now()) {
					t.Errorf("%s after association: %v", m, got.body)
				}
			}
			if got := mustACO(t, e, wire, "GetEnrollmentConfiguration", c, nil); got.str("status") != "Inactive" || got.str("organizationRuleMode") != "NoneAllowed" {
				t.Errorf("unassociated member: %v", got.body)
			}

			// Already associated is an error of that id only.
			r = mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a, c)})
			if got := strs(r.list("accountIds")); !reflect.DeepEqual(got, []string{c}) || len(r.list("errors")) != 1 || !strings.HasPrefix(strs(r.list("errors"))[0], a+": ") {
				t.Errorf("associate a again with c: %v", r.body)
			}

			// An associated member cannot opt out.
			wantACOError(t, aco(t, e, wire, "UpdateEnrollmentConfiguration", a, map[string]any{"status": "Inactive"}), "AccessDeniedException")

			e.Clock.Advance(time.Minute)
			r = mustACO(t, e, wire, "DisassociateAccounts", mgmt, map[string]any{"accountIds": ids(a, outsider, mgmt)})
			if got := strs(r.list("accountIds")); !reflect.DeepEqual(got, []string{a}) || len(r.list("errors")) != 2 {
				t.Errorf("disassociate: %v", r.body)
			}
			r = mustACO(t, e, wire, "DisassociateAccounts", mgmt, map[string]any{"accountIds": ids(a)})
			if len(r.list("accountIds")) != 0 || len(r.list("errors")) != 1 {
				t.Errorf("disassociate a again: %v, want it reported as not associated", r.body)
			}
			got := mustACO(t, e, wire, "GetEnrollmentConfiguration", a, nil)
			if got.str("status") != "Active" || got.str("organizationRuleMode") != "NoneAllowed" {
				t.Errorf("a after disassociation: %v (keeps Automation, loses central management)", got.body)
			}
			// Now it may opt out.
			mustACO(t, e, wire, "UpdateEnrollmentConfiguration", a, map[string]any{"status": "Inactive"})

			// A member that opted out less than a day ago cannot be enabled by association.
			r = mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a)})
			if len(r.list("accountIds")) != 0 || len(r.list("errors")) != 1 {
				t.Errorf("associate a right after it opted out: %v", r.body)
			}
			e.Clock.Advance(24 * time.Hour)
			r = mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a)})
			if got := strs(r.list("accountIds")); !reflect.DeepEqual(got, []string{a}) {
				t.Errorf("associate a a day later: %v", r.body)
			}
		})
	}
}

func TestAssociationCallerRules(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			mgmt, da, member := accountID(210+i, 1), accountID(210+i, 2), accountID(210+i, 3)
			standalone := accountID(210+i, 8)
			newACOOrg(t, e, wire, mgmt, da, member)
			optIn(t, e, wire, member)
			optIn(t, e, wire, standalone)
			in := map[string]any{"accountIds": ids(member)}

			for _, op := range []string{"AssociateAccounts", "DisassociateAccounts"} {
				// A member that is not the delegated administrator, and a
				// standalone account, are not management accounts.
				wantACOError(t, aco(t, e, wire, op, member, in), "NotManagementAccountException")
				wantACOError(t, aco(t, e, wire, op, standalone, in), "NotManagementAccountException")
				// Not opted in yet.
				wantACOError(t, aco(t, e, wire, op, da, in), "OptInRequiredException")
				// Malformed requests are refused whole.
				wantACOError(t, aco(t, e, wire, op, mgmt, map[string]any{"accountIds": ids()}), "InvalidParameterValueException")
				wantACOError(t, aco(t, e, wire, op, mgmt, map[string]any{"accountIds": ids("12345678901x")}), "InvalidParameterValueException")
				wantACOError(t, aco(t, e, wire, op, mgmt, map[string]any{"accountIds": ids(member), "clientToken": "bad token!"}), "InvalidParameterValueException")
				wantACOError(t, aco(t, e, wire, op, mgmt, map[string]any{}), "InvalidParameterValueException")
				many := make([]string, 51)
				for j := range many {
					many[j] = accountID(219, j)
				}
				wantACOError(t, aco(t, e, wire, op, mgmt, map[string]any{"accountIds": ids(many...)}), "InvalidParameterValueException")
			}
			wantACOError(t, aco(t, e, wire, "ListAccounts", member, nil), "NotManagementAccountException")
			wantACOError(t, aco(t, e, wire, "ListAccounts", standalone, nil), "NotManagementAccountException")
			wantACOError(t, aco(t, e, wire, "ListAccounts", da, nil), "OptInRequiredException")

			// The delegated administrator manages members once registered.
			optIn(t, e, wire, da)
			registerDA(t, e, mgmt, da)
			r := mustACO(t, e, wire, "AssociateAccounts", da, in)
			if got := strs(r.list("accountIds")); !reflect.DeepEqual(got, []string{member}) {
				t.Fatalf("associate as delegated administrator: %v", r.body)
			}
			// It cannot associate the management account.
			r = mustACO(t, e, wire, "AssociateAccounts", da, map[string]any{"accountIds": ids(mgmt)})
			if len(r.list("errors")) != 1 {
				t.Errorf("associate the management account: %v", r.body)
			}

			// Without trusted access nothing can be managed.
			if _, err := e.orgs(mgmt).DisableAWSServiceAccess(context.Background(), &orgsapi.DisableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)}); err != nil {
				t.Fatal(err)
			}
			wantACOError(t, aco(t, e, wire, "DisassociateAccounts", mgmt, in), "AccessDeniedException")
			wantACOError(t, aco(t, e, wire, "ListAccounts", da, nil), "AccessDeniedException")
		})
	}
}

func TestListAccounts(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.Clock.Set(time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC))
			mgmt, a, b, c := accountID(220+i, 1), accountID(220+i, 2), accountID(220+i, 3), accountID(220+i, 4)
			newACOOrg(t, e, wire, mgmt, a, b, c)
			optIn(t, e, wire, accountID(220+i, 9)) // enrolled, but in no organization
			mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a, b)})
			optIn(t, e, wire, c)

			var got []map[string]any
			token := ""
			for pages := 0; ; pages++ {
				in := map[string]any{"maxResults": 3}
				if token != "" {
					in["nextToken"] = token
				}
				r := mustACO(t, e, wire, "ListAccounts", mgmt, in)
				for _, x := range r.list("accounts") {
					got = append(got, x.(map[string]any))
				}
				token = r.str("nextToken")
				if token == "" {
					if pages != 1 {
						t.Errorf("%d pages, want 2", pages+1)
					}
					break
				}
			}
			want := map[string]string{mgmt: "NoneAllowed", a: "AnyAllowed", b: "AnyAllowed", c: "NoneAllowed"}
			if len(got) != len(want) {
				t.Fatalf("ListAccounts = %v, want the 4 enrolled accounts of the organization", got)
			}
			for i, acct := range []string{mgmt, a, b, c} {
				if got[i]["accountId"] != acct || got[i]["status"] != "Active" || got[i]["organizationRuleMode"] != want[acct] {
					t.Errorf("account %d = %v, want %s Active %s", i, got[i], acct, want[acct])
				}
				if _, ok := got[i]["lastUpdatedTimestamp"].(time.Time); !ok {
					t.Errorf("account %d has no lastUpdatedTimestamp: %v", i, got[i])
				}
			}
			wantACOError(t, aco(t, e, wire, "ListAccounts", mgmt, map[string]any{"nextToken": "Zm9yZ2Vk"}), "InvalidParameterValueException")
			wantACOError(t, aco(t, e, wire, "ListAccounts", mgmt, map[string]any{"maxResults": 0}), "InvalidParameterValueException")
		})
	}
}

// TestLeavingTheOrganizationEndsTheAssociation drives the membership hook
// the way Organizations calls it: inside the transaction that removes the
// account.
func TestLeavingTheOrganizationEndsTheAssociation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const wire = "json"
	mgmt, a := accountID(230, 1), accountID(230, 2)
	o := newACOOrg(t, e, wire, mgmt, a)
	mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a)})
	err := e.Store.Write(context.Background(), func(tx store.Tx) error {
		for bucket, key := range map[string]string{"org.members": a, "org.org-accounts": o.ID + "/" + a, "org.children": o.RootID + "/ACCOUNT/" + a} {
			if err := tx.Delete(bucket, key); err != nil {
				return err
			}
		}
		return e.App.Automation.AccountLeftOrganization(tx, o.ID, a, organizations.DepartureRemoved)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := mustACO(t, e, wire, "GetEnrollmentConfiguration", a, nil)
	if got.str("status") != "Active" || got.body["organizationRuleMode"] != nil {
		t.Errorf("after leaving: %v, want Automation kept and no organization rule mode", got.body)
	}
	// No longer associated: it may opt out on its own.
	mustACO(t, e, wire, "UpdateEnrollmentConfiguration", a, map[string]any{"status": "Inactive"})
}

// TestRemoveAccountFromOrganizationEndsTheAssociation goes through the
// Organizations API when it is there.
func TestRemoveAccountFromOrganizationEndsTheAssociation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const wire = "cbor"
	mgmt, a := accountID(231, 1), accountID(231, 2)
	newACOOrg(t, e, wire, mgmt, a)
	mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a)})
	_, err := e.orgs(mgmt).RemoveAccountFromOrganization(context.Background(), &orgsapi.RemoveAccountFromOrganizationInput{AccountId: aws.String(a)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NotImplementedException" {
		t.Skip("RemoveAccountFromOrganization is not implemented yet")
	}
	if err != nil {
		t.Fatalf("RemoveAccountFromOrganization: %v", err)
	}
	got := mustACO(t, e, wire, "GetEnrollmentConfiguration", a, nil)
	if got.body["organizationRuleMode"] != nil {
		t.Errorf("after removal: %v, want no organization rule mode", got.body)
	}
	r := mustACO(t, e, wire, "DisassociateAccounts", mgmt, map[string]any{"accountIds": ids(a)})
	if len(r.list("accountIds")) != 0 || len(r.list("errors")) != 1 {
		t.Errorf("disassociate a removed account: %v", r.body)
	}
}

// TestManagementOptOutKeepsAssociations: while the management account has
// opted out, associations are dormant: a member may opt out then, and
// loses its association; the others keep theirs when the management
// account opts in again.
func TestManagementOptOutKeepsAssociations(t *testing.T) {
	t.Parallel()
	for i, wire := range acoWire {
		t.Run(wire, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.Clock.Set(time.Date(2026, 4, 3, 8, 0, 0, 0, time.UTC))
			mgmt, a, b := accountID(232+i, 1), accountID(232+i, 2), accountID(232+i, 3)
			newACOOrg(t, e, wire, mgmt, a, b)
			mustACO(t, e, wire, "AssociateAccounts", mgmt, map[string]any{"accountIds": ids(a, b)})
			mustACO(t, e, wire, "UpdateEnrollmentConfiguration", mgmt, map[string]any{"status": "Inactive"})
			mustACO(t, e, wire, "UpdateEnrollmentConfiguration", a, map[string]any{"status": "Inactive"})
			e.Clock.Advance(24 * time.Hour)
			optIn(t, e, wire, mgmt)
			if got := mustACO(t, e, wire, "GetEnrollmentConfiguration", a, nil); got.str("status") != "Inactive" || got.str("organizationRuleMode") != "NoneAllowed" {
				t.Errorf("a, which opted out meanwhile: %v", got.body)
			}
			if got := mustACO(t, e, wire, "GetEnrollmentConfiguration", b, nil); got.str("status") != "Active" || got.str("organizationRuleMode") != "AnyAllowed" {
				t.Errorf("b keeps its association: %v", got.body)
			}
			wantACOError(t, aco(t, e, wire, "UpdateEnrollmentConfiguration", b, map[string]any{"status": "Inactive"}), "AccessDeniedException")
		})
	}
}
