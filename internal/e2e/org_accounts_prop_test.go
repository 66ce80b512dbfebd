package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/orgstack/orgstack/internal/store"
)

// TestAccountLifecycleProperties drives random sequences of account and
// structure operations from several accounts — the management account,
// members, outsiders — and checks after every step that the organization
// is consistent: every member is under exactly one parent of its own
// organization and every index agrees, no tag or handshake outlives what
// it belongs to, the management account never leaves its organization,
// and ListAccounts shows exactly the members. Refused operations are
// expected; a server error never is.
func TestAccountLifecycleProperties(t *testing.T) {
	t.Parallel()
	seeds := []uint64{1, 2, 3, 4}
	steps := 120
	if testing.Short() {
		seeds, steps = seeds[:1], 40
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			runProperties(t, seed, steps)
		})
	}
}

type propWorld struct {
	t        *testing.T
	e        *env
	rng      *rand.Rand
	mgmt     string
	rootID   string
	accounts []string // every account id seen, members or not
	ous      []string
	emails   int
}

func (w *propWorld) pick(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[w.rng.IntN(len(xs))]
}

func (w *propWorld) parent() string {
	if len(w.ous) == 0 || w.rng.IntN(3) == 0 {
		return w.rootID
	}
	return w.pick(w.ous)
}

func runProperties(t *testing.T, seed uint64, steps int) {
	e := newEnv(t)
	ctx := context.Background()
	w := &propWorld{t: t, e: e, rng: rand.New(rand.NewPCG(seed, 99)), mgmt: mgmtAccount}
	if _, err := e.orgs(w.mgmt).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	w.rootID = w.memberParent(w.mgmt)
	e.setQuotas(t, `{"accountsPerOrganization":25,"createdAccountRemovalWait":"1h"}`)
	// Outsiders that may be invited, or try things they may not do.
	for i := range 3 {
		id, _, _ := e.registerAccount(t, fmt.Sprintf(`{"email":"outsider%d@example.com"}`, i))
		w.accounts = append(w.accounts, id)
	}
	w.accounts = append(w.accounts, w.mgmt)

	ops := []struct {
		name string
		run  func() (string, error)
	}{
		{"CreateAccount", func() (string, error) {
			w.emails++
			email := fmt.Sprintf("p%d@example.com", w.emails)
			if w.rng.IntN(5) == 0 && w.emails > 1 {
				email = fmt.Sprintf("p%d@example.com", 1+w.rng.IntN(w.emails-1)) // taken
			}
			var tags []types.Tag
			if w.rng.IntN(2) == 0 {
				tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("t")}}
			}
			out, err := e.orgs(w.mgmt).CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String(email), AccountName: aws.String("p"), Tags: tags})
			if err == nil {
				e.settle(t)
				d, derr := e.orgs(w.mgmt).DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
				if derr == nil && d.CreateAccountStatus.AccountId != nil {
					w.accounts = append(w.accounts, *d.CreateAccountStatus.AccountId)
				}
			}
			return email, err
		}},
		{"MoveAccount", func() (string, error) {
			a, src, dst := w.pick(w.accounts), w.parent(), w.parent()
			if p := w.currentParent(a); p != "" && w.rng.IntN(4) > 0 {
				src = p // usually right, sometimes wrong
			}
			_, err := e.orgs(w.pick([]string{w.mgmt, w.mgmt, w.pick(w.accounts)})).MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a), SourceParentId: aws.String(src), DestinationParentId: aws.String(dst)})
			return a + " " + src + "->" + dst, err
		}},
		{"CreateOrganizationalUnit", func() (string, error) {
			p := w.parent()
			out, err := e.orgs(w.mgmt).CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(p), Name: aws.String(fmt.Sprint("ou", w.rng.IntN(1000))),
				Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			if err == nil {
				w.ous = append(w.ous, aws.ToString(out.OrganizationalUnit.Id))
			}
			return p, err
		}},
		{"DeleteOrganizationalUnit", func() (string, error) {
			if len(w.ous) == 0 {
				return "", nil
			}
			i := w.rng.IntN(len(w.ous))
			_, err := e.orgs(w.mgmt).DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(w.ous[i])})
			if err == nil {
				w.ous = append(w.ous[:i], w.ous[i+1:]...)
			}
			return "", err
		}},
		{"TagResource", func() (string, error) {
			id := w.pick(append(append([]string{w.rootID}, w.ous...), w.accounts...))
			_, err := e.orgs(w.mgmt).TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{{Key: aws.String(fmt.Sprint("k", w.rng.IntN(3))), Value: aws.String("v")}}})
			return id, err
		}},
		{"Invite+Accept", func() (string, error) {
			a := w.pick(w.accounts)
			h, err := e.orgs(w.mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String(a), Type: types.HandshakePartyTypeAccount}})
			if err != nil || w.rng.IntN(3) == 0 {
				return a, err // sometimes leave the invitation open
			}
			_, err = e.orgs(a).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Handshake.Id})
			return a, err
		}},
		{"Standalone", func() (string, error) {
			a := w.pick(w.accounts)
			status, m := e.adminDo(t, "POST", "/_orgstack/accounts/"+a+"/standalone", `{"contactInfo":true,"paymentMethod":true,"phoneVerified":true,"eula":true}`)
			if status != http.StatusOK {
				return a, fmt.Errorf("standalone: %d %v", status, m)
			}
			return a, nil
		}},
		{"RemoveAccountFromOrganization", func() (string, error) {
			a := w.pick(w.accounts)
			_, err := e.orgs(w.pick([]string{w.mgmt, w.mgmt, w.pick(w.accounts)})).RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(a)})
			return a, err
		}},
		{"LeaveOrganization", func() (string, error) {
			a := w.pick(w.accounts)
			_, err := e.orgs(a).LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
			return a, err
		}},
		{"CloseAccount", func() (string, error) {
			a := w.pick(w.accounts)
			_, err := e.orgs(w.mgmt).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(a)})
			return a, err
		}},
		{"AdvanceClock", func() (string, error) {
			d := []string{"1m", "2h", "49h", "2200h"}[w.rng.IntN(4)]
			status, m := e.adminDo(t, "POST", "/_orgstack/clock", `{"advance":"`+d+`"}`)
			if status != http.StatusOK {
				return d, fmt.Errorf("clock: %d %v", status, m)
			}
			return d, nil
		}},
	}
	succeeded := map[string]int{}
	defer func() { t.Logf("operations that succeeded: %v", succeeded) }()
	for step := range steps {
		op := ops[w.rng.IntN(len(ops))]
		arg, err := op.run()
		if err == nil {
			succeeded[op.name]++
		}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorFault() == smithy.FaultServer {
			t.Fatalf("step %d %s(%s): server error %v", step, op.name, arg, err)
		} else if err != nil && !errors.As(err, &apiErr) {
			t.Fatalf("step %d %s(%s): %v", step, op.name, arg, err)
		}
		if problems := w.check(); len(problems) > 0 {
			t.Fatalf("after step %d %s(%s) [err=%v]:\n  %s", step, op.name, arg, err, strings.Join(problems, "\n  "))
		}
	}
}

// currentParent is the account's parent, "" when it is no member.
func (w *propWorld) currentParent(account string) string {
	var parent string
	w.e.Store.Read(context.Background(), func(tx store.Tx) error {
		b, err := tx.Get("org.members", account)
		if err != nil {
			return nil
		}
		var m struct {
			ParentID string `json:"parentId"`
		}
		json.Unmarshal(b, &m)
		parent = m.ParentID
		return nil
	})
	return parent
}

func (w *propWorld) memberParent(account string) string {
	var m struct {
		ParentID string `json:"parentId"`
	}
	err := w.e.Store.Read(context.Background(), func(tx store.Tx) error {
		b, err := tx.Get("org.members", account)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &m)
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return m.ParentID
}

// check reads the whole store and returns every broken invariant.
func (w *propWorld) check() []string {
	var problems []string
	bad := func(f string, args ...any) { problems = append(problems, fmt.Sprintf(f, args...)) }
	type member struct {
		AccountID, OrgID, ParentID, Status string
	}
	type org struct {
		ID           string `json:"id"`
		ManagementID string `json:"managementAccountId"`
		RootID       string `json:"rootId"`
	}
	type ou struct {
		ID, OrgID, ParentID string
	}
	members := map[string]member{}
	orgs := map[string]org{}
	ous := map[string]ou{}
	children := map[string][]string{} // account id -> parents indexing it
	orgAccs := map[string]bool{}
	roots := map[string]bool{}
	var tagOwners []string
	var handshakeAccounts []string
	ctx := context.Background()
	err := w.e.Store.Read(ctx, func(tx store.Tx) error {
		scan := func(bucket string, fn func(k string, v []byte) error) error {
			return tx.Scan(bucket, "", "", 0, fn)
		}
		if err := scan("org.members", func(k string, v []byte) error {
			var m member
			m2 := map[string]any{}
			json.Unmarshal(v, &m2)
			m.AccountID, _ = m2["accountId"].(string)
			m.OrgID, _ = m2["orgId"].(string)
			m.ParentID, _ = m2["parentId"].(string)
			m.Status, _ = m2["status"].(string)
			members[k] = m
			return nil
		}); err != nil {
			return err
		}
		if err := scan("org.organizations", func(k string, v []byte) error {
			var o org
			json.Unmarshal(v, &o)
			orgs[k] = o
			return nil
		}); err != nil {
			return err
		}
		if err := scan("org.roots", func(k string, _ []byte) error { roots[k] = true; return nil }); err != nil {
			return err
		}
		if err := scan("org.ous", func(k string, v []byte) error {
			var m map[string]any
			json.Unmarshal(v, &m)
			ous[k] = ou{ID: k, OrgID: fmt.Sprint(m["orgId"]), ParentID: fmt.Sprint(m["parentId"])}
			return nil
		}); err != nil {
			return err
		}
		if err := scan("org.children", func(k string, _ []byte) error {
			parts := strings.Split(k, "/")
			if len(parts) == 3 && parts[1] == "ACCOUNT" {
				children[parts[2]] = append(children[parts[2]], parts[0])
			}
			return nil
		}); err != nil {
			return err
		}
		if err := scan("org.org-accounts", func(k string, _ []byte) error { orgAccs[k] = true; return nil }); err != nil {
			return err
		}
		if err := scan("org.tags", func(k string, _ []byte) error {
			tagOwners = append(tagOwners, k[:strings.IndexByte(k, '/')])
			return nil
		}); err != nil {
			return err
		}
		return scan("org.handshakes", func(k string, v []byte) error {
			var m map[string]any
			json.Unmarshal(v, &m)
			if a, _ := m["accountId"].(string); a != "" {
				handshakeAccounts = append(handshakeAccounts, a+" "+fmt.Sprint(m["orgId"])+" "+fmt.Sprint(m["state"]))
			}
			return nil
		})
	})
	if err != nil {
		return []string{err.Error()}
	}
	parentOK := func(orgID, parentID string) bool {
		if o, ok := orgs[orgID]; ok && o.RootID == parentID {
			return true
		}
		u, ok := ous[parentID]
		return ok && u.OrgID == orgID
	}
	for id, m := range members {
		if _, ok := orgs[m.OrgID]; !ok {
			bad("member %s of a missing organization %s", id, m.OrgID)
		}
		if !parentOK(m.OrgID, m.ParentID) {
			bad("member %s under %s, not a parent of %s", id, m.ParentID, m.OrgID)
		}
		if ps := children[id]; len(ps) != 1 || ps[0] != m.ParentID {
			bad("member %s indexed under %v, recorded under %s", id, ps, m.ParentID)
		}
		if !orgAccs[m.OrgID+"/"+id] {
			bad("member %s missing from its organization's index", id)
		}
	}
	for id, ps := range children {
		if _, ok := members[id]; !ok {
			bad("non-member %s indexed under %v", id, ps)
		}
	}
	for k := range orgAccs {
		if _, ok := members[k[strings.IndexByte(k, '/')+1:]]; !ok {
			bad("organization index lists non-member %s", k)
		}
	}
	for _, o := range orgs {
		if m, ok := members[o.ManagementID]; !ok || m.OrgID != o.ID {
			bad("management account %s is outside its organization %s", o.ManagementID, o.ID)
		}
	}
	for _, owner := range tagOwners {
		_, isMember := members[owner]
		_, isOU := ous[owner]
		if !isMember && !isOU && !roots[owner] && !strings.HasPrefix(owner, "p-") {
			bad("tags on %s, which is no member, OU or root", owner)
		}
	}
	for _, h := range handshakeAccounts {
		parts := strings.Fields(h)
		if _, ok := orgs[parts[1]]; !ok {
			bad("handshake for %s of a deleted organization %s", parts[0], parts[1])
		}
	}
	// What the API lists is what the store holds.
	listed := map[string]bool{}
	var tok *string
	for {
		out, err := w.e.orgs(w.mgmt).ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: tok})
		if err != nil {
			bad("ListAccounts: %v", err)
			break
		}
		for _, a := range out.Accounts {
			if listed[aws.ToString(a.Id)] {
				bad("ListAccounts lists %s twice", aws.ToString(a.Id))
			}
			listed[aws.ToString(a.Id)] = true
		}
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	inOrg := 0
	for id, m := range members {
		if orgs[m.OrgID].ManagementID == w.mgmt {
			inOrg++
			if !listed[id] {
				bad("member %s not listed", id)
			}
		}
	}
	if len(listed) != inOrg {
		bad("ListAccounts lists %d accounts, the store holds %d members", len(listed), inOrg)
	}
	return problems
}
