package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgstack/orgstack/internal/store"
)

// Tests of OUs, the tree listings, tags, handshakes and EnableAllFeatures.

// makeDelegate registers member as delegated administrator of Compute
// Optimizer, which gives it the read-only Organizations operations.
func makeDelegate(t *testing.T, e *env, mgmt, member string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.orgs(mgmt).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)}); err != nil {
		t.Fatalf("EnableAWSServiceAccess: %v", err)
	}
	if _, err := e.orgs(mgmt).RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{
		AccountId: aws.String(member), ServicePrincipal: aws.String(coPrincipal),
	}); err != nil {
		t.Fatalf("RegisterDelegatedAdministrator: %v", err)
	}
}

// setQuotas overrides quotas through the admin API.
func setQuotas(t *testing.T, e *env, body string) {
	t.Helper()
	if status, m := e.adminDo(t, "POST", "/_orgstack/quotas", body); status != http.StatusOK {
		t.Fatalf("POST /_orgstack/quotas %s = %d %v", body, status, m)
	}
}

func createOU(t *testing.T, e *env, mgmt, parent, name string) *types.OrganizationalUnit {
	t.Helper()
	out, err := e.orgs(mgmt).CreateOrganizationalUnit(context.Background(), &organizations.CreateOrganizationalUnitInput{
		ParentId: aws.String(parent), Name: aws.String(name),
	})
	if err != nil {
		t.Fatalf("CreateOrganizationalUnit %s under %s: %v", name, parent, err)
	}
	return out.OrganizationalUnit
}

func expectReason[E interface {
	error
	*types.ConstraintViolationException | *types.InvalidInputException | *types.HandshakeConstraintViolationException
}](t *testing.T, err error, reason string) {
	t.Helper()
	e := expectError[E](t, err)
	if any(e) == nil {
		return
	}
	var got string
	switch v := any(e).(type) {
	case *types.ConstraintViolationException:
		if v != nil {
			got = string(v.Reason)
		}
	case *types.InvalidInputException:
		if v != nil {
			got = string(v.Reason)
		}
	case *types.HandshakeConstraintViolationException:
		if v != nil {
			got = string(v.Reason)
		}
	}
	if got != reason {
		t.Errorf("Reason = %q, want %q (err %v)", got, reason, err)
	}
}

func TestOrganizationalUnits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, member, delegate, outsider = "301000000001", "301000000002", "301000000003", "301000000009"
	f := newOrgWithMembers(t, e, mgmt, member, delegate)
	makeDelegate(t, e, mgmt, delegate)
	m := e.orgs(mgmt)

	a := createOU(t, e, mgmt, f.RootID, "Workloads")
	suffix := strings.TrimPrefix(f.RootID, "r-")
	checkPattern(t, "Id", aws.ToString(a.Id), `^ou-`+suffix+`-[a-z0-9]{8,32}$`)
	checkPattern(t, "Arn", aws.ToString(a.Arn), `^arn:aws:organizations::`+mgmt+`:ou/`+f.ID+`/`+aws.ToString(a.Id)+`$`)
	if want := f.ID + "/" + f.RootID + "/" + aws.ToString(a.Id) + "/"; aws.ToString(a.Path) != want {
		t.Errorf("Path = %q, want %q", aws.ToString(a.Path), want)
	}

	t.Run("nesting stops at five levels", func(t *testing.T) {
		parent, path := aws.ToString(a.Id), f.ID+"/"+f.RootID+"/"+aws.ToString(a.Id)+"/"
		for depth := 2; depth <= 5; depth++ {
			u := createOU(t, e, mgmt, parent, fmt.Sprintf("level-%d", depth))
			parent = aws.ToString(u.Id)
			path += parent + "/"
			if aws.ToString(u.Path) != path {
				t.Errorf("Path at depth %d = %q, want %q", depth, aws.ToString(u.Path), path)
			}
		}
		_, err := m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String("level-6")})
		expectReason[*types.ConstraintViolationException](t, err, "OU_DEPTH_LIMIT_EXCEEDED")
	})

	t.Run("names are unique under one parent only", func(t *testing.T) {
		_, err := m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(f.RootID), Name: aws.String("Workloads")})
		expectError[*types.DuplicateOrganizationalUnitException](t, err)
		createOU(t, e, mgmt, aws.ToString(a.Id), "Workloads") // same name, other parent
	})

	t.Run("parent errors", func(t *testing.T) {
		_, err := m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String("ou-" + suffix + "-zzzzzzzz"), Name: aws.String("x")})
		expectError[*types.ParentNotFoundException](t, err)
		_, err = m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String("r-zzzz"), Name: aws.String("x")})
		expectError[*types.ParentNotFoundException](t, err)
		_, err = m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(f.RootID + "-and-more!"), Name: aws.String("x")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_PATTERN")
	})

	t.Run("describe, rename, delete", func(t *testing.T) {
		u := createOU(t, e, mgmt, f.RootID, "Sandbox")
		createOU(t, e, mgmt, f.RootID, "Taken")
		for _, who := range []string{mgmt, delegate} {
			got, err := e.orgs(who).DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: u.Id})
			if err != nil || aws.ToString(got.OrganizationalUnit.Name) != "Sandbox" || aws.ToString(got.OrganizationalUnit.Arn) != aws.ToString(u.Arn) {
				t.Fatalf("DescribeOrganizationalUnit as %s = %+v, %v", who, got, err)
			}
		}
		_, err := m.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: u.Id, Name: aws.String("Taken")})
		expectError[*types.DuplicateOrganizationalUnitException](t, err)
		up, err := m.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: u.Id, Name: aws.String("Playground")})
		if err != nil || aws.ToString(up.OrganizationalUnit.Name) != "Playground" || aws.ToString(up.OrganizationalUnit.Id) != aws.ToString(u.Id) {
			t.Fatalf("UpdateOrganizationalUnit = %+v, %v", up, err)
		}
		same, err := m.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: u.Id})
		if err != nil || aws.ToString(same.OrganizationalUnit.Name) != "Playground" {
			t.Fatalf("UpdateOrganizationalUnit without a name = %+v, %v", same, err)
		}

		child := createOU(t, e, mgmt, aws.ToString(u.Id), "inner")
		_, err = m.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: u.Id})
		expectError[*types.OrganizationalUnitNotEmptyException](t, err)
		if _, err := m.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: child.Id}); err != nil {
			t.Fatalf("DeleteOrganizationalUnit(inner): %v", err)
		}
		if _, err := m.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: u.Id}); err != nil {
			t.Fatalf("DeleteOrganizationalUnit: %v", err)
		}
		_, err = m.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: u.Id})
		expectError[*types.OrganizationalUnitNotFoundException](t, err)
		_, err = m.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: u.Id, Name: aws.String("x")})
		expectError[*types.OrganizationalUnitNotFoundException](t, err)
		_, err = m.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: u.Id})
		expectError[*types.OrganizationalUnitNotFoundException](t, err)
	})

	t.Run("who may call", func(t *testing.T) {
		id := a.Id
		calls := map[string]func(c *organizations.Client) error{
			"Create": func(c *organizations.Client) error {
				_, err := c.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(f.RootID), Name: aws.String("nope")})
				return err
			},
			"Update": func(c *organizations.Client) error {
				_, err := c.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: id, Name: aws.String("nope")})
				return err
			},
			"Delete": func(c *organizations.Client) error {
				_, err := c.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: id})
				return err
			},
			"Describe": func(c *organizations.Client) error {
				_, err := c.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: id})
				return err
			},
			"ListForParent": func(c *organizations.Client) error {
				_, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(f.RootID)})
				return err
			},
		}
		readOnly := map[string]bool{"Describe": true, "ListForParent": true}
		for name, call := range calls {
			expectError[*types.AccessDeniedException](t, call(e.orgs(member)))
			expectError[*types.AWSOrganizationsNotInUseException](t, call(e.orgs(outsider)))
			if err := call(e.orgs(delegate)); readOnly[name] {
				if err != nil {
					t.Errorf("%s as delegated administrator: %v", name, err)
				}
			} else {
				expectError[*types.AccessDeniedException](t, err)
			}
		}
	})

	t.Run("OU count quota", func(t *testing.T) {
		e := newEnv(t)
		f := newOrgWithMembers(t, e, mgmt)
		setQuotas(t, e, `{"ousPerOrganization": 2}`)
		createOU(t, e, mgmt, f.RootID, "one")
		createOU(t, e, mgmt, f.RootID, "two")
		_, err := e.orgs(mgmt).CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(f.RootID), Name: aws.String("three")})
		expectReason[*types.ConstraintViolationException](t, err, "OU_NUMBER_LIMIT_EXCEEDED")
	})

	t.Run("tags on creation", func(t *testing.T) {
		out, err := m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{
			ParentId: aws.String(f.RootID), Name: aws.String("Tagged"),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		tags, err := m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: out.OrganizationalUnit.Id})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "platform" {
			t.Fatalf("tags = %+v, %v", tags, err)
		}
		_, err = m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{
			ParentId: aws.String(f.RootID), Name: aws.String("BadTags"),
			Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}},
		})
		expectReason[*types.InvalidInputException](t, err, "INVALID_SYSTEM_TAGS_PARAMETER")
		_, err = m.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String("ou-" + suffix + "-badtags0")})
		expectError[*types.OrganizationalUnitNotFoundException](t, err)
		list, err := m.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(f.RootID)})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list.OrganizationalUnits {
			if aws.ToString(u.Name) == "BadTags" {
				t.Errorf("an OU was created although its tags were refused")
			}
		}
	})
}

func TestTreeListings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, delegate, member, outsider = "302000000001", "302000000002", "302000000003", "302000000009"
	members := []string{delegate, member}
	for i := 4; i <= 8; i++ {
		members = append(members, fmt.Sprintf("30200000000%d", i))
	}
	f := newOrgWithMembers(t, e, mgmt, members...)
	makeDelegate(t, e, mgmt, delegate)
	m := e.orgs(mgmt)
	var ous []string
	for i := range 5 {
		ous = append(ous, aws.ToString(createOU(t, e, mgmt, f.RootID, fmt.Sprintf("ou-%d", i)).Id))
	}
	sort.Strings(ous)
	nested := createOU(t, e, mgmt, ous[0], "nested")

	t.Run("ListRoots", func(t *testing.T) {
		for _, who := range []string{mgmt, delegate} {
			out, err := e.orgs(who).ListRoots(ctx, &organizations.ListRootsInput{})
			if err != nil || len(out.Roots) != 1 {
				t.Fatalf("ListRoots as %s = %+v, %v", who, out, err)
			}
			r := out.Roots[0]
			if aws.ToString(r.Id) != f.RootID || aws.ToString(r.Name) != "Root" ||
				aws.ToString(r.Arn) != "arn:aws:organizations::"+mgmt+":root/"+f.ID+"/"+f.RootID {
				t.Errorf("root = %+v", r)
			}
			if len(r.PolicyTypes) != 1 || r.PolicyTypes[0].Type != types.PolicyTypeServiceControlPolicy || r.PolicyTypes[0].Status != types.PolicyTypeStatusEnabled {
				t.Errorf("PolicyTypes = %+v, want SCPs enabled", r.PolicyTypes)
			}
			if out.NextToken != nil {
				t.Errorf("NextToken = %q after the only root", *out.NextToken)
			}
		}
		_, err := e.orgs(member).ListRoots(ctx, &organizations.ListRootsInput{})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(outsider).ListRoots(ctx, &organizations.ListRootsInput{})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		_, err = m.ListRoots(ctx, &organizations.ListRootsInput{NextToken: aws.String("forged")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_NEXT_TOKEN")
	})

	t.Run("ListChildren pages", func(t *testing.T) {
		want := append([]string{mgmt}, members...)
		sort.Strings(want)
		for _, tc := range []struct {
			typ  types.ChildType
			want []string
		}{{types.ChildTypeAccount, want}, {types.ChildTypeOrganizationalUnit, ous}} {
			var got []string
			p := organizations.NewListChildrenPaginator(e.orgs(delegate), &organizations.ListChildrenInput{
				ParentId: aws.String(f.RootID), ChildType: tc.typ, MaxResults: aws.Int32(3),
			})
			pages := 0
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("ListChildren %s: %v", tc.typ, err)
				}
				pages++
				if len(page.Children) > 3 {
					t.Errorf("page of %d children with MaxResults 3", len(page.Children))
				}
				for _, c := range page.Children {
					if c.Type != tc.typ {
						t.Errorf("child %s has type %s", aws.ToString(c.Id), c.Type)
					}
					got = append(got, aws.ToString(c.Id))
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("%s children = %v, want %v", tc.typ, got, tc.want)
			}
			if wantPages := (len(tc.want) + 2) / 3; pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		}
		inner, err := m.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(ous[0]), ChildType: types.ChildTypeOrganizationalUnit})
		if err != nil || len(inner.Children) != 1 || aws.ToString(inner.Children[0].Id) != aws.ToString(nested.Id) {
			t.Errorf("children of %s = %+v, %v", ous[0], inner, err)
		}
	})

	t.Run("ListChildren errors", func(t *testing.T) {
		first, err := m.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(f.RootID), ChildType: types.ChildTypeAccount, MaxResults: aws.Int32(1)})
		if err != nil || first.NextToken == nil {
			t.Fatalf("first page = %+v, %v", first, err)
		}
		// A token is bound to its list: not valid for the OUs of the root.
		_, err = m.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(f.RootID), ChildType: types.ChildTypeOrganizationalUnit, NextToken: first.NextToken})
		expectReason[*types.InvalidInputException](t, err, "INVALID_NEXT_TOKEN")
		_, err = m.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(f.RootID), ChildType: types.ChildTypeAccount, NextToken: aws.String(*first.NextToken + "x")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_NEXT_TOKEN")
		_, err = m.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("r-zzzz"), ChildType: types.ChildTypeAccount})
		expectError[*types.ParentNotFoundException](t, err)
		_, err = m.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(f.RootID), ChildType: types.ChildTypeAccount, MaxResults: aws.Int32(21)})
		expectError[*types.InvalidInputException](t, err)
		_, err = e.orgs(member).ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(f.RootID), ChildType: types.ChildTypeAccount})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(outsider).ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(f.RootID), ChildType: types.ChildTypeAccount})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
	})

	t.Run("ListOrganizationalUnitsForParent", func(t *testing.T) {
		var got []string
		p := organizations.NewListOrganizationalUnitsForParentPaginator(m, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(f.RootID), MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.OrganizationalUnits {
				got = append(got, aws.ToString(u.Id))
				if !strings.HasPrefix(aws.ToString(u.Name), "ou-") || aws.ToString(u.Arn) == "" {
					t.Errorf("OU = %+v", u)
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(ous, ",") {
			t.Errorf("OUs = %v, want %v", got, ous)
		}
		_, err := m.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("ou-zzzz-zzzzzzzz")})
		expectError[*types.ParentNotFoundException](t, err)
		_, err = m.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(f.RootID), NextToken: aws.String("bogus")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_NEXT_TOKEN")
	})

	t.Run("ListParents", func(t *testing.T) {
		for _, tc := range []struct {
			child, parent string
			typ           types.ParentType
		}{
			{member, f.RootID, types.ParentTypeRoot},
			{mgmt, f.RootID, types.ParentTypeRoot},
			{ous[0], f.RootID, types.ParentTypeRoot},
			{aws.ToString(nested.Id), ous[0], types.ParentTypeOrganizationalUnit},
		} {
			out, err := e.orgs(delegate).ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(tc.child)})
			if err != nil || len(out.Parents) != 1 || aws.ToString(out.Parents[0].Id) != tc.parent || out.Parents[0].Type != tc.typ || out.NextToken != nil {
				t.Errorf("ListParents(%s) = %+v, %v; want %s %s", tc.child, out, err, tc.typ, tc.parent)
			}
		}
		for _, missing := range []string{outsider, "ou-zzzz-zzzzzzzz"} {
			_, err := m.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(missing)})
			expectError[*types.ChildNotFoundException](t, err)
		}
		_, err := m.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(member + "0")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_PATTERN")
		_, err = e.orgs(member).ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(member)})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(outsider).ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(member)})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
	})
}

func TestTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, delegate, member, outsider = "303000000001", "303000000002", "303000000003", "303000000009"
	f := newOrgWithMembers(t, e, mgmt, delegate, member)
	makeDelegate(t, e, mgmt, delegate)
	m := e.orgs(mgmt)
	u := createOU(t, e, mgmt, f.RootID, "Tagged")

	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	list := func(t *testing.T, who, id string) map[string]string {
		t.Helper()
		got := map[string]string{}
		p := organizations.NewListTagsForResourcePaginator(e.orgs(who), &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListTagsForResource(%s): %v", id, err)
			}
			for _, tg := range page.Tags {
				if _, dup := got[aws.ToString(tg.Key)]; dup {
					t.Errorf("tag %s listed twice", aws.ToString(tg.Key))
				}
				got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
		}
		return got
	}

	for _, id := range []string{member, f.RootID, aws.ToString(u.Id)} {
		t.Run("tag and untag "+id, func(t *testing.T) {
			if _, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("env", "prod"), tag("empty", ""), tag("Team Name", "a.b:c/d=e+f-g@h_i")}}); err != nil {
				t.Fatalf("TagResource: %v", err)
			}
			if _, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("env", "dev")}}); err != nil {
				t.Fatalf("TagResource overwrite: %v", err)
			}
			want := map[string]string{"env": "dev", "empty": "", "Team Name": "a.b:c/d=e+f-g@h_i"}
			if got := list(t, delegate, id); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("tags = %v, want %v", got, want)
			}
			if _, err := m.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(id), TagKeys: []string{"env", "never-there"}}); err != nil {
				t.Fatalf("UntagResource: %v", err)
			}
			delete(want, "env")
			if got := list(t, mgmt, id); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("tags after untag = %v, want %v", got, want)
			}
		})
	}

	t.Run("fifty per resource", func(t *testing.T) {
		var tags []types.Tag
		for i := range 50 {
			tags = append(tags, tag(fmt.Sprintf("k%02d", i), "v"))
		}
		if _, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(delegate), Tags: tags}); err != nil {
			t.Fatalf("50 tags: %v", err)
		}
		if got := list(t, mgmt, delegate); len(got) != 50 {
			t.Errorf("%d tags listed across pages, want 50", len(got))
		}
		// Overwriting a key adds nothing; a new one is the 51st.
		if _, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(delegate), Tags: []types.Tag{tag("k00", "w")}}); err != nil {
			t.Errorf("overwrite at the limit: %v", err)
		}
		_, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(delegate), Tags: []types.Tag{tag("k00", "x"), tag("one-more", "v")}})
		expectReason[*types.ConstraintViolationException](t, err, "MAX_TAG_LIMIT_EXCEEDED")
		if got := list(t, mgmt, delegate); got["k00"] != "w" || len(got) != 50 {
			t.Errorf("a refused request changed tags: k00=%q, %d tags", got["k00"], len(got))
		}
	})

	t.Run("invalid tags", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			tags   []types.Tag
			reason string
		}{
			{"duplicate key", []types.Tag{tag("a", "1"), tag("a", "2")}, "DUPLICATE_TAG_KEY"},
			{"system key", []types.Tag{tag("aws:cost", "1")}, "INVALID_SYSTEM_TAGS_PARAMETER"},
			{"system key any case", []types.Tag{tag("AWS:cost", "1")}, "INVALID_SYSTEM_TAGS_PARAMETER"},
			{"bad character", []types.Tag{tag("a*b", "1")}, "INVALID_PATTERN"},
			{"bad value character", []types.Tag{tag("ok", "semi;colon")}, "INVALID_PATTERN"},
			{"key too long", []types.Tag{tag(strings.Repeat("k", 129), "1")}, "MAX_LENGTH_EXCEEDED"},
			{"value too long", []types.Tag{tag("k", strings.Repeat("v", 257))}, "MAX_LENGTH_EXCEEDED"},
			{"empty key", []types.Tag{tag("", "1")}, "MIN_LENGTH_EXCEEDED"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(member), Tags: append([]types.Tag{tag("fine", "1")}, tc.tags...)})
				expectReason[*types.InvalidInputException](t, err, tc.reason)
				if _, ok := list(t, mgmt, member)["fine"]; ok {
					t.Errorf("a refused request added a tag")
				}
			})
		}
		_, err := m.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(member), TagKeys: []string{"aws:cost"}})
		expectReason[*types.InvalidInputException](t, err, "INVALID_SYSTEM_TAGS_PARAMETER")
	})

	t.Run("unknown targets", func(t *testing.T) {
		for _, id := range []string{outsider, "r-zzzz", "ou-zzzz-zzzzzzzz", "p-0123456789"} {
			_, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("a", "b")}})
			expectError[*types.TargetNotFoundException](t, err)
			_, err = m.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(id), TagKeys: []string{"a"}})
			expectError[*types.TargetNotFoundException](t, err)
			_, err = m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
			expectError[*types.TargetNotFoundException](t, err)
		}
		_, err := m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(member + "-x")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_PATTERN")
		_, err = m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(member), NextToken: aws.String("bogus")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_NEXT_TOKEN")
	})

	t.Run("who may call", func(t *testing.T) {
		// Delegated administrators read tags but do not change them.
		_, err := e.orgs(delegate).TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(member), Tags: []types.Tag{tag("a", "b")}})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(delegate).UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(member), TagKeys: []string{"a"}})
		expectError[*types.AccessDeniedException](t, err)
		for _, call := range []func(c *organizations.Client) error{
			func(c *organizations.Client) error {
				_, err := c.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(member), Tags: []types.Tag{tag("a", "b")}})
				return err
			},
			func(c *organizations.Client) error {
				_, err := c.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(member), TagKeys: []string{"a"}})
				return err
			},
			func(c *organizations.Client) error {
				_, err := c.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(member)})
				return err
			},
		} {
			expectError[*types.AccessDeniedException](t, call(e.orgs(member)))
			expectError[*types.AWSOrganizationsNotInUseException](t, call(e.orgs(outsider)))
		}
	})

	t.Run("deleting an OU deletes its tags", func(t *testing.T) {
		v := createOU(t, e, mgmt, f.RootID, "Doomed")
		if _, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: v.Id, Tags: []types.Tag{tag("a", "b")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: v.Id}); err != nil {
			t.Fatal(err)
		}
		_, err := m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: v.Id})
		expectError[*types.TargetNotFoundException](t, err)
		n := 0
		if err := e.Store.Read(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.Count("org.tags", aws.ToString(v.Id)+"/")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d orphan tags of a deleted OU", n)
		}
	})
}

func invite(t *testing.T, e *env, mgmt string, target types.HandshakeParty, notes string) *types.Handshake {
	t.Helper()
	in := &organizations.InviteAccountToOrganizationInput{Target: &target}
	if notes != "" {
		in.Notes = aws.String(notes)
	}
	out, err := e.orgs(mgmt).InviteAccountToOrganization(context.Background(), in)
	if err != nil {
		t.Fatalf("InviteAccountToOrganization(%s): %v", aws.ToString(target.Id), err)
	}
	return out.Handshake
}

func byID(id string) types.HandshakeParty {
	return types.HandshakeParty{Id: aws.String(id), Type: types.HandshakePartyTypeAccount}
}

func describeHandshake(t *testing.T, e *env, who, id string) *types.Handshake {
	t.Helper()
	out, err := e.orgs(who).DescribeHandshake(context.Background(), &organizations.DescribeHandshakeInput{HandshakeId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeHandshake(%s) as %s: %v", id, who, err)
	}
	return out.Handshake
}

func handshakeIDs(hs []types.Handshake) []string {
	var ids []string
	for _, h := range hs {
		ids = append(ids, aws.ToString(h.Id))
	}
	return ids
}

func resource(h *types.Handshake, typ types.HandshakeResourceType) (string, bool) {
	for _, r := range h.Resources {
		if r.Type == typ {
			return aws.ToString(r.Value), true
		}
	}
	return "", false
}

func TestInviteAndAccept(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, invitee, stranger = "304000000001", "304000000002", "304000000009"
	f := newOrgWithMembers(t, e, mgmt)
	e.Clock.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	sent := e.Clock.Now()

	h := invite(t, e, mgmt, byID(invitee), "join us")
	id := aws.ToString(h.Id)
	checkPattern(t, "Id", id, `^h-[0-9a-z]{8,32}$`)
	if want := "arn:aws:organizations::" + mgmt + ":handshake/" + f.ID + "/invite/" + id; aws.ToString(h.Arn) != want {
		t.Errorf("Arn = %q, want %q", aws.ToString(h.Arn), want)
	}
	if h.Action != types.ActionTypeInviteAccountToOrganization || h.State != types.HandshakeStateOpen {
		t.Errorf("Action, State = %s, %s", h.Action, h.State)
	}
	if !aws.ToTime(h.RequestedTimestamp).Equal(sent) || !aws.ToTime(h.ExpirationTimestamp).Equal(sent.Add(15*24*time.Hour)) {
		t.Errorf("requested %v, expires %v; want %v and 15 days later", h.RequestedTimestamp, h.ExpirationTimestamp, sent)
	}
	if len(h.Parties) != 2 || aws.ToString(h.Parties[0].Id) != f.ID || h.Parties[0].Type != types.HandshakePartyTypeOrganization ||
		aws.ToString(h.Parties[1].Id) != invitee || h.Parties[1].Type != types.HandshakePartyTypeAccount {
		t.Errorf("Parties = %+v", h.Parties)
	}
	if v, _ := resource(h, types.HandshakeResourceTypeOrganization); v != f.ID {
		t.Errorf("ORGANIZATION resource = %q", v)
	}
	if v, _ := resource(h, types.HandshakeResourceTypeAccount); v != invitee {
		t.Errorf("ACCOUNT resource = %q", v)
	}
	if v, _ := resource(h, types.HandshakeResourceTypeNotes); v != "join us" {
		t.Errorf("NOTES resource = %q", v)
	}
	org := h.Resources[0]
	nested := map[types.HandshakeResourceType]string{}
	for _, r := range org.Resources {
		nested[r.Type] = aws.ToString(r.Value)
	}
	if nested[types.HandshakeResourceTypeMasterEmail] == "" || nested[types.HandshakeResourceTypeMasterName] == "" || nested[types.HandshakeResourceTypeOrganizationFeatureSet] != "ALL" {
		t.Errorf("organization details = %v", nested)
	}

	t.Run("parties see it, others do not", func(t *testing.T) {
		describeHandshake(t, e, invitee, id)
		describeHandshake(t, e, mgmt, id)
		_, err := e.orgs(stranger).DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: aws.String(id)})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(mgmt).DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: aws.String("h-0000000000")})
		expectError[*types.HandshakeNotFoundException](t, err)
		mine, err := e.orgs(invitee).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
		if err != nil || strings.Join(handshakeIDs(mine.Handshakes), ",") != id {
			t.Errorf("invitee's handshakes = %v, %v", handshakeIDs(mine.Handshakes), err)
		}
		theirs, err := e.orgs(stranger).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
		if err != nil || len(theirs.Handshakes) != 0 {
			t.Errorf("stranger's handshakes = %v, %v", handshakeIDs(theirs.Handshakes), err)
		}
		sentList, err := e.orgs(mgmt).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{})
		if err != nil || strings.Join(handshakeIDs(sentList.Handshakes), ",") != id {
			t.Errorf("organization's handshakes = %v, %v", handshakeIDs(sentList.Handshakes), err)
		}
	})

	t.Run("only the recipient answers, only the sender cancels", func(t *testing.T) {
		_, err := e.orgs(mgmt).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(id)})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(stranger).DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: aws.String(id)})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(invitee).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: aws.String(id)})
		expectError[*types.AccessDeniedException](t, err)
	})

	t.Run("a second invitation is a duplicate", func(t *testing.T) {
		_, err := e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID(invitee))})
		expectError[*types.DuplicateHandshakeException](t, err)
	})

	e.Clock.Advance(time.Hour)
	joined := e.Clock.Now()
	acc, err := e.orgs(invitee).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(id)})
	if err != nil || acc.Handshake.State != types.HandshakeStateAccepted {
		t.Fatalf("AcceptHandshake = %+v, %v", acc, err)
	}

	t.Run("the account joined the root", func(t *testing.T) {
		parents, err := e.orgs(mgmt).ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(invitee)})
		if err != nil || len(parents.Parents) != 1 || aws.ToString(parents.Parents[0].Id) != f.RootID {
			t.Fatalf("ListParents = %+v, %v", parents, err)
		}
		m := storedMember(t, e, invitee)
		if m["joinedMethod"] != "INVITED" || m["status"] != "ACTIVE" || m["orgId"] != f.ID {
			t.Errorf("membership = %v", m)
		}
		if at, _ := time.Parse(time.RFC3339Nano, m["joinedAt"].(string)); !at.Equal(joined) {
			t.Errorf("joined at %v, want %v", m["joinedAt"], joined)
		}
		if got, err := e.orgs(invitee).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil || aws.ToString(got.Organization.Id) != f.ID {
			t.Errorf("DescribeOrganization as the new member = %+v, %v", got, err)
		}
		acct, err := e.orgs(mgmt).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(invitee)})
		if err != nil || acct.Account.JoinedMethod != types.AccountJoinedMethodInvited || !aws.ToTime(acct.Account.JoinedTimestamp).Equal(joined) ||
			acct.Account.State != types.AccountStateActive {
			t.Errorf("DescribeAccount = %+v, %v; want INVITED at %v", acct, err, joined)
		}
	})

	t.Run("transitions out of ACCEPTED", func(t *testing.T) {
		_, err := e.orgs(invitee).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(id)})
		expectError[*types.HandshakeAlreadyInStateException](t, err)
		_, err = e.orgs(invitee).DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: aws.String(id)})
		expectError[*types.InvalidHandshakeTransitionException](t, err)
		_, err = e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: aws.String(id)})
		expectError[*types.InvalidHandshakeTransitionException](t, err)
	})

	t.Run("members cannot invite, strangers have no organization", func(t *testing.T) {
		_, err := e.orgs(invitee).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID(stranger))})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(stranger).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID(invitee))})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		_, err = e.orgs(invitee).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(stranger).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
	})

	t.Run("members cannot be invited again", func(t *testing.T) {
		_, err := e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID(invitee))})
		expectReason[*types.HandshakeConstraintViolationException](t, err, "ALREADY_IN_AN_ORGANIZATION")
		_, err = e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID(mgmt))})
		expectReason[*types.HandshakeConstraintViolationException](t, err, "ALREADY_IN_AN_ORGANIZATION")
	})

	t.Run("another organization's management account joins once its organization is gone", func(t *testing.T) {
		const other = "304000000100"
		newOrgWithMembers(t, e, other)
		h := invite(t, e, mgmt, byID(other), "")
		seen, err := e.orgs(other).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
		if err != nil || len(seen.Handshakes) != 0 {
			t.Errorf("a management account sees invitations: %v, %v", handshakeIDs(seen.Handshakes), err)
		}
		_, err = e.orgs(other).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id})
		expectError[*types.MasterCannotLeaveOrganizationException](t, err)
		if _, err := e.orgs(other).DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
			t.Fatal(err)
		}
		seen, err = e.orgs(other).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
		if err != nil || len(seen.Handshakes) != 1 {
			t.Fatalf("invitations after deleting its organization = %v, %v", handshakeIDs(seen.Handshakes), err)
		}
		if _, err := e.orgs(other).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
			t.Errorf("AcceptHandshake: %v", err)
		}
	})

	t.Run("tags given with the invitation land on the account", func(t *testing.T) {
		const tagged = "304000000003"
		out, err := e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
			Target: ptrParty(byID(tagged)),
			Tags:   []types.Tag{{Key: aws.String("cost-center"), Value: aws.String("42")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.orgs(tagged).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: out.Handshake.Id}); err != nil {
			t.Fatal(err)
		}
		tags, err := e.orgs(mgmt).ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(tagged)})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "cost-center" {
			t.Errorf("tags = %+v, %v", tags, err)
		}
		_, err = e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
			Target: ptrParty(byID("304000000004")),
			Tags:   []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}},
		})
		expectReason[*types.InvalidInputException](t, err, "DUPLICATE_TAG_KEY")
	})
}

func ptrParty(p types.HandshakeParty) *types.HandshakeParty { return &p }

func TestInviteByEmailAndTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt = "305000000001"
	newOrgWithMembers(t, e, mgmt)
	id, _, _ := e.registerAccount(t, `{"accountId":"305000000002","email":"Dana@Example.com"}`)

	h := invite(t, e, mgmt, types.HandshakeParty{Id: aws.String("dana@example.com"), Type: types.HandshakePartyTypeEmail}, "")
	if len(h.Parties) != 2 || h.Parties[1].Type != types.HandshakePartyTypeEmail || aws.ToString(h.Parties[1].Id) != "dana@example.com" {
		t.Errorf("Parties = %+v", h.Parties)
	}
	if v, _ := resource(h, types.HandshakeResourceTypeEmail); v != "dana@example.com" {
		t.Errorf("EMAIL resource = %q", v)
	}
	// The invitation by email reaches the account that owns the address.
	mine, err := e.orgs(id).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
	if err != nil || len(mine.Handshakes) != 1 || aws.ToString(mine.Handshakes[0].Id) != aws.ToString(h.Id) {
		t.Fatalf("handshakes of %s = %v, %v", id, handshakeIDs(mine.Handshakes), err)
	}
	if _, err := e.orgs(id).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
		t.Fatalf("AcceptHandshake: %v", err)
	}

	for _, tc := range []struct {
		name   string
		target types.HandshakeParty
		reason string
	}{
		{"unknown email", types.HandshakeParty{Id: aws.String("nobody@example.com"), Type: types.HandshakePartyTypeEmail}, "INVALID_EMAIL_ADDRESS_TARGET"},
		{"malformed email", types.HandshakeParty{Id: aws.String("not-an-email"), Type: types.HandshakePartyTypeEmail}, "INVALID_EMAIL_ADDRESS_TARGET"},
		{"organization target", types.HandshakeParty{Id: aws.String("o-abcdefghij"), Type: types.HandshakePartyTypeOrganization}, "INVALID_PARTY_TYPE_TARGET"},
		{"account id of another shape", types.HandshakeParty{Id: aws.String("12345"), Type: types.HandshakePartyTypeAccount}, "INVALID_PARTY_TYPE_TARGET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &tc.target})
			expectReason[*types.InvalidInputException](t, err, tc.reason)
		})
	}
}

func TestHandshakeDeclineCancelExpire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, a, b, c = "306000000001", "306000000002", "306000000003", "306000000004"
	newOrgWithMembers(t, e, mgmt)
	e.Clock.Set(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))

	declined := aws.ToString(invite(t, e, mgmt, byID(a), "").Id)
	out, err := e.orgs(a).DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: aws.String(declined)})
	if err != nil || out.Handshake.State != types.HandshakeStateDeclined {
		t.Fatalf("DeclineHandshake = %+v, %v", out, err)
	}
	_, err = e.orgs(a).DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: aws.String(declined)})
	expectError[*types.HandshakeAlreadyInStateException](t, err)
	_, err = e.orgs(a).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(declined)})
	expectError[*types.InvalidHandshakeTransitionException](t, err)
	_, err = e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: aws.String(declined)})
	expectError[*types.InvalidHandshakeTransitionException](t, err)

	canceled := aws.ToString(invite(t, e, mgmt, byID(b), "").Id)
	cout, err := e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: aws.String(canceled)})
	if err != nil || cout.Handshake.State != types.HandshakeStateCanceled {
		t.Fatalf("CancelHandshake = %+v, %v", cout, err)
	}
	_, err = e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: aws.String(canceled)})
	expectError[*types.HandshakeAlreadyInStateException](t, err)
	_, err = e.orgs(b).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(canceled)})
	expectError[*types.InvalidHandshakeTransitionException](t, err)
	_, err = e.orgs(b).DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: aws.String(canceled)})
	expectError[*types.InvalidHandshakeTransitionException](t, err)
	// A closed invitation no longer blocks a new one.
	again := invite(t, e, mgmt, byID(b), "")

	expiring := aws.ToString(invite(t, e, mgmt, byID(c), "").Id)
	e.Clock.Advance(15*24*time.Hour - time.Second)
	if h := describeHandshake(t, e, c, expiring); h.State != types.HandshakeStateOpen {
		t.Errorf("State a second before expiry = %s", h.State)
	}
	e.Clock.Advance(time.Second)
	if h := describeHandshake(t, e, c, expiring); h.State != types.HandshakeStateExpired {
		t.Errorf("State after 15 days = %s, want EXPIRED", h.State)
	}
	_, err = e.orgs(c).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String(expiring)})
	expectError[*types.InvalidHandshakeTransitionException](t, err)
	_, err = e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: aws.String(expiring)})
	expectError[*types.InvalidHandshakeTransitionException](t, err)
	list, err := e.orgs(c).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
	if err != nil || len(list.Handshakes) != 1 || list.Handshakes[0].State != types.HandshakeStateExpired {
		t.Errorf("expired handshakes listed = %+v, %v", list, err)
	}
	if _, err := e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID(c))}); err != nil {
		t.Errorf("re-inviting after expiry: %v", err)
	}

	// Closed handshakes stay visible for 30 days after they closed.
	e.Clock.Set(time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC).Add(-time.Second))
	describeHandshake(t, e, a, declined)
	e.Clock.Advance(time.Second)
	for _, gone := range []string{declined, canceled} {
		_, err := e.orgs(mgmt).DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: aws.String(gone)})
		expectError[*types.HandshakeNotFoundException](t, err)
	}
	_, err = e.orgs(a).DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: aws.String(declined)})
	expectError[*types.HandshakeNotFoundException](t, err)
	all, err := e.orgs(mgmt).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range handshakeIDs(all.Handshakes) {
		if id == declined || id == canceled {
			t.Errorf("handshake %s listed more than 30 days after it closed", id)
		}
	}
	if got := describeHandshake(t, e, mgmt, aws.ToString(again.Id)); got.State != types.HandshakeStateExpired {
		t.Errorf("the re-sent invitation = %s, want EXPIRED", got.State)
	}
	// The one that expired on May 16 is still listed until June 15.
	if got := describeHandshake(t, e, c, expiring); got.State != types.HandshakeStateExpired {
		t.Errorf("expired handshake = %s", got.State)
	}
}

func TestInvitationQuotas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("open invitations count toward the account quota", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		const mgmt = "307000000001"
		newOrgWithMembers(t, e, mgmt, "307000000002")
		setQuotas(t, e, `{"accountsPerOrganization": 4}`)
		first := invite(t, e, mgmt, byID("307000000003"), "")
		invite(t, e, mgmt, byID("307000000004"), "")
		_, err := e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID("307000000005"))})
		expectReason[*types.HandshakeConstraintViolationException](t, err, "ACCOUNT_NUMBER_LIMIT_EXCEEDED")
		if _, err := e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: first.Id}); err != nil {
			t.Fatal(err)
		}
		invite(t, e, mgmt, byID("307000000005"), "")
	})

	t.Run("twenty invitations a day", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		const mgmt, target = "308000000001", "308000000002"
		newOrgWithMembers(t, e, mgmt)
		for range 20 {
			h := invite(t, e, mgmt, byID(target), "")
			if _, err := e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: h.Id}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID(target))})
		expectReason[*types.HandshakeConstraintViolationException](t, err, "HANDSHAKE_RATE_LIMIT_EXCEEDED")
		e.Clock.Advance(24 * time.Hour)
		invite(t, e, mgmt, byID(target), "")
	})

	t.Run("accepted invitations do not count toward the daily quota", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		const mgmt = "309000000001"
		newOrgWithMembers(t, e, mgmt)
		setQuotas(t, e, `{"invitationsPerDay": 2, "accountsPerOrganization": 2}`)
		h := invite(t, e, mgmt, byID("309000000002"), "")
		if _, err := e.orgs("309000000002").AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
			t.Fatal(err)
		}
		setQuotas(t, e, `{"accountsPerOrganization": 10}`)
		// InvitationsAllowed is the higher of the two quotas: 10 a day now.
		for i := range 10 {
			h := invite(t, e, mgmt, byID(fmt.Sprintf("3090000001%02d", i)), "")
			if _, err := e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: h.Id}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID("309000000200"))})
		expectReason[*types.HandshakeConstraintViolationException](t, err, "HANDSHAKE_RATE_LIMIT_EXCEEDED")
	})
}

func TestHandshakeListings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, delegate = "310000000001", "310000000002"
	newOrgWithMembers(t, e, mgmt, delegate)
	makeDelegate(t, e, mgmt, delegate)
	var want []string
	for i := range 5 {
		want = append(want, aws.ToString(invite(t, e, mgmt, byID(fmt.Sprintf("31000000010%d", i)), "").Id))
	}
	sort.Strings(want)

	var got []string
	p := organizations.NewListHandshakesForOrganizationPaginator(e.orgs(delegate), &organizations.ListHandshakesForOrganizationInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListHandshakesForOrganization as delegated administrator: %v", err)
		}
		if len(page.Handshakes) == 0 || len(page.Handshakes) > 2 {
			t.Errorf("page of %d handshakes", len(page.Handshakes))
		}
		got = append(got, handshakeIDs(page.Handshakes)...)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("handshakes = %v, want %v", got, want)
	}
	// A delegated administrator of the sending organization may describe them.
	describeHandshake(t, e, delegate, want[0])

	filtered, err := e.orgs(mgmt).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{Filter: &types.HandshakeFilter{ActionType: types.ActionTypeEnableAllFeatures}})
	if err != nil || len(filtered.Handshakes) != 0 {
		t.Errorf("ENABLE_ALL_FEATURES handshakes = %v, %v", handshakeIDs(filtered.Handshakes), err)
	}
	invites, err := e.orgs(mgmt).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{Filter: &types.HandshakeFilter{ActionType: types.ActionTypeInviteAccountToOrganization}})
	if err != nil || len(invites.Handshakes) != 5 {
		t.Errorf("INVITE handshakes = %v, %v", handshakeIDs(invites.Handshakes), err)
	}
	_, err = e.orgs(mgmt).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{
		Filter: &types.HandshakeFilter{ActionType: types.ActionTypeInviteAccountToOrganization, ParentHandshakeId: aws.String(want[0])},
	})
	expectReason[*types.InvalidInputException](t, err, "MAX_LIMIT_EXCEEDED_FILTER")
	_, err = e.orgs("310000000100").ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{
		Filter: &types.HandshakeFilter{ActionType: types.ActionTypeInviteAccountToOrganization, ParentHandshakeId: aws.String(want[0])},
	})
	expectReason[*types.InvalidInputException](t, err, "MAX_LIMIT_EXCEEDED_FILTER")
	_, err = e.orgs(mgmt).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{NextToken: aws.String("bogus")})
	expectReason[*types.InvalidInputException](t, err, "INVALID_NEXT_TOKEN")
	_, err = e.orgs(mgmt).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{NextToken: aws.String("bogus")})
	expectReason[*types.InvalidInputException](t, err, "INVALID_NEXT_TOKEN")
}

func TestEnableAllFeatures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// billingOrg makes a consolidated-billing organization with invited members.
	billingOrg := func(t *testing.T, e *env, mgmt string, members ...string) string {
		t.Helper()
		out, err := e.orgs(mgmt).CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			h := invite(t, e, mgmt, byID(m), "")
			if v, _ := resource(h, types.HandshakeResourceTypeOrganization); v == "" {
				t.Fatal("no ORGANIZATION resource")
			}
			if _, err := e.orgs(m).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
				t.Fatal(err)
			}
		}
		return aws.ToString(out.Organization.Id)
	}
	pendingFor := func(t *testing.T, e *env, account string, action types.ActionType) *types.Handshake {
		t.Helper()
		out, err := e.orgs(account).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{Filter: &types.HandshakeFilter{ActionType: action}})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range out.Handshakes {
			if h.State == types.HandshakeStateOpen {
				return &h
			}
		}
		t.Fatalf("%s has no open %s handshake among %v", account, action, handshakeIDs(out.Handshakes))
		return nil
	}

	t.Run("every invited member approves, then the management account", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		const mgmt, a, b = "311000000001", "311000000002", "311000000003"
		e.Clock.Set(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
		orgID := billingOrg(t, e, mgmt, a, b)
		roots, err := e.orgs(mgmt).ListRoots(ctx, &organizations.ListRootsInput{})
		if err != nil || len(roots.Roots[0].PolicyTypes) != 0 {
			t.Fatalf("policy types before = %+v, %v", roots, err)
		}
		_, err = e.orgs(a).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
		expectError[*types.AccessDeniedException](t, err)

		out, err := e.orgs(mgmt).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
		if err != nil {
			t.Fatal(err)
		}
		req := out.Handshake
		if req.Action != types.ActionTypeEnableAllFeatures || req.State != types.HandshakeStateRequested ||
			len(req.Parties) != 1 || aws.ToString(req.Parties[0].Id) != orgID ||
			!aws.ToTime(req.ExpirationTimestamp).Equal(e.Clock.Now().Add(90*24*time.Hour)) {
			t.Errorf("request = %+v", req)
		}
		checkPattern(t, "Arn", aws.ToString(req.Arn), `^arn:aws:organizations::`+mgmt+`:handshake/`+orgID+`/enable_all_features/h-[0-9a-z]+$`)

		_, err = e.orgs(mgmt).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
		expectReason[*types.HandshakeConstraintViolationException](t, err, "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION")
		_, err = e.orgs(mgmt).InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: ptrParty(byID("311000000004"))})
		expectReason[*types.HandshakeConstraintViolationException](t, err, "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES")
		_, err = e.orgs(mgmt).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: req.Id})
		expectError[*types.InvalidHandshakeTransitionException](t, err)

		for _, m := range []string{a, b} {
			h := pendingFor(t, e, m, types.ActionTypeEnableAllFeatures)
			if v, _ := resource(h, types.HandshakeResourceTypeParentHandshake); v != aws.ToString(req.Id) {
				t.Errorf("PARENT_HANDSHAKE = %q, want %s", v, aws.ToString(req.Id))
			}
			if _, err := e.orgs(mgmt).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err == nil {
				t.Errorf("the management account accepted a member's approval")
			}
			if _, err := e.orgs(m).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
				t.Fatalf("member %s approves: %v", m, err)
			}
		}
		if got := describeHandshake(t, e, mgmt, aws.ToString(req.Id)); got.State != types.HandshakeStateOpen {
			t.Errorf("request after all approvals = %s, want OPEN", got.State)
		}
		approve := pendingFor(t, e, mgmt, types.ActionTypeApproveAllFeatures)
		steps, err := e.orgs(mgmt).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{Filter: &types.HandshakeFilter{ParentHandshakeId: req.Id}})
		if err != nil || len(steps.Handshakes) != 3 {
			t.Errorf("steps of the request = %v, %v; want two approvals and the final one", handshakeIDs(steps.Handshakes), err)
		}
		if _, err := e.orgs(mgmt).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: approve.Id}); err != nil {
			t.Fatalf("final approval: %v", err)
		}
		org, err := e.orgs(a).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil || org.Organization.FeatureSet != types.OrganizationFeatureSetAll {
			t.Errorf("organization = %+v, %v; want ALL", org, err)
		}
		roots, err = e.orgs(mgmt).ListRoots(ctx, &organizations.ListRootsInput{})
		if err != nil || len(roots.Roots[0].PolicyTypes) != 1 || roots.Roots[0].PolicyTypes[0].Type != types.PolicyTypeServiceControlPolicy {
			t.Errorf("policy types after = %+v, %v", roots, err)
		}
		if got := describeHandshake(t, e, mgmt, aws.ToString(req.Id)); got.State != types.HandshakeStateAccepted {
			t.Errorf("request after completion = %s", got.State)
		}
		_, err = e.orgs(mgmt).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
		expectReason[*types.HandshakeConstraintViolationException](t, err, "ORGANIZATION_ALREADY_HAS_ALL_FEATURES")
		invite(t, e, mgmt, byID("311000000004"), "")
	})

	t.Run("without invited members the request opens at once", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		const mgmt = "312000000001"
		billingOrg(t, e, mgmt)
		out, err := e.orgs(mgmt).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
		if err != nil || out.Handshake.State != types.HandshakeStateOpen {
			t.Fatalf("EnableAllFeatures = %+v, %v", out, err)
		}
		// Completing the open request itself works too.
		if _, err := e.orgs(mgmt).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: out.Handshake.Id}); err != nil {
			t.Fatal(err)
		}
		org, err := e.orgs(mgmt).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil || org.Organization.FeatureSet != types.OrganizationFeatureSetAll {
			t.Errorf("organization = %+v, %v", org, err)
		}
		approve, err := e.orgs(mgmt).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
		if err != nil || len(approve.Handshakes) != 1 || approve.Handshakes[0].State != types.HandshakeStateAccepted {
			t.Errorf("final approval = %+v, %v", approve, err)
		}
	})

	t.Run("canceling the request cancels its steps", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		const mgmt, a = "313000000001", "313000000002"
		billingOrg(t, e, mgmt, a)
		out, err := e.orgs(mgmt).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
		if err != nil {
			t.Fatal(err)
		}
		step := pendingFor(t, e, a, types.ActionTypeEnableAllFeatures)
		if _, err := e.orgs(mgmt).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: out.Handshake.Id}); err != nil {
			t.Fatal(err)
		}
		if got := describeHandshake(t, e, a, aws.ToString(step.Id)); got.State != types.HandshakeStateCanceled {
			t.Errorf("member's step = %s, want CANCELED", got.State)
		}
		_, err = e.orgs(a).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: step.Id})
		expectError[*types.InvalidHandshakeTransitionException](t, err)
		invite(t, e, mgmt, byID("313000000003"), "")
	})

	t.Run("the request expires after 90 days", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		const mgmt, a = "314000000001", "314000000002"
		billingOrg(t, e, mgmt, a)
		out, err := e.orgs(mgmt).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(90 * 24 * time.Hour)
		if got := describeHandshake(t, e, mgmt, aws.ToString(out.Handshake.Id)); got.State != types.HandshakeStateExpired {
			t.Errorf("request after 90 days = %s", got.State)
		}
		invite(t, e, mgmt, byID("314000000003"), "")
		if _, err := e.orgs(mgmt).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{}); err != nil {
			t.Errorf("a new request after expiry: %v", err)
		}
	})
}

// A standalone account may look for invitations before any organization exists.
func TestListHandshakesForAccountOnAFreshServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out, err := e.orgs("315000000001").ListHandshakesForAccount(context.Background(), &organizations.ListHandshakesForAccountInput{})
	if err != nil || len(out.Handshakes) != 0 || out.NextToken != nil {
		t.Fatalf("ListHandshakesForAccount = %+v, %v", out, err)
	}
}

// A member that leaves while its approval is pending no longer holds the
// change up, and its handshakes go with it.
func TestEnableAllFeaturesWhenAMemberLeaves(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, a, b = "316000000001", "316000000002", "316000000003"
	if _, err := e.orgs(mgmt).CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{a, b} {
		h := invite(t, e, mgmt, byID(m), "")
		if _, err := e.orgs(m).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
			t.Fatal(err)
		}
	}
	req, err := e.orgs(mgmt).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := e.orgs(a).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{Filter: &types.HandshakeFilter{ActionType: types.ActionTypeEnableAllFeatures}})
	if err != nil || len(mine.Handshakes) != 1 {
		t.Fatalf("a's approvals = %+v, %v", mine, err)
	}
	if _, err := e.orgs(a).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: mine.Handshakes[0].Id}); err != nil {
		t.Fatal(err)
	}
	if got := describeHandshake(t, e, mgmt, aws.ToString(req.Handshake.Id)); got.State != types.HandshakeStateRequested {
		t.Fatalf("request with b pending = %s", got.State)
	}
	if _, err := e.orgs(b).LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{}); err != nil {
		t.Fatalf("LeaveOrganization: %v", err)
	}
	left, err := e.orgs(b).ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
	if err != nil || len(left.Handshakes) != 0 {
		t.Errorf("handshakes of the departed account = %v, %v", handshakeIDs(left.Handshakes), err)
	}
	if got := describeHandshake(t, e, mgmt, aws.ToString(req.Handshake.Id)); got.State != types.HandshakeStateOpen {
		t.Errorf("request after the last pending member left = %s, want OPEN", got.State)
	}
	if _, err := e.orgs(mgmt).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: req.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	org, err := e.orgs(a).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || org.Organization.FeatureSet != types.OrganizationFeatureSetAll {
		t.Errorf("organization = %+v, %v", org, err)
	}
}

func TestAcceptHandshakeConstraints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt1, mgmt2, both = "317000000001", "317000000002", "317000000003"
	newOrgWithMembers(t, e, mgmt1)
	newOrgWithMembers(t, e, mgmt2)

	// Invited by two organizations, an account joins one, then declines
	// the other.
	first := invite(t, e, mgmt1, byID(both), "")
	second := invite(t, e, mgmt2, byID(both), "")
	if _, err := e.orgs(both).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: first.Id}); err != nil {
		t.Fatal(err)
	}
	_, err := e.orgs(both).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: first.Id})
	expectError[*types.HandshakeAlreadyInStateException](t, err)
	if _, err := e.orgs(both).DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: second.Id}); err != nil {
		t.Errorf("declining the other invitation: %v", err)
	}

	// An account without a payment method cannot join.
	id, _, _ := e.registerAccount(t, `{"accountId":"317000000004","email":"nopay@example.com","standalone":false}`)
	h := invite(t, e, mgmt1, byID(id), "")
	_, err = e.orgs(id).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id})
	expectReason[*types.HandshakeConstraintViolationException](t, err, "PAYMENT_INSTRUMENT_REQUIRED")
	if status, m := e.adminDo(t, "POST", "/_orgstack/accounts/"+id+"/standalone", `{"paymentMethod":true}`); status != http.StatusOK {
		t.Fatalf("standalone = %d %v", status, m)
	}
	if _, err := e.orgs(id).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
		t.Errorf("AcceptHandshake with a payment method: %v", err)
	}

	// Lowering the account quota below the members refuses acceptance.
	const late = "317000000005"
	lateInvite := invite(t, e, mgmt1, byID(late), "")
	setQuotas(t, e, `{"accountsPerOrganization": 3}`)
	_, err = e.orgs(late).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: lateInvite.Id})
	expectReason[*types.HandshakeConstraintViolationException](t, err, "ACCOUNT_NUMBER_LIMIT_EXCEEDED")
}

// The organization's delegation policy can open the tree, OU and tag
// operations to a member, resource by resource.
func TestDelegationPolicyOpensStructureOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, member, other = "318000000001", "318000000002", "318000000003"
	f := newOrgWithMembers(t, e, mgmt, member, other)
	granted := aws.ToString(createOU(t, e, mgmt, f.RootID, "Granted").Id)
	closed := aws.ToString(createOU(t, e, mgmt, f.RootID, "Closed").Id)
	arn := "arn:aws:organizations::" + mgmt + ":"
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + member + `"},
	  "Action":["organizations:TagResource","organizations:UntagResource","organizations:ListTagsForResource","organizations:DescribeOrganizationalUnit","organizations:ListChildren"],
	  "Resource":["` + arn + `ou/` + f.ID + `/` + granted + `","` + arn + `account/` + f.ID + `/` + other + `"]},
	 {"Effect":"Allow","Principal":{"AWS":"` + member + `"},"Action":["organizations:ListRoots","organizations:ListHandshakesForOrganization"],"Resource":"*"}]}`
	if _, err := e.orgs(mgmt).PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(doc)}); err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}
	m := e.orgs(member)
	tags := []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	for _, id := range []string{granted, other} {
		if _, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: tags}); err != nil {
			t.Errorf("granted TagResource(%s): %v", id, err)
		}
		if out, err := m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)}); err != nil || len(out.Tags) != 1 {
			t.Errorf("granted ListTagsForResource(%s) = %+v, %v", id, out, err)
		}
		if _, err := m.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(id), TagKeys: []string{"k"}}); err != nil {
			t.Errorf("granted UntagResource(%s): %v", id, err)
		}
	}
	if _, err := m.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(granted)}); err != nil {
		t.Errorf("granted DescribeOrganizationalUnit: %v", err)
	}
	if _, err := m.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(granted), ChildType: types.ChildTypeAccount}); err != nil {
		t.Errorf("granted ListChildren: %v", err)
	}
	if _, err := m.ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Errorf("granted ListRoots: %v", err)
	}
	if _, err := m.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{}); err != nil {
		t.Errorf("granted ListHandshakesForOrganization: %v", err)
	}
	// Outside the grant's resources and actions, the member is refused.
	_, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(closed), Tags: tags})
	expectError[*types.AccessDeniedException](t, err)
	_, err = m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(f.RootID), Tags: tags})
	expectError[*types.AccessDeniedException](t, err)
	_, err = m.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(closed)})
	expectError[*types.AccessDeniedException](t, err)
	_, err = m.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(f.RootID), ChildType: types.ChildTypeAccount})
	expectError[*types.AccessDeniedException](t, err)
	_, err = m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(granted), Name: aws.String("x")})
	expectError[*types.AccessDeniedException](t, err)
	_, err = e.orgs(other).TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(granted), Tags: tags})
	expectError[*types.AccessDeniedException](t, err)
}

// Policies, the delegation policy and responsibility transfers are taggable
// too; an OU's deletion detaches its policies.
func TestTagsOnPoliciesAndOUPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt = "319000000001"
	f := newOrgWithMembers(t, e, mgmt)
	m := e.orgs(mgmt)
	p, err := m.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("deny-s3"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Policy.PolicySummary.Id
	rp, err := m.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"319000000002"},"Action":"organizations:DescribeOrganizationalUnit","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []*string{pid, rp.ResourcePolicy.ResourcePolicySummary.Id} {
		if _, err := m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: id, Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("sec")}}}); err != nil {
			t.Errorf("TagResource(%s): %v", aws.ToString(id), err)
		}
		out, err := m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: id})
		if err != nil || len(out.Tags) != 1 {
			t.Errorf("ListTagsForResource(%s) = %+v, %v", aws.ToString(id), out, err)
		}
	}
	_, err = m.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String("p-FullAWSAccess"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	expectError[*types.TargetNotFoundException](t, err)
	for _, id := range []string{"rp-zzzz", "rt-zzzzzzzz"} {
		_, err = m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
		expectError[*types.TargetNotFoundException](t, err)
	}

	u := createOU(t, e, mgmt, f.RootID, "WithPolicy")
	if _, err := m.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: pid, TargetId: u.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: u.Id}); err != nil {
		t.Fatal(err)
	}
	targets, err := m.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: pid})
	if err != nil || len(targets.Targets) != 0 {
		t.Errorf("targets of the policy after its OU was deleted = %+v, %v", targets, err)
	}
	if _, err := m.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: pid}); err != nil {
		t.Errorf("DeletePolicy once its only target is gone: %v", err)
	}
	_, err = m.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: pid})
	expectError[*types.TargetNotFoundException](t, err)
}

// The AWS CLI drives the structure operations, paginating on its own.
func TestAWSCLIStructure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const mgmt, invitee = "320000000001", "320000000002"
	run := func(account string, args ...string) map[string]any {
		t.Helper()
		out, err := e.aws(t, account, args...)
		if err != nil {
			t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
		}
		var m map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("aws %s: %q is not JSON", strings.Join(args, " "), out)
			}
		}
		return m
	}
	run(mgmt, "organizations", "create-organization")
	rootID := run(mgmt, "organizations", "list-roots")["Roots"].([]any)[0].(map[string]any)["Id"].(string)
	for i := range 3 {
		run(mgmt, "organizations", "create-organizational-unit", "--parent-id", rootID, "--name", fmt.Sprintf("team-%d", i))
	}
	// --page-size 1 makes the CLI follow NextTokens through every page.
	children := run(mgmt, "organizations", "list-children", "--parent-id", rootID, "--child-type", "ORGANIZATIONAL_UNIT", "--page-size", "1")["Children"].([]any)
	if len(children) != 3 {
		t.Errorf("list-children = %v", children)
	}
	ous := run(mgmt, "organizations", "list-organizational-units-for-parent", "--parent-id", rootID, "--page-size", "2")["OrganizationalUnits"].([]any)
	if len(ous) != 3 {
		t.Errorf("list-organizational-units-for-parent = %v", ous)
	}
	h := run(mgmt, "organizations", "invite-account-to-organization", "--target", "Id="+invitee+",Type=ACCOUNT", "--notes", "welcome")["Handshake"].(map[string]any)
	if h["State"] != "OPEN" || h["Action"] != "INVITE" {
		t.Errorf("handshake = %v", h)
	}
	accepted := run(invitee, "organizations", "accept-handshake", "--handshake-id", h["Id"].(string))["Handshake"].(map[string]any)
	if accepted["State"] != "ACCEPTED" {
		t.Errorf("accepted = %v", accepted)
	}
	parents := run(mgmt, "organizations", "list-parents", "--child-id", invitee)["Parents"].([]any)
	if len(parents) != 1 || parents[0].(map[string]any)["Id"] != rootID {
		t.Errorf("list-parents = %v", parents)
	}
	run(mgmt, "organizations", "tag-resource", "--resource-id", invitee, "--tags", "Key=team,Value=data", "Key=env,Value=")
	tags := run(mgmt, "organizations", "list-tags-for-resource", "--resource-id", invitee)["Tags"].([]any)
	if len(tags) != 2 {
		t.Errorf("list-tags-for-resource = %v", tags)
	}
	run(mgmt, "organizations", "untag-resource", "--resource-id", invitee, "--tag-keys", "team")
	if hs := run(mgmt, "organizations", "list-handshakes-for-organization")["Handshakes"].([]any); len(hs) != 1 {
		t.Errorf("list-handshakes-for-organization = %v", hs)
	}
	_, err := e.aws(t, invitee, "organizations", "decline-handshake", "--handshake-id", h["Id"].(string))
	if err == nil || !strings.Contains(err.Error(), "InvalidHandshakeTransitionException") {
		t.Errorf("decline-handshake after acceptance: %v", err)
	}
}

// Sweeping long-closed invitations leaves a transfer's handshake alone:
// an accepted transfer keeps its status.
func TestInvitationSweepKeepsTransfers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.Clock.Set(time.Date(2026, 5, 10, 9, 30, 0, 0, time.UTC))
	const manager, source = "321000000001", "321000000002"
	newOrgWithMembers(t, e, manager)
	newOrgWithMembers(t, e, source)
	out, err := e.orgs(manager).InviteOrganizationToTransferResponsibility(ctx, &organizations.InviteOrganizationToTransferResponsibilityInput{
		Type: types.ResponsibilityTransferTypeBilling, Target: ptrParty(byID(source)),
		StartTimestamp: aws.Time(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)), SourceName: aws.String("billing"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rtID, _ := resource(out.Handshake, types.HandshakeResourceTypeResponsibilityTransfer)
	if _, err := e.orgs(source).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: out.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	declined := invite(t, e, manager, byID("321000000003"), "")
	if _, err := e.orgs("321000000003").DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: declined.Id}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(40 * 24 * time.Hour)
	invite(t, e, manager, byID("321000000004"), "") // sweeps what closed 30+ days ago
	tr, err := e.orgs(manager).DescribeResponsibilityTransfer(ctx, &organizations.DescribeResponsibilityTransferInput{Id: aws.String(rtID)})
	if err != nil || tr.ResponsibilityTransfer.Status != types.ResponsibilityTransferStatusAccepted {
		t.Errorf("transfer after the sweep = %+v, %v", tr, err)
	}
	_, err = e.orgs(manager).DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: declined.Id})
	expectError[*types.HandshakeNotFoundException](t, err)
}

// A member of another organization accepts an invitation and moves
// directly, as AWS's direct transfers between organizations do: the rules
// of leaving apply except standalone information, and the old
// organization loses the account with its tags and handshakes.
func TestDirectTransferBetweenOrganizations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const oldMgmt, newMgmt, invited = "322000000001", "322000000002", "322000000003"
	newOrgWithMembers(t, e, oldMgmt)
	newOrg := newOrgWithMembers(t, e, newMgmt)
	h := invite(t, e, oldMgmt, byID(invited), "")
	if _, err := e.orgs(invited).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.orgs(oldMgmt).TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(invited), Tags: []types.Tag{{Key: aws.String("old"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	created := e.createAccount(t, oldMgmt, "created-322@example.com")

	// A delegated administrator must be deregistered first.
	makeDelegate(t, e, oldMgmt, invited)
	move := invite(t, e, newMgmt, byID(invited), "")
	_, err := e.orgs(invited).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: move.Id})
	expectReason[*types.ConstraintViolationException](t, err, "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG")
	if _, err := e.orgs(oldMgmt).DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{
		AccountId: aws.String(invited), ServicePrincipal: aws.String(coPrincipal),
	}); err != nil {
		t.Fatal(err)
	}
	acc, err := e.orgs(invited).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: move.Id})
	if err != nil || acc.Handshake.State != types.HandshakeStateAccepted {
		t.Fatalf("AcceptHandshake from a member of another organization = %+v, %v", acc, err)
	}
	got, err := e.orgs(invited).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || aws.ToString(got.Organization.Id) != newOrg.ID {
		t.Errorf("organization after the transfer = %+v, %v", got, err)
	}
	_, err = e.orgs(oldMgmt).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(invited)})
	expectError[*types.AccountNotFoundException](t, err)
	if tags, err := e.orgs(newMgmt).ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(invited)}); err != nil || len(tags.Tags) != 0 {
		t.Errorf("tags carried over from the old organization: %+v, %v", tags, err)
	}
	if old, err := e.orgs(oldMgmt).ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{}); err != nil || len(old.Handshakes) != 0 {
		t.Errorf("the old organization keeps handshakes of the departed account: %v, %v", handshakeIDs(old.Handshakes), err)
	}
	parents, err := e.orgs(newMgmt).ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(invited)})
	if err != nil || aws.ToString(parents.Parents[0].Id) != newOrg.RootID {
		t.Errorf("parent in the new organization = %+v, %v", parents, err)
	}

	// A created account waits four days, but needs no standalone information.
	moveCreated := invite(t, e, newMgmt, byID(created), "")
	_, err = e.orgs(created).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: moveCreated.Id})
	expectReason[*types.ConstraintViolationException](t, err, "WAIT_PERIOD_ACTIVE")
	e.Clock.Advance(4 * 24 * time.Hour)
	if _, err := e.orgs(created).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: moveCreated.Id}); err != nil {
		t.Errorf("a created account without standalone information moves directly: %v", err)
	}
}
