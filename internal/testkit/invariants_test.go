package testkit

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

const mgmt = "111122223333"

// fixture is an organization with an OU, two members, a tag policy
// attached to one of them, tags, Automation with one associated member,
// one account that was removed and an open invitation.
type fixture struct {
	url                    string
	st                     store.Store
	rootID, ou, a, b, gone string
	policy                 string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := app.New(ctx, st, app.Config{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	f := &fixture{url: hs.URL, st: st}
	c := Orgs(hs.URL, mgmt, nil)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))
	must(Admin(ctx, nil, hs.URL, "POST", "/_orgstack/quotas", map[string]any{"createdAccountRemovalWait": "0s"}))
	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	must(roots, err)
	f.rootID = aws.ToString(roots.Roots[0].Id)
	ou, err := c.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(f.rootID), Name: aws.String("ou")})
	must(ou, err)
	f.ou = aws.ToString(ou.OrganizationalUnit.Id)
	var ids []string
	for _, name := range []string{"a", "b", "gone"} {
		out, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		must(out, err)
		must(nil, a.Runner.Settle(ctx))
		st, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
		must(st, err)
		ids = append(ids, aws.ToString(st.CreateAccountStatus.AccountId))
	}
	f.a, f.b, f.gone = ids[0], ids[1], ids[2]
	must(c.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(f.b), SourceParentId: aws.String(f.rootID), DestinationParentId: aws.String(f.ou)}))
	must(c.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(f.rootID), PolicyType: types.PolicyTypeTagPolicy}))
	p, err := c.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("p"), Description: aws.String("d"), Type: types.PolicyTypeTagPolicy,
		Content: aws.String(`{"tags":{"cost":{"tag_key":{"@@assign":"Cost"}}}}`)})
	must(p, err)
	f.policy = aws.ToString(p.Policy.PolicySummary.Id)
	must(c.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(f.policy), TargetId: aws.String(f.a)}))
	for _, id := range []string{f.a, f.ou, f.gone} {
		must(c.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	}
	must(c.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("compute-optimizer.amazonaws.com")}))
	aco := Automation{Endpoint: hs.URL}
	for _, call := range []struct {
		op string
		in map[string]any
	}{
		{"UpdateEnrollmentConfiguration", map[string]any{"status": "Active"}},
		{"AssociateAccounts", map[string]any{"accountIds": []string{f.a, f.gone}}},
	} {
		r, err := aco.Call(ctx, mgmt, call.op, call.in)
		must(r, err)
		must(nil, r.Err())
	}
	must(Admin(ctx, nil, hs.URL, "POST", "/_orgstack/accounts/"+f.gone+"/standalone",
		map[string]bool{"contactInfo": true, "paymentMethod": true, "phoneVerified": true, "eula": true}))
	must(c.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(f.gone)}))
	// An invitation left open, to an account outside.
	outsider, err := Admin(ctx, nil, hs.URL, "POST", "/_orgstack/accounts", map[string]any{})
	must(outsider, err)
	must(c.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &types.HandshakeParty{Id: aws.String(outsider["accountId"].(string)), Type: types.HandshakePartyTypeAccount}}))
	return f
}

func (f *fixture) target() Target {
	return Target{Endpoint: f.url, Management: mgmt, Departed: []string{f.gone}}
}

func TestCheckSeesAConsistentOrganization(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	snap, problems := Check(context.Background(), f.target())
	if len(problems) > 0 {
		t.Fatalf("problems in a consistent organization:\n%s", strings.Join(problems, "\n"))
	}
	if snap.Parents[f.a] != f.rootID || snap.Parents[f.b] != f.ou || snap.Parents[f.ou] != f.rootID {
		t.Errorf("parents = %v", snap.Parents)
	}
	if len(snap.Accounts) != 3 || !snap.Attached[f.a][f.policy] || snap.Tags[f.ou]["k"] != "v" || snap.Tags[f.a]["k"] != "v" {
		t.Errorf("snapshot = %+v", snap)
	}
	if snap.Automation == nil || !snap.Automation.Associated[f.a] || len(snap.Automation.Associated) != 1 {
		t.Errorf("automation = %+v", snap.Automation)
	}
	if problems, err := VerifyStore(context.Background(), f.st); err != nil || len(problems) > 0 {
		t.Fatalf("VerifyStore of a consistent store: %v\n%s", err, strings.Join(problems, "\n"))
	}
}

// TestVerifyStoreFindsBrokenRecords breaks the store in ways the API
// cannot show, one at a time, and requires VerifyStore to say so.
func TestVerifyStoreFindsBrokenRecords(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		corrupt func(f *fixture, tx store.Tx) error
		want    func(*fixture) string // a problem mentions it
	}{
		{"tags left on a removed account", func(f *fixture, tx store.Tx) error {
			return tx.Put("org.tags", f.gone+"/k", []byte("v"))
		}, func(f *fixture) string { return "is on " + f.gone }},
		{"association left on a removed account", func(f *fixture, tx store.Tx) error {
			return tx.Put("aco.enrollment", f.gone, []byte(`{"status":"Active","organizationRuleMode":"AnyAllowed","lastUpdated":"2026-01-01T00:00:00Z","associatedOrg":"o-gone000000"}`))
		}, func(f *fixture) string { return f.gone + " is associated with o-gone000000, which it is no member of" }},
		{"attachment missing from the policy's list", func(f *fixture, tx store.Tx) error {
			_, err := tx.DeletePrefix("org.policy-targets", "")
			return err
		}, func(f *fixture) string { return "the policy does not list it" }},
		{"attachment to a removed account", func(f *fixture, tx store.Tx) error {
			return tx.Put("org.attachments", f.gone+"/SERVICE_CONTROL_POLICY/p-FullAWSAccess", []byte(`{"policyId":"p-FullAWSAccess","type":"SERVICE_CONTROL_POLICY","seq":99}`))
		}, func(f *fixture) string { return "attached to " + f.gone }},
		{"member missing from its organization's index", func(f *fixture, tx store.Tx) error {
			_, err := tx.DeletePrefix("org.org-accounts", "")
			return err
		}, func(f *fixture) string { return "member " + f.a + " is not indexed under its organization" }},
		{"handshake without its index", func(f *fixture, tx store.Tx) error {
			_, err := tx.DeletePrefix("org.handshakes-by-org", "")
			return err
		}, text("is not indexed under its organization")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if err := f.st.Write(context.Background(), func(tx store.Tx) error { return tc.corrupt(f, tx) }); err != nil {
				t.Fatal(err)
			}
			problems, err := VerifyStore(context.Background(), f.st)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want(f)
			for _, p := range problems {
				if strings.Contains(p, want) {
					return
				}
			}
			t.Errorf("VerifyStore found %q, want a problem mentioning %q", problems, want)
		})
	}
}

// TestCheckFindsBrokenInvariants breaks the stored state behind the API's
// back, one way at a time, and requires Check to say so.
func TestCheckFindsBrokenInvariants(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		corrupt func(f *fixture, tx store.Tx) error
		want    func(*fixture) string // a problem mentions it
	}{
		{"member under no parent", func(f *fixture, tx store.Tx) error {
			return tx.Delete("org.children", f.rootID+"/ACCOUNT/"+f.a)
		}, text("is under no parent")},
		{"member under two parents", func(f *fixture, tx store.Tx) error {
			return tx.Put("org.children", f.ou+"/ACCOUNT/"+f.a, nil)
		}, text("listed under both")},
		{"attachment of a missing policy", func(f *fixture, tx store.Tx) error {
			return tx.Put("org.attachments", f.b+"/TAG_POLICY/p-missing0", []byte(`{"policyId":"p-missing0","type":"TAG_POLICY","seq":99}`))
		}, text("p-missing0")},
		{"one-sided attachment", func(f *fixture, tx store.Tx) error {
			_, err := tx.DeletePrefix("org.policy-targets", "")
			return err
		}, text("ListTargetsForPolicy")},
		{"departed account still a member of the tree", func(f *fixture, tx store.Tx) error {
			return tx.Put("org.children", f.ou+"/ACCOUNT/"+f.gone, nil)
		}, func(f *fixture) string { return f.gone }},
		{"departed account still associated", func(f *fixture, tx store.Tx) error {
			return tx.Put("aco.enrollment", f.gone, []byte(`{"status":"Active","organizationRuleMode":"AnyAllowed","lastUpdated":"2026-01-01T00:00:00Z"}`))
		}, text("central Automation management")},
		{"two OUs with one name", func(f *fixture, tx store.Tx) error {
			if err := tx.Put("org.ous", "ou-dup0-aaaaaaaa", []byte(`{"id":"ou-dup0-aaaaaaaa","orgId":"x","parentId":"`+f.rootID+`","name":"ou"}`)); err != nil {
				return err
			}
			return tx.Put("org.children", f.rootID+"/ORGANIZATIONAL_UNIT/ou-dup0-aaaaaaaa", nil)
		}, text(`both named "ou"`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if err := f.st.Write(context.Background(), func(tx store.Tx) error { return tc.corrupt(f, tx) }); err != nil {
				t.Fatal(err)
			}
			_, problems := Check(context.Background(), f.target())
			want := tc.want(f)
			for _, p := range problems {
				if strings.Contains(p, want) {
					return
				}
			}
			t.Errorf("Check found %q, want a problem mentioning %q", problems, want)
		})
	}
}

func text(s string) func(*fixture) string { return func(*fixture) string { return s } }
