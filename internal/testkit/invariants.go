package testkit

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// Target names the organization Check reads.
type Target struct {
	Endpoint string
	// Management is the organization's management account; Check calls
	// as it.
	Management string
	HTTP       *http.Client // nil: http.DefaultClient
	// Departed are accounts known to have left the organization: none of
	// them may still show anywhere in it.
	Departed []string
}

// Snapshot is the organization as Check read it.
type Snapshot struct {
	OrgID, RootID string
	// Parents maps every member account and every OU to its parent.
	Parents map[string]string
	// OUs maps every OU of the tree to its name.
	OUs map[string]string
	// Accounts are the members, as ListAccounts shows them.
	Accounts map[string]types.Account
	// PolicyTypes are the types enabled in the root.
	PolicyTypes []types.PolicyType
	// Policies are the policies of every enabled type, by id.
	Policies map[string]types.PolicySummary
	// Attached maps each target (root, OU or account) to the policies
	// attached directly to it.
	Attached map[string]map[string]bool
	// Tags maps the root, OUs, accounts and customer managed policies to
	// their tags.
	Tags map[string]map[string]string
	// Automation is nil when the management account has not enabled
	// Compute Optimizer Automation.
	Automation *AutomationView
}

// AutomationView is what Automation's ListAccounts shows the management
// account.
type AutomationView struct {
	// Status maps each listed account to its enrollment status.
	Status map[string]string
	// Associated holds the accounts under central management
	// (organizationRuleMode AnyAllowed).
	Associated map[string]bool
}

// Check reads the whole organization through the API, as its management
// account, and returns what it saw with every broken invariant:
//
//   - the OU tree: every OU and every member account under exactly one
//     parent, no two OUs of one parent with the same name, and the same
//     parent in ListOrganizationalUnitsForParent,
//     ListAccountsForParent, ListChildren and ListParents; ListAccounts
//     lists exactly the accounts of the tree;
//   - policies: ListTargetsForPolicy and ListPoliciesForTarget agree, and
//     name only existing policies and targets; with SCPs enabled every
//     target keeps at least one SCP;
//   - handshakes: no invitation is still open for an account that is
//     already a member;
//   - departed accounts: not found by any operation that takes a member
//     (DescribeAccount, ListParents, ListTagsForResource,
//     ListPoliciesForTarget), and, unless they joined another
//     organization, not under central Automation management;
//   - Automation: only members are listed, and an associated member has
//     Automation enabled.
//
// The organization must be quiet while Check reads it: the reads are not
// one snapshot. Failed calls are problems too.
func Check(ctx context.Context, t Target) (*Snapshot, []string) {
	c := &checker{
		t:    t,
		orgs: Orgs(t.Endpoint, t.Management, t.HTTP),
		aco:  Automation{Endpoint: t.Endpoint, HTTP: t.HTTP},
		s: &Snapshot{
			Parents:  map[string]string{},
			OUs:      map[string]string{},
			Accounts: map[string]types.Account{},
			Policies: map[string]types.PolicySummary{},
			Attached: map[string]map[string]bool{},
			Tags:     map[string]map[string]string{},
		},
	}
	c.run(ctx)
	sort.Strings(c.problems)
	return c.s, c.problems
}

type checker struct {
	t        Target
	orgs     *organizations.Client
	aco      Automation
	s        *Snapshot
	problems []string
}

func (c *checker) bad(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *checker) run(ctx context.Context) {
	org, err := c.orgs.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		c.bad("DescribeOrganization: %v", err)
		return
	}
	c.s.OrgID = aws.ToString(org.Organization.Id)
	roots, err := c.orgs.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		c.bad("ListRoots: %v, want one root: %v", roots, err)
		return
	}
	root := roots.Roots[0]
	c.s.RootID = aws.ToString(root.Id)
	for _, pt := range root.PolicyTypes {
		if pt.Status == types.PolicyTypeStatusEnabled {
			c.s.PolicyTypes = append(c.s.PolicyTypes, pt.Type)
		}
	}
	c.tree(ctx)
	c.accounts(ctx)
	c.parents(ctx)
	c.policies(ctx)
	c.tags(ctx)
	c.handshakes(ctx)
	c.automation(ctx)
	c.departed(ctx)
}

// tree walks the OU tree from the root and compares the listings of each
// parent.
func (c *checker) tree(ctx context.Context) {
	queue := []string{c.s.RootID}
	ouNames := map[string]string{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		var ous, accounts []string
		names := map[string]string{} // name -> OU id
		for pg := organizations.NewListOrganizationalUnitsForParentPaginator(c.orgs, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(p)}); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				c.bad("ListOrganizationalUnitsForParent(%s): %v", p, err)
				break
			}
			for _, ou := range out.OrganizationalUnits {
				id, name := aws.ToString(ou.Id), aws.ToString(ou.Name)
				if other, dup := names[name]; dup {
					c.bad("OUs %s and %s under %s are both named %q", other, id, p, name)
				}
				names[name] = id
				ouNames[id] = name
				ous = append(ous, id)
			}
		}
		for pg := organizations.NewListAccountsForParentPaginator(c.orgs, &organizations.ListAccountsForParentInput{ParentId: aws.String(p)}); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				c.bad("ListAccountsForParent(%s): %v", p, err)
				break
			}
			for _, a := range out.Accounts {
				accounts = append(accounts, aws.ToString(a.Id))
			}
		}
		for _, kind := range []struct {
			typ  types.ChildType
			want []string
		}{{types.ChildTypeOrganizationalUnit, ous}, {types.ChildTypeAccount, accounts}} {
			var got []string
			for pg := organizations.NewListChildrenPaginator(c.orgs, &organizations.ListChildrenInput{ParentId: aws.String(p), ChildType: kind.typ}); pg.HasMorePages(); {
				out, err := pg.NextPage(ctx)
				if err != nil {
					c.bad("ListChildren(%s, %s): %v", p, kind.typ, err)
					break
				}
				for _, ch := range out.Children {
					got = append(got, aws.ToString(ch.Id))
				}
			}
			if !sameSet(got, kind.want) {
				c.bad("ListChildren(%s, %s) = %v, the dedicated list says %v", p, kind.typ, sorted(got), sorted(kind.want))
			}
		}
		for _, ou := range ous {
			if prev, seen := c.s.Parents[ou]; seen {
				c.bad("OU %s is listed under both %s and %s", ou, prev, p)
				continue
			}
			c.s.Parents[ou] = p
			c.s.OUs[ou] = ouNames[ou]
			queue = append(queue, ou)
		}
		for _, a := range accounts {
			if prev, seen := c.s.Parents[a]; seen {
				c.bad("account %s is listed under both %s and %s", a, prev, p)
				continue
			}
			c.s.Parents[a] = p
		}
	}
}

// accounts compares ListAccounts with the accounts of the tree.
func (c *checker) accounts(ctx context.Context) {
	for pg := organizations.NewListAccountsPaginator(c.orgs, &organizations.ListAccountsInput{}); pg.HasMorePages(); {
		out, err := pg.NextPage(ctx)
		if err != nil {
			c.bad("ListAccounts: %v", err)
			return
		}
		for _, a := range out.Accounts {
			id := aws.ToString(a.Id)
			if _, dup := c.s.Accounts[id]; dup {
				c.bad("ListAccounts lists %s twice", id)
			}
			c.s.Accounts[id] = a
			if _, ok := c.s.Parents[id]; !ok {
				c.bad("member %s is under no parent", id)
			}
		}
	}
	for id := range c.s.Parents {
		if _, isOU := c.s.OUs[id]; isOU {
			continue
		}
		if _, listed := c.s.Accounts[id]; !listed {
			c.bad("account %s is under %s but ListAccounts does not list it", id, c.s.Parents[id])
		}
	}
	if _, ok := c.s.Accounts[c.t.Management]; !ok {
		c.bad("the management account %s is not a member", c.t.Management)
	}
}

// parents asks ListParents about every child of the tree.
func (c *checker) parents(ctx context.Context) {
	for _, child := range sortedKeys(c.s.Parents) {
		out, err := c.orgs.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
		if err != nil {
			c.bad("ListParents(%s): %v", child, err)
			continue
		}
		want := c.s.Parents[child]
		wantType := types.ParentTypeOrganizationalUnit
		if want == c.s.RootID {
			wantType = types.ParentTypeRoot
		}
		if len(out.Parents) != 1 || aws.ToString(out.Parents[0].Id) != want || out.Parents[0].Type != wantType {
			c.bad("ListParents(%s) = %s, but it is listed under %s", child, describeParents(out.Parents), want)
		}
	}
}

// targets are the root, the OUs and the member accounts, in id order.
func (c *checker) targets() []string {
	ids := append([]string{c.s.RootID}, sortedKeys(c.s.Parents)...)
	return ids
}

func (c *checker) isTarget(id string) bool {
	_, ok := c.s.Parents[id]
	return ok || id == c.s.RootID
}

// policies compares both views of the attachments of every enabled type.
func (c *checker) policies(ctx context.Context) {
	byPolicy := map[string]map[string]bool{} // policy -> targets
	for _, typ := range c.s.PolicyTypes {
		for pg := organizations.NewListPoliciesPaginator(c.orgs, &organizations.ListPoliciesInput{Filter: typ}); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				c.bad("ListPolicies(%s): %v", typ, err)
				break
			}
			for _, p := range out.Policies {
				c.s.Policies[aws.ToString(p.Id)] = p
			}
		}
	}
	for _, id := range sortedKeys(c.s.Policies) {
		byPolicy[id] = map[string]bool{}
		for pg := organizations.NewListTargetsForPolicyPaginator(c.orgs, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(id)}); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				c.bad("ListTargetsForPolicy(%s): %v", id, err)
				break
			}
			for _, tg := range out.Targets {
				tid := aws.ToString(tg.TargetId)
				if !c.isTarget(tid) {
					c.bad("policy %s is attached to %s, which is no root, OU or member", id, tid)
				}
				byPolicy[id][tid] = true
			}
		}
	}
	for _, target := range c.targets() {
		c.s.Attached[target] = map[string]bool{}
		for _, typ := range c.s.PolicyTypes {
			n := 0
			for pg := organizations.NewListPoliciesForTargetPaginator(c.orgs, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(target), Filter: typ}); pg.HasMorePages(); {
				out, err := pg.NextPage(ctx)
				if err != nil {
					c.bad("ListPoliciesForTarget(%s, %s): %v", target, typ, err)
					break
				}
				for _, p := range out.Policies {
					pid := aws.ToString(p.Id)
					n++
					c.s.Attached[target][pid] = true
					switch known, ok := c.s.Policies[pid]; {
					case !ok:
						c.bad("%s has policy %s attached, which ListPolicies(%s) does not list", target, pid, typ)
					case known.Type != typ:
						c.bad("%s has policy %s attached as %s, but it is a %s", target, pid, typ, known.Type)
					case !byPolicy[pid][target]:
						c.bad("%s has policy %s attached, but ListTargetsForPolicy(%s) does not list it", target, pid, pid)
					}
				}
			}
			if typ == types.PolicyTypeServiceControlPolicy && n == 0 {
				c.bad("%s has no SCP attached although SCPs are enabled", target)
			}
		}
	}
	for pid, targets := range byPolicy {
		for tid := range targets {
			if c.isTarget(tid) && !c.s.Attached[tid][pid] {
				c.bad("ListTargetsForPolicy(%s) lists %s, but ListPoliciesForTarget(%s) does not list the policy", pid, tid, tid)
			}
		}
	}
}

// tags reads the tags of every taggable resource.
func (c *checker) tags(ctx context.Context) {
	ids := c.targets()
	for _, id := range sortedKeys(c.s.Policies) {
		if !c.s.Policies[id].AwsManaged {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		tags, err := c.tagsOf(ctx, id)
		if err != nil {
			c.bad("ListTagsForResource(%s): %v", id, err)
			continue
		}
		c.s.Tags[id] = tags
	}
}

func (c *checker) tagsOf(ctx context.Context, id string) (map[string]string, error) {
	tags := map[string]string{}
	for pg := organizations.NewListTagsForResourcePaginator(c.orgs, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)}); pg.HasMorePages(); {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, tg := range out.Tags {
			k := aws.ToString(tg.Key)
			if _, dup := tags[k]; dup {
				c.bad("ListTagsForResource(%s) lists the key %q twice", id, k)
			}
			tags[k] = aws.ToString(tg.Value)
		}
	}
	return tags, nil
}

// handshakes looks for invitations still open for members.
func (c *checker) handshakes(ctx context.Context) {
	for pg := organizations.NewListHandshakesForOrganizationPaginator(c.orgs, &organizations.ListHandshakesForOrganizationInput{}); pg.HasMorePages(); {
		out, err := pg.NextPage(ctx)
		if err != nil {
			c.bad("ListHandshakesForOrganization: %v", err)
			return
		}
		for _, h := range out.Handshakes {
			if h.Action != types.ActionTypeInviteAccountToOrganization || (h.State != types.HandshakeStateOpen && h.State != types.HandshakeStateRequested) {
				continue
			}
			for _, party := range h.Parties {
				id := aws.ToString(party.Id)
				if party.Type == types.HandshakePartyTypeAccount && id != c.t.Management {
					if _, member := c.s.Accounts[id]; member {
						c.bad("invitation %s is still %s for %s, which is already a member", aws.ToString(h.Id), h.State, id)
					}
				}
			}
		}
	}
}

// automation compares Automation's view of the organization with the tree.
func (c *checker) automation(ctx context.Context) {
	r, err := c.aco.Call(ctx, c.t.Management, "GetEnrollmentConfiguration", nil)
	if err != nil || !r.OK() {
		c.bad("Automation GetEnrollmentConfiguration as %s: %d %v %v", c.t.Management, r.Status, r.Body, err)
		return
	}
	if r.Str("status") != "Active" {
		return
	}
	v := &AutomationView{Status: map[string]string{}, Associated: map[string]bool{}}
	c.s.Automation = v
	token := ""
	for {
		in := map[string]any{"maxResults": 1000}
		if token != "" {
			in["nextToken"] = token
		}
		r, err := c.aco.Call(ctx, c.t.Management, "ListAccounts", in)
		if err != nil || !r.OK() {
			c.bad("Automation ListAccounts: %d %v %v", r.Status, r.Body, err)
			return
		}
		for _, x := range r.List("accounts") {
			a, _ := x.(map[string]any)
			id, _ := a["accountId"].(string)
			status, _ := a["status"].(string)
			mode, _ := a["organizationRuleMode"].(string)
			if _, dup := v.Status[id]; dup {
				c.bad("Automation ListAccounts lists %s twice", id)
			}
			v.Status[id] = status
			if _, member := c.s.Accounts[id]; !member {
				c.bad("Automation ListAccounts lists %s, which is no member", id)
			}
			if mode == "AnyAllowed" {
				v.Associated[id] = true
				if status != "Active" {
					c.bad("%s is associated but its Automation status is %s", id, status)
				}
			}
		}
		if token = r.Str("nextToken"); token == "" {
			return
		}
	}
}

// departed makes sure that accounts which left are gone everywhere.
func (c *checker) departed(ctx context.Context) {
	for _, id := range c.t.Departed {
		if _, member := c.s.Accounts[id]; member {
			c.bad("departed account %s is still a member", id)
			continue
		}
		wantCode := func(op string, err error, code string) {
			if ErrorCode(err) != code {
				c.bad("%s of departed account %s: %v, want %s", op, id, err, code)
			}
		}
		_, err := c.orgs.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
		wantCode("DescribeAccount", err, "AccountNotFoundException")
		_, err = c.orgs.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
		wantCode("ListParents", err, "ChildNotFoundException")
		_, err = c.orgs.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
		wantCode("ListTagsForResource", err, "TargetNotFoundException")
		for _, typ := range c.s.PolicyTypes {
			_, err = c.orgs.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(id), Filter: typ})
			wantCode("ListPoliciesForTarget", err, "TargetNotFoundException")
		}
		// An account that joined another organization may be associated
		// there; one that stands alone may not be associated at all.
		_, err = Orgs(c.t.Endpoint, id, c.t.HTTP).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		standalone := ErrorCode(err) == "AWSOrganizationsNotInUseException"
		if err != nil && !standalone {
			c.bad("DescribeOrganization as departed account %s: %v", id, err)
		}
		if c.s.Automation != nil && standalone {
			r, err := c.aco.Call(ctx, id, "GetEnrollmentConfiguration", nil)
			switch {
			case err != nil || !r.OK():
				c.bad("Automation GetEnrollmentConfiguration as departed %s: %d %v %v", id, r.Status, r.Body, err)
			case r.Str("organizationRuleMode") == "AnyAllowed":
				c.bad("departed account %s is still under central Automation management: %v", id, r.Body)
			}
		}
	}
}

func describeParents(ps []types.Parent) string {
	var out []string
	for _, p := range ps {
		out = append(out, aws.ToString(p.Id)+" ("+string(p.Type)+")")
	}
	return fmt.Sprint(out)
}

func sameSet(a, b []string) bool {
	return slices.Equal(sorted(a), sorted(b))
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
