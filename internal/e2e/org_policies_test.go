package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgstack/orgstack/internal/store"
)

// Tests of policies: types, documents, attachments, effective policies
// and the delegation (resource) policy.

const (
	denyS3    = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyS3","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	allowEC2  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`
	rootTagA  = `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["Development","Support"]}}}}`
	fullSCPID = "p-FullAWSAccess"
	fullRCPID = "p-RCPFullAWSAccess"
)

// policyOrg is an organization with all features and its root.
type policyOrg struct {
	ID, RootID, Mgmt string
}

func newPolicyOrg(t *testing.T, e *env, mgmt string) policyOrg {
	t.Helper()
	ctx := context.Background()
	out, err := e.orgs(mgmt).CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	roots, err := e.orgs(mgmt).ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots: %v", err)
	}
	return policyOrg{ID: aws.ToString(out.Organization.Id), RootID: aws.ToString(roots.Roots[0].Id), Mgmt: mgmt}
}

func createPolicy(t *testing.T, e *env, caller, name string, typ types.PolicyType, content string) *types.PolicySummary {
	t.Helper()
	out, err := e.orgs(caller).CreatePolicy(context.Background(), &organizations.CreatePolicyInput{
		Name: aws.String(name), Description: aws.String("test " + name), Type: typ, Content: aws.String(content),
	})
	if err != nil {
		t.Fatalf("CreatePolicy %s: %v", name, err)
	}
	return out.Policy.PolicySummary
}

func enableType(t *testing.T, e *env, o policyOrg, typ types.PolicyType) {
	t.Helper()
	if _, err := e.orgs(o.Mgmt).EnablePolicyType(context.Background(), &organizations.EnablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: typ}); err != nil {
		t.Fatalf("EnablePolicyType %s: %v", typ, err)
	}
}

func attach(t *testing.T, e *env, caller, policyID, target string) {
	t.Helper()
	if _, err := e.orgs(caller).AttachPolicy(context.Background(), &organizations.AttachPolicyInput{PolicyId: aws.String(policyID), TargetId: aws.String(target)}); err != nil {
		t.Fatalf("AttachPolicy %s to %s: %v", policyID, target, err)
	}
}

// attachedIDs lists, page by page, the ids of a target's policies of a type.
func attachedIDs(t *testing.T, e *env, caller, target string, typ types.PolicyType) []string {
	t.Helper()
	var ids []string
	p := organizations.NewListPoliciesForTargetPaginator(e.orgs(caller), &organizations.ListPoliciesForTargetInput{
		TargetId: aws.String(target), Filter: typ, MaxResults: aws.Int32(1),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListPoliciesForTarget %s: %v", target, err)
		}
		for _, s := range page.Policies {
			ids = append(ids, aws.ToString(s.Id))
		}
	}
	return ids
}

func rootTypes(t *testing.T, e *env, o policyOrg) map[types.PolicyType]types.PolicyTypeStatus {
	t.Helper()
	roots, err := e.orgs(o.Mgmt).ListRoots(context.Background(), &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[types.PolicyType]types.PolicyTypeStatus{}
	for _, pt := range roots.Roots[0].PolicyTypes {
		out[pt.Type] = pt.Status
	}
	return out
}

func TestPolicyTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	member := e.createAccount(t, o.Mgmt, "types-member@example.com")
	mgmt := e.orgs(o.Mgmt)

	// All features: SCPs start enabled, with FullAWSAccess on the root and
	// on every account.
	if got := rootTypes(t, e, o); !reflect.DeepEqual(got, map[types.PolicyType]types.PolicyTypeStatus{types.PolicyTypeServiceControlPolicy: types.PolicyTypeStatusEnabled}) {
		t.Fatalf("root policy types = %v", got)
	}
	for _, target := range []string{o.RootID, o.Mgmt, member} {
		if got := attachedIDs(t, e, o.Mgmt, target, types.PolicyTypeServiceControlPolicy); !reflect.DeepEqual(got, []string{fullSCPID}) {
			t.Errorf("SCPs of %s = %v, want FullAWSAccess", target, got)
		}
	}

	t.Run("enable a management type, and again", func(t *testing.T) {
		out, err := mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeTagPolicy})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, pt := range out.Root.PolicyTypes {
			found = found || (pt.Type == types.PolicyTypeTagPolicy && pt.Status == types.PolicyTypeStatusEnabled)
		}
		if !found {
			t.Errorf("EnablePolicyType answered root %+v without TAG_POLICY enabled", out.Root.PolicyTypes)
		}
		_, err = mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeTagPolicy})
		expectError[*types.PolicyTypeAlreadyEnabledException](t, err)
		d, err := mgmt.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Organization.AvailablePolicyTypes) != 2 {
			t.Errorf("DescribeOrganization policy types = %+v", d.Organization.AvailablePolicyTypes)
		}
	})
	t.Run("RCPs attach RCPFullAWSAccess everywhere", func(t *testing.T) {
		enableType(t, e, o, types.PolicyTypeResourceControlPolicy)
		for _, target := range []string{o.RootID, o.Mgmt, member} {
			if got := attachedIDs(t, e, o.Mgmt, target, types.PolicyTypeResourceControlPolicy); !reflect.DeepEqual(got, []string{fullRCPID}) {
				t.Errorf("RCPs of %s = %v", target, got)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, err := mgmt.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeBackupPolicy})
		expectError[*types.PolicyTypeNotEnabledException](t, err)
		_, err = mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("r-zzzz"), PolicyType: types.PolicyTypeBackupPolicy})
		expectError[*types.RootNotFoundException](t, err)
		_, err = mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: "NOT_A_TYPE"})
		expectReason[*types.InvalidInputException](t, err, "INVALID_ENUM_POLICY_TYPE")
		_, err = e.orgs(member).EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeBackupPolicy})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs("999999999999").EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeBackupPolicy})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		// Security Hub policies need the service's trusted access first.
		_, err = mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeSecurityhubPolicy})
		expectReason[*types.ConstraintViolationException](t, err, "SERVICE_ACCESS_NOT_ENABLED")
		if _, err := mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("securityhub.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		enableType(t, e, o, types.PolicyTypeSecurityhubPolicy)
		// ...and keep it while the type is enabled.
		_, err = mgmt.DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String("securityhub.amazonaws.com")})
		expectReason[*types.ConstraintViolationException](t, err, "POLICY_TYPE_ENABLED_FOR_THIS_SERVICE")
	})
	t.Run("disabling detaches every policy of the type", func(t *testing.T) {
		p := createPolicy(t, e, o.Mgmt, "deny-s3", types.PolicyTypeServiceControlPolicy, denyS3)
		attach(t, e, o.Mgmt, aws.ToString(p.Id), member)
		if _, err := mgmt.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeServiceControlPolicy}); err != nil {
			t.Fatal(err)
		}
		if _, ok := rootTypes(t, e, o)[types.PolicyTypeServiceControlPolicy]; ok {
			t.Error("SCPs still listed after DisablePolicyType")
		}
		for _, target := range []string{o.RootID, member} {
			if got := attachedIDs(t, e, o.Mgmt, target, types.PolicyTypeServiceControlPolicy); len(got) != 0 {
				t.Errorf("SCPs of %s after disabling = %v", target, got)
			}
		}
		targets, err := mgmt.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: p.Id})
		if err != nil || len(targets.Targets) != 0 {
			t.Errorf("ListTargetsForPolicy after disabling = %v, %v", targets, err)
		}
		// Enabling again puts FullAWSAccess back everywhere, and only it.
		enableType(t, e, o, types.PolicyTypeServiceControlPolicy)
		if got := attachedIDs(t, e, o.Mgmt, member, types.PolicyTypeServiceControlPolicy); !reflect.DeepEqual(got, []string{fullSCPID}) {
			t.Errorf("SCPs of %s after re-enabling = %v", member, got)
		}
	})
}

func TestPolicyTypesNeedAllFeatures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mgmt := e.orgs(mgmtAccount)
	if _, err := mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling}); err != nil {
		t.Fatal(err)
	}
	roots, err := mgmt.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots.Roots[0].PolicyTypes) != 0 {
		t.Errorf("a consolidated-billing root lists policy types %+v", roots.Roots[0].PolicyTypes)
	}
	_, err = mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: roots.Roots[0].Id, PolicyType: types.PolicyTypeServiceControlPolicy})
	expectReason[*types.ConstraintViolationException](t, err, "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")
	_, err = mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("x"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyS3)})
	expectError[*types.PolicyTypeNotAvailableForOrganizationException](t, err)
}

func TestPolicyDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	mgmt := e.orgs(o.Mgmt)
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("A", 10240) + `","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	tests := []struct {
		name    string
		typ     types.PolicyType
		content string
		check   func(t *testing.T, err error)
	}{
		{"SCP", types.PolicyTypeServiceControlPolicy, denyS3, nil},
		{"RCP", types.PolicyTypeResourceControlPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}`, nil},
		{"tag policy", types.PolicyTypeTagPolicy, rootTagA, nil},
		{"backup policy", types.PolicyTypeBackupPolicy, `{"plans":{"daily":{"regions":{"@@append":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"}}}}}}`, nil},
		{"AI opt-out policy", types.PolicyTypeAiservicesOptOutPolicy, `{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}`, nil},
		{"declarative policy", types.PolicyTypeDeclarativePolicyEc2, `{"ec2_attributes":{"image_block_public_access":{"state":{"@@assign":"block_new_sharing"}}}}`, nil},
		{"SCP that is not JSON", types.PolicyTypeServiceControlPolicy, `{"Statement":`, func(t *testing.T, err error) { expectError[*types.MalformedPolicyDocumentException](t, err) }},
		{"SCP with a Principal", types.PolicyTypeServiceControlPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, func(t *testing.T, err error) { expectError[*types.MalformedPolicyDocumentException](t, err) }},
		{"RCP that allows", types.PolicyTypeResourceControlPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, func(t *testing.T, err error) { expectError[*types.MalformedPolicyDocumentException](t, err) }},
		{"tag policy with a bare value", types.PolicyTypeTagPolicy, `{"tags":{"costcenter":{"tag_key":"CostCenter"}}}`, func(t *testing.T, err error) { expectError[*types.MalformedPolicyDocumentException](t, err) }},
		{"backup policy under the wrong element", types.PolicyTypeBackupPolicy, `{"tags":{}}`, func(t *testing.T, err error) { expectError[*types.MalformedPolicyDocumentException](t, err) }},
		{"SCP over 10,240 characters", types.PolicyTypeServiceControlPolicy, big, func(t *testing.T, err error) {
			expectReason[*types.ConstraintViolationException](t, err, "POLICY_CONTENT_LIMIT_EXCEEDED")
		}},
		{"AI opt-out policy over 2,500 characters", types.PolicyTypeAiservicesOptOutPolicy, `{"services":{"` + strings.Repeat("x", 2500) + `":{"opt_out_policy":{"@@assign":"optOut"}}}}`, func(t *testing.T, err error) {
			expectReason[*types.ConstraintViolationException](t, err, "POLICY_CONTENT_LIMIT_EXCEEDED")
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{
				Name: aws.String(fmt.Sprintf("p%d", i)), Description: aws.String(tt.name), Type: tt.typ, Content: aws.String(tt.content),
			})
			if tt.check != nil {
				tt.check(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := out.Policy.PolicySummary
			checkPattern(t, "policy id", aws.ToString(s.Id), `^p-[0-9a-zA-Z_]{8,128}$`)
			checkPattern(t, "policy arn", aws.ToString(s.Arn), `^arn:aws:organizations::\d{12}:policy/o-[a-z0-9]{10,32}/[0-9a-z_]+/p-[0-9a-z]{10,32}$`)
			if s.AwsManaged || s.Type != tt.typ || aws.ToString(out.Policy.Content) != tt.content {
				t.Errorf("policy = %+v", s)
			}
		})
	}
}

func TestPolicyLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	member := e.createAccount(t, o.Mgmt, "life-member@example.com")
	mgmt := e.orgs(o.Mgmt)
	p, err := mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("deny-s3"), Description: aws.String("no S3"), Type: types.PolicyTypeServiceControlPolicy,
		Content: aws.String(denyS3), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("sec")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := p.Policy.PolicySummary.Id

	t.Run("describe", func(t *testing.T) {
		d, err := mgmt.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: id})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(d.Policy.Content) != denyS3 || aws.ToString(d.Policy.PolicySummary.Name) != "deny-s3" {
			t.Errorf("DescribePolicy = %+v", d.Policy.PolicySummary)
		}
		f, err := mgmt.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(fullSCPID)})
		if err != nil {
			t.Fatal(err)
		}
		if !f.Policy.PolicySummary.AwsManaged || aws.ToString(f.Policy.PolicySummary.Arn) != "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess" {
			t.Errorf("FullAWSAccess = %+v", f.Policy.PolicySummary)
		}
		_, err = mgmt.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-0000000000")})
		expectError[*types.PolicyNotFoundException](t, err)
		_, err = mgmt.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("xp-0000000000")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_SYNTAX_POLICY_ID")
		_, err = e.orgs(member).DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: id})
		expectError[*types.AccessDeniedException](t, err)
	})
	t.Run("a delegated administrator may read policies", func(t *testing.T) {
		if _, err := mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		if _, err := mgmt.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(member), ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.orgs(member).DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: id}); err != nil {
			t.Errorf("DescribePolicy by a delegated administrator: %v", err)
		}
		if _, err := e.orgs(member).ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy}); err != nil {
			t.Errorf("ListPolicies by a delegated administrator: %v", err)
		}
		_, err := e.orgs(member).UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: id, Name: aws.String("x")})
		expectError[*types.AccessDeniedException](t, err)
		if _, err := mgmt.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(member), ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("names are unique per type", func(t *testing.T) {
		_, err := mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("deny-s3"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(allowEC2)})
		expectError[*types.DuplicatePolicyException](t, err)
		_, err = mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("FullAWSAccess"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(allowEC2)})
		expectError[*types.DuplicatePolicyException](t, err)
		createPolicy(t, e, o.Mgmt, "deny-s3", types.PolicyTypeTagPolicy, rootTagA)
	})
	t.Run("bad tags refuse the policy", func(t *testing.T) {
		_, err := mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("tagged"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy,
			Content: aws.String(allowEC2), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}})
		expectReason[*types.InvalidInputException](t, err, "INVALID_SYSTEM_TAGS_PARAMETER")
	})
	t.Run("update", func(t *testing.T) {
		u, err := mgmt.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: id, Name: aws.String("deny-s3-v2"), Content: aws.String(allowEC2)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(u.Policy.PolicySummary.Name) != "deny-s3-v2" || aws.ToString(u.Policy.Content) != allowEC2 || aws.ToString(u.Policy.PolicySummary.Description) != "no S3" {
			t.Errorf("UpdatePolicy = %+v %s", u.Policy.PolicySummary, aws.ToString(u.Policy.Content))
		}
		_, err = mgmt.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: id, Content: aws.String(`{"Statement":[]}`)})
		expectError[*types.MalformedPolicyDocumentException](t, err)
		_, err = mgmt.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(fullSCPID), Name: aws.String("mine")})
		expectReason[*types.InvalidInputException](t, err, "IMMUTABLE_POLICY")
		_, err = mgmt.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String("p-0000000000"), Name: aws.String("x")})
		expectError[*types.PolicyNotFoundException](t, err)
	})
	t.Run("list, page by page", func(t *testing.T) {
		var ids []string
		pg := organizations.NewListPoliciesPaginator(mgmt, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy, MaxResults: aws.Int32(1)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.Policies {
				ids = append(ids, aws.ToString(s.Id))
			}
		}
		// Pages come in id order; ids are random, so compare as sets.
		want := sorted(fullSCPID, aws.ToString(id))
		if !sort.StringsAreSorted(ids) {
			t.Errorf("ListPolicies out of id order: %v", ids)
		}
		if !reflect.DeepEqual(ids, want) {
			t.Errorf("ListPolicies = %v, want %v", ids, want)
		}
		_, err := mgmt.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy, NextToken: aws.String("bogus")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_NEXT_TOKEN")
	})
	t.Run("delete", func(t *testing.T) {
		attach(t, e, o.Mgmt, aws.ToString(id), member)
		_, err := mgmt.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: id})
		expectError[*types.PolicyInUseException](t, err)
		if _, err := mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: id, TargetId: aws.String(member)}); err != nil {
			t.Fatal(err)
		}
		_, err = mgmt.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(fullSCPID)})
		expectReason[*types.InvalidInputException](t, err, "IMMUTABLE_POLICY")
		if _, err := mgmt.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: id}); err != nil {
			t.Fatal(err)
		}
		_, err = mgmt.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: id})
		expectError[*types.PolicyNotFoundException](t, err)
		// Its tags went with it.
		err = e.Store.Read(ctx, func(tx store.Tx) error {
			n, err := tx.Count("org.tags", aws.ToString(id)+"/")
			if err == nil && n != 0 {
				t.Errorf("%d tags left on a deleted policy", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("policy count quota", func(t *testing.T) {
		e.setQuotas(t, `{"policiesPerOrganization":{"BACKUP_POLICY":1}}`)
		createPolicy(t, e, o.Mgmt, "b1", types.PolicyTypeBackupPolicy, `{"plans":{}}`)
		_, err := mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("b2"), Description: aws.String(""), Type: types.PolicyTypeBackupPolicy, Content: aws.String(`{"plans":{}}`)})
		expectReason[*types.ConstraintViolationException](t, err, "POLICY_NUMBER_LIMIT_EXCEEDED")
	})
}

func TestAttachAndDetach(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	mgmt := e.orgs(o.Mgmt)
	member := e.createAccount(t, o.Mgmt, "attach-member@example.com")
	ou := aws.ToString(createOU(t, e, o.Mgmt, o.RootID, "Workloads").Id)
	deny := aws.ToString(createPolicy(t, e, o.Mgmt, "deny-s3", types.PolicyTypeServiceControlPolicy, denyS3).Id)
	tag := aws.ToString(createPolicy(t, e, o.Mgmt, "tags", types.PolicyTypeTagPolicy, rootTagA).Id)

	if got := attachedIDs(t, e, o.Mgmt, ou, types.PolicyTypeServiceControlPolicy); !reflect.DeepEqual(got, []string{fullSCPID}) {
		t.Fatalf("a new OU's SCPs = %v, want FullAWSAccess", got)
	}
	attach(t, e, o.Mgmt, deny, ou)
	if got := attachedIDs(t, e, o.Mgmt, ou, types.PolicyTypeServiceControlPolicy); !reflect.DeepEqual(got, sorted(fullSCPID, deny)) {
		t.Errorf("SCPs of the OU = %v", got)
	}
	attach(t, e, o.Mgmt, deny, member)

	t.Run("targets of a policy", func(t *testing.T) {
		out, err := mgmt.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(deny)})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]types.TargetType{}
		for _, tg := range out.Targets {
			got[aws.ToString(tg.TargetId)] = tg.Type
			if aws.ToString(tg.Arn) == "" || aws.ToString(tg.Name) == "" {
				t.Errorf("target %+v lacks its ARN or name", tg)
			}
		}
		want := map[string]types.TargetType{ou: types.TargetTypeOrganizationalUnit, member: types.TargetTypeAccount}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ListTargetsForPolicy = %v, want %v", got, want)
		}
		page, err := mgmt.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(fullSCPID), MaxResults: aws.Int32(2)})
		if err != nil || len(page.Targets) != 2 || page.NextToken == nil {
			t.Errorf("first page of FullAWSAccess targets = %v, %v", page, err)
		}
		_, err = mgmt.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-0000000000")})
		expectError[*types.PolicyNotFoundException](t, err)
	})
	t.Run("attach errors", func(t *testing.T) {
		_, err := mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(ou)})
		expectError[*types.DuplicatePolicyAttachmentException](t, err)
		_, err = mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(tag), TargetId: aws.String(ou)})
		expectError[*types.PolicyTypeNotEnabledException](t, err)
		_, err = mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String("ou-zzzz-zzzzzzzz")})
		expectError[*types.TargetNotFoundException](t, err)
		_, err = mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String("222222222222")})
		expectError[*types.TargetNotFoundException](t, err)
		_, err = mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String("x123456789012")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_PATTERN_TARGET_ID")
		_, err = mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-0000000000"), TargetId: aws.String(ou)})
		expectError[*types.PolicyNotFoundException](t, err)
		_, err = e.orgs(member).AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(o.RootID)})
		expectError[*types.AccessDeniedException](t, err)
	})
	t.Run("attachment limit", func(t *testing.T) {
		e.setQuotas(t, `{"policiesPerTarget":{"SERVICE_CONTROL_POLICY":2}}`)
		extra := aws.ToString(createPolicy(t, e, o.Mgmt, "allow-ec2", types.PolicyTypeServiceControlPolicy, allowEC2).Id)
		_, err := mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(extra), TargetId: aws.String(ou)})
		expectReason[*types.ConstraintViolationException](t, err, "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
		attach(t, e, o.Mgmt, extra, o.RootID)
	})
	t.Run("detach", func(t *testing.T) {
		_, err := mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(o.RootID)})
		expectError[*types.PolicyNotAttachedException](t, err)
		if _, err := mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(fullSCPID), TargetId: aws.String(ou)}); err != nil {
			t.Fatal(err)
		}
		// The deny policy is now the OU's only SCP: it stays.
		_, err = mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(ou)})
		expectReason[*types.ConstraintViolationException](t, err, "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
		if got := attachedIDs(t, e, o.Mgmt, ou, types.PolicyTypeServiceControlPolicy); !reflect.DeepEqual(got, []string{deny}) {
			t.Errorf("SCPs of the OU = %v", got)
		}
		_, err = e.orgs(member).DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(member)})
		expectError[*types.AccessDeniedException](t, err)
	})
	t.Run("deleting an OU detaches its policies", func(t *testing.T) {
		gone := aws.ToString(createOU(t, e, o.Mgmt, o.RootID, "Doomed").Id)
		attach(t, e, o.Mgmt, deny, gone)
		if _, err := mgmt.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(gone)}); err != nil {
			t.Fatal(err)
		}
		out, err := mgmt.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(deny)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range out.Targets {
			if aws.ToString(tg.TargetId) == gone {
				t.Errorf("the deleted OU %s is still a target", gone)
			}
		}
	})
	t.Run("RCPFullAWSAccess cannot be detached", func(t *testing.T) {
		enableType(t, e, o, types.PolicyTypeResourceControlPolicy)
		_, err := mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(fullRCPID), TargetId: aws.String(ou)})
		expectReason[*types.InvalidInputException](t, err, "NON_DETACHABLE_POLICY")
		_, err = mgmt.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(fullRCPID), Name: aws.String("x")})
		expectReason[*types.InvalidInputException](t, err, "IMMUTABLE_POLICY")
	})
	t.Run("list errors", func(t *testing.T) {
		_, err := mgmt.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String("ou-zzzz-zzzzzzzz"), Filter: types.PolicyTypeServiceControlPolicy})
		expectError[*types.TargetNotFoundException](t, err)
		_, err = e.orgs(member).ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(member), Filter: types.PolicyTypeServiceControlPolicy})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs("999999999999").ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(member), Filter: types.PolicyTypeServiceControlPolicy})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
	})
}

// The worked tag-policy examples of the user guide (FACTS §5), through
// the API: a policy at the root, at two nested OUs and on the account.
func TestDescribeEffectivePolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Clock.Set(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	mgmt := e.orgs(o.Mgmt)
	ou1 := aws.ToString(createOU(t, e, o.Mgmt, o.RootID, "OU1").Id)
	ou2 := aws.ToString(createOU(t, e, o.Mgmt, ou1, "OU2").Id)
	acct := e.createAccount(t, o.Mgmt, "effective@example.com")
	other := e.createAccount(t, o.Mgmt, "other@example.com")
	if _, err := mgmt.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(acct), SourceParentId: aws.String(o.RootID), DestinationParentId: aws.String(ou2)}); err != nil {
		t.Fatal(err)
	}
	describe := func(caller string, target *string) (*types.EffectivePolicy, error) {
		out, err := e.orgs(caller).DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: target})
		if err != nil {
			return nil, err
		}
		return out.EffectivePolicy, nil
	}
	_, err := describe(o.Mgmt, aws.String(acct))
	expectError[*types.EffectivePolicyNotFoundException](t, err)

	enableType(t, e, o, types.PolicyTypeTagPolicy)
	a := createPolicy(t, e, o.Mgmt, "A", types.PolicyTypeTagPolicy, rootTagA)
	attach(t, e, o.Mgmt, aws.ToString(a.Id), o.RootID)
	b := createPolicy(t, e, o.Mgmt, "C", types.PolicyTypeTagPolicy, `{"tags":{"costcenter":{"tag_value":{"@@append":["Marketing"]},"enforced_for":{"@@append":["redshift:*","dynamodb:table"]}}}}`)
	attach(t, e, o.Mgmt, aws.ToString(b.Id), ou1)
	e.Clock.Advance(time.Hour)
	d := createPolicy(t, e, o.Mgmt, "D", types.PolicyTypeTagPolicy, `{"tags":{"costcenter":{"tag_value":{"@@remove":["Development","Marketing"]},"enforced_for":{"@@remove":["redshift:*","dynamodb:table"]}}}}`)
	attach(t, e, o.Mgmt, aws.ToString(d.Id), acct)

	steps := []struct {
		name, want string
	}{
		{"example 3: root assigns, OU appends, the account removes", `{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["Support"]}}}`},
	}
	for _, s := range steps {
		got, err := describe(o.Mgmt, aws.String(acct))
		if err != nil {
			t.Fatal(err)
		}
		assertJSON(t, s.name, aws.ToString(got.PolicyContent), s.want)
		if aws.ToString(got.TargetId) != acct || got.PolicyType != types.EffectivePolicyTypeTagPolicy || !aws.ToTime(got.LastUpdatedTimestamp).Equal(e.Clock.Now()) {
			t.Errorf("effective policy = %+v (clock %v)", got, e.Clock.Now())
		}
	}
	// Detaching D changes the effective policy, and when it changed.
	e.Clock.Advance(time.Hour)
	if _, err := mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: d.Id, TargetId: aws.String(acct)}); err != nil {
		t.Fatal(err)
	}
	got, err := describe(o.Mgmt, aws.String(acct))
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "after detaching D", aws.ToString(got.PolicyContent), `{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["Development","Support","Marketing"],"enforced_for":["redshift:*","dynamodb:table"]}}}`)
	if !aws.ToTime(got.LastUpdatedTimestamp).Equal(e.Clock.Now()) {
		t.Errorf("LastUpdatedTimestamp after a detachment = %v, want %v", got.LastUpdatedTimestamp, e.Clock.Now())
	}
	// Example 2: an account under OU1's policy only (moved to OU1).
	if _, err := mgmt.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(other), SourceParentId: aws.String(o.RootID), DestinationParentId: aws.String(ou1)}); err != nil {
		t.Fatal(err)
	}
	got, err = describe(other, nil) // a member asks for its own
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "example 2", aws.ToString(got.PolicyContent), `{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["Development","Support","Marketing"],"enforced_for":["redshift:*","dynamodb:table"]}}}`)

	t.Run("example 6: on one node the first attached policy wins", func(t *testing.T) {
		ou3 := aws.ToString(createOU(t, e, o.Mgmt, o.RootID, "OU3").Id)
		third := e.createAccount(t, o.Mgmt, "order@example.com")
		if _, err := mgmt.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(third), SourceParentId: aws.String(o.RootID), DestinationParentId: aws.String(ou3)}); err != nil {
			t.Fatal(err)
		}
		j := aws.ToString(createPolicy(t, e, o.Mgmt, "J", types.PolicyTypeTagPolicy, `{"tags":{"project":{"tag_key":{"@@assign":"PROJECT"}}}}`).Id)
		k := aws.ToString(createPolicy(t, e, o.Mgmt, "K", types.PolicyTypeTagPolicy, `{"tags":{"project":{"tag_key":{"@@assign":"project"}}}}`).Id)
		key := func() string {
			t.Helper()
			got, err := describe(o.Mgmt, aws.String(third))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Tags map[string]struct {
					TagKey string `json:"tag_key"`
				} `json:"tags"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(got.PolicyContent)), &doc); err != nil {
				t.Fatal(err)
			}
			return doc.Tags["project"].TagKey
		}
		attach(t, e, o.Mgmt, j, ou3)
		attach(t, e, o.Mgmt, k, ou3)
		if got := key(); got != "PROJECT" {
			t.Errorf("J then K: tag_key = %q, want PROJECT", got)
		}
		// Attaching J again puts it after K.
		if _, err := mgmt.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(j), TargetId: aws.String(ou3)}); err != nil {
			t.Fatal(err)
		}
		attach(t, e, o.Mgmt, j, ou3)
		if got := key(); got != "project" {
			t.Errorf("K then J: tag_key = %q, want project", got)
		}
	})
	t.Run("callers and targets", func(t *testing.T) {
		_, err := describe(other, aws.String(acct))
		expectError[*types.AccessDeniedException](t, err)
		if _, err := describe(other, aws.String(other)); err != nil {
			t.Errorf("a member naming itself: %v", err)
		}
		_, err = describe(o.Mgmt, aws.String(ou1))
		expectReason[*types.InvalidInputException](t, err, "TARGET_NOT_SUPPORTED")
		_, err = describe(o.Mgmt, aws.String(o.RootID))
		expectReason[*types.InvalidInputException](t, err, "TARGET_NOT_SUPPORTED")
		_, err = describe(o.Mgmt, aws.String("333333333333"))
		expectError[*types.TargetNotFoundException](t, err)
		_, err = describe("999999999999", nil)
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		_, err = e.orgs(o.Mgmt).DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyType("SERVICE_CONTROL_POLICY")})
		expectReason[*types.InvalidInputException](t, err, "INVALID_ENUM_POLICY_TYPE")
		_, err = e.orgs(o.Mgmt).DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeBackupPolicy})
		expectError[*types.EffectivePolicyNotFoundException](t, err)
		// A delegated administrator of any service may read any account's.
		if _, err := mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		if _, err := mgmt.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(other), ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		if _, err := describe(other, aws.String(acct)); err != nil {
			t.Errorf("a delegated administrator reading another account's: %v", err)
		}
	})
}

func assertJSON(t *testing.T, name, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: effective policy %q is not JSON: %v", name, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", name, got, want)
	}
}

func TestInvalidEffectivePolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	mgmt := e.orgs(o.Mgmt)
	good := e.createAccount(t, o.Mgmt, "good@example.com")
	bad := e.createAccount(t, o.Mgmt, "bad@example.com")

	_, err := mgmt.ListAccountsWithInvalidEffectivePolicy(ctx, &organizations.ListAccountsWithInvalidEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy})
	expectError[*types.EffectivePolicyNotFoundException](t, err)

	enableType(t, e, o, types.PolicyTypeTagPolicy)
	root := createPolicy(t, e, o.Mgmt, "root", types.PolicyTypeTagPolicy, rootTagA)
	attach(t, e, o.Mgmt, aws.ToString(root.Id), o.RootID)
	// On one account, a policy spells the key differently from its policy key.
	wrong := createPolicy(t, e, o.Mgmt, "wrong", types.PolicyTypeTagPolicy, `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCentre"}}}}`)
	attach(t, e, o.Mgmt, aws.ToString(wrong.Id), bad)

	out, err := mgmt.ListAccountsWithInvalidEffectivePolicy(ctx, &organizations.ListAccountsWithInvalidEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accounts) != 1 || aws.ToString(out.Accounts[0].Id) != bad || out.PolicyType != types.EffectivePolicyTypeTagPolicy {
		t.Fatalf("ListAccountsWithInvalidEffectivePolicy = %+v", out.Accounts)
	}
	errs, err := mgmt.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String(bad), PolicyType: types.EffectivePolicyTypeTagPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if len(errs.EffectivePolicyValidationErrors) != 1 {
		t.Fatalf("errors = %+v", errs.EffectivePolicyValidationErrors)
	}
	v := errs.EffectivePolicyValidationErrors[0]
	contributors := append([]string(nil), v.ContributingPolicies...)
	sort.Strings(contributors)
	want := []string{aws.ToString(root.Id), aws.ToString(wrong.Id)}
	sort.Strings(want)
	if aws.ToString(v.ErrorCode) != "TAG_KEY_MISMATCH" || aws.ToString(v.PathToError) != "tags.costcenter.tag_key" || !reflect.DeepEqual(contributors, want) {
		t.Errorf("validation error = %+v", v)
	}
	checkPattern(t, "path", aws.ToString(errs.Path), `^o-[a-z0-9]{10,32}/r-[0-9a-z]{4,32}/\d{12}/$`)
	if errs.EvaluationTimestamp == nil || aws.ToString(errs.AccountId) != bad {
		t.Errorf("response = %+v", errs)
	}
	good0, err := mgmt.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String(good), PolicyType: types.EffectivePolicyTypeTagPolicy})
	if err != nil || len(good0.EffectivePolicyValidationErrors) != 0 {
		t.Errorf("errors of a valid account = %+v, %v", good0, err)
	}
	_, err = mgmt.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String("333333333333"), PolicyType: types.EffectivePolicyTypeTagPolicy})
	expectError[*types.AccountNotFoundException](t, err)
	_, err = mgmt.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String(bad), PolicyType: types.EffectivePolicyTypeBackupPolicy})
	expectError[*types.EffectivePolicyNotFoundException](t, err)
	_, err = e.orgs(good).ListAccountsWithInvalidEffectivePolicy(ctx, &organizations.ListAccountsWithInvalidEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy})
	expectError[*types.AccessDeniedException](t, err)
	_, err = e.orgs(good).ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String(bad), PolicyType: types.EffectivePolicyTypeTagPolicy})
	expectError[*types.AccessDeniedException](t, err)

	// Fixing the policy makes the account valid again.
	if _, err := mgmt.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: wrong.Id, Content: aws.String(`{"tags":{"costcenter":{"tag_key":{"@@assign":"COSTCENTER"}}}}`)}); err != nil {
		t.Fatal(err)
	}
	out, err = mgmt.ListAccountsWithInvalidEffectivePolicy(ctx, &organizations.ListAccountsWithInvalidEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy})
	if err != nil || len(out.Accounts) != 0 {
		t.Errorf("after the fix: %+v, %v", out, err)
	}
}

func TestResourcePolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	mgmt := e.orgs(o.Mgmt)
	delegate := e.createAccount(t, o.Mgmt, "delegate@example.com")
	ou := aws.ToString(createOU(t, e, o.Mgmt, o.RootID, "Delegated").Id)
	child := aws.ToString(createOU(t, e, o.Mgmt, ou, "Child").Id)
	enableType(t, e, o, types.PolicyTypeTagPolicy)

	_, err := mgmt.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	expectError[*types.ResourcePolicyNotFoundException](t, err)
	_, err = mgmt.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{})
	expectError[*types.ResourcePolicyNotFoundException](t, err)

	mgmtARN := "arn:aws:organizations::" + o.Mgmt + ":"
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"ManageTagPolicies","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + delegate + `:root"},
	  "Action":["organizations:CreatePolicy","organizations:DescribePolicy","organizations:UpdatePolicy","organizations:DeletePolicy","organizations:AttachPolicy","organizations:DetachPolicy"],
	  "Resource":["` + mgmtARN + `policy/` + o.ID + `/tag_policy/*","` + mgmtARN + `ou/` + o.ID + `/` + ou + `"],
	  "Condition":{"StringEquals":{"organizations:PolicyType":"TAG_POLICY"}}},
	 {"Sid":"Read","Effect":"Allow","Principal":{"AWS":"` + delegate + `"},"Action":"organizations:List*","Resource":"*"}]}`

	t.Run("refused documents", func(t *testing.T) {
		for _, tt := range []struct{ name, doc, reason string }{
			{"not JSON", `{"Statement":[`, "INVALID_RESOURCE_POLICY_JSON"},
			{"an action that cannot be delegated", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + delegate + `"},"Action":"organizations:CreateAccount","Resource":"*"}}`, "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY"},
			{"a resource of another organization", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + delegate + `"},"Action":"organizations:ListRoots","Resource":"arn:aws:organizations::999999999999:root/o-aaaaaaaaaa/r-aaaa"}}`, "UNSUPPORTED_RESOURCE_IN_RESOURCE_POLICY"},
			{"a service principal", `{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"organizations:ListRoots","Resource":"*"}}`, "INVALID_PRINCIPAL"},
			{"an unknown policy type", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + delegate + `"},"Action":"organizations:CreatePolicy","Resource":"*","Condition":{"StringEquals":{"organizations:PolicyType":"NOPE"}}}}`, "UNSUPPORTED_POLICY_TYPE_IN_RESOURCE_POLICY"},
		} {
			_, err := mgmt.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(tt.doc)})
			expectReason[*types.InvalidInputException](t, err, tt.reason)
		}
		_, err := mgmt.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(strings.Repeat(" ", 40001))})
		expectReason[*types.InvalidInputException](t, err, "MAX_LENGTH_EXCEEDED")
		_, err = e.orgs(delegate).PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(doc)})
		expectError[*types.AccessDeniedException](t, err)
	})

	// Before the policy, the member can do nothing.
	_, err = e.orgs(delegate).CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("t"), Description: aws.String(""), Type: types.PolicyTypeTagPolicy, Content: aws.String(rootTagA)})
	expectError[*types.AccessDeniedException](t, err)

	put, err := mgmt.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(doc), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	checkPattern(t, "resource policy id", aws.ToString(put.ResourcePolicy.ResourcePolicySummary.Id), `^rp-[0-9a-zA-Z_]{4,128}$`)
	checkPattern(t, "resource policy arn", aws.ToString(put.ResourcePolicy.ResourcePolicySummary.Arn), `^arn:aws:organizations::\d{12}:resourcepolicy/o-[a-z0-9]{10,32}/rp-[0-9a-zA-Z_]{4,128}$`)
	d, err := mgmt.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	if err != nil || aws.ToString(d.ResourcePolicy.Content) != doc {
		t.Fatalf("DescribeResourcePolicy = %v, %v", d, err)
	}
	_, err = mgmt.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(doc), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	expectError[*types.InvalidInputException](t, err)

	t.Run("the grant", func(t *testing.T) {
		del := e.orgs(delegate)
		p, err := del.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("delegated"), Description: aws.String(""), Type: types.PolicyTypeTagPolicy, Content: aws.String(rootTagA)})
		if err != nil {
			t.Fatalf("a granted CreatePolicy: %v", err)
		}
		id := p.Policy.PolicySummary.Id
		_, err = del.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("scp"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(denyS3)})
		expectError[*types.AccessDeniedException](t, err)
		if _, err := del.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: aws.String(ou)}); err != nil {
			t.Errorf("AttachPolicy to the granted OU: %v", err)
		}
		// Neither the root nor a child OU of the granted OU.
		_, err = del.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: aws.String(o.RootID)})
		expectError[*types.AccessDeniedException](t, err)
		_, err = del.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: aws.String(child)})
		expectError[*types.AccessDeniedException](t, err)
		if _, err := del.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(ou), Filter: types.PolicyTypeTagPolicy}); err != nil {
			t.Errorf("a granted List*: %v", err)
		}
		_, err = del.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeBackupPolicy})
		expectError[*types.AccessDeniedException](t, err)
		_, err = del.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{})
		expectError[*types.AccessDeniedException](t, err)
		if _, err := del.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: id, TargetId: aws.String(ou)}); err != nil {
			t.Errorf("DetachPolicy from the granted OU: %v", err)
		}
		if _, err := del.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: id}); err != nil {
			t.Errorf("a granted DeletePolicy: %v", err)
		}
	})

	if _, err := mgmt.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = e.orgs(delegate).CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("again"), Description: aws.String(""), Type: types.PolicyTypeTagPolicy, Content: aws.String(rootTagA)})
	expectError[*types.AccessDeniedException](t, err)
	_, err = mgmt.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	expectError[*types.ResourcePolicyNotFoundException](t, err)
}

// Attachments follow membership: an invited account gets the default
// policies when it joins, a departing account loses every attachment, and
// deleting the organization leaves nothing of its policies behind.
func TestPolicyAttachmentsFollowMembership(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	mgmt := e.orgs(o.Mgmt)
	enableType(t, e, o, types.PolicyTypeResourceControlPolicy)
	enableType(t, e, o, types.PolicyTypeTagPolicy)
	// Leaves a detachment record on the root, which deletion must clear.
	if _, err := mgmt.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(o.RootID), PolicyType: types.PolicyTypeResourceControlPolicy}); err != nil {
		t.Fatal(err)
	}
	enableType(t, e, o, types.PolicyTypeResourceControlPolicy)

	const guest = "444444444444"
	// Open mode makes the account on its first request; it then gets
	// what it needs to accept an invitation.
	_, err := e.orgs(guest).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	expectError[*types.AWSOrganizationsNotInUseException](t, err)
	e.makeStandalone(t, guest)
	h := invite(t, e, o.Mgmt, byID(guest), "")
	if _, err := e.orgs(guest).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
		t.Fatal(err)
	}
	if got := attachedIDs(t, e, o.Mgmt, guest, types.PolicyTypeServiceControlPolicy); !reflect.DeepEqual(got, []string{fullSCPID}) {
		t.Errorf("SCPs of an invited account = %v", got)
	}
	if got := attachedIDs(t, e, o.Mgmt, guest, types.PolicyTypeResourceControlPolicy); !reflect.DeepEqual(got, []string{fullRCPID}) {
		t.Errorf("RCPs of an invited account = %v", got)
	}
	deny := aws.ToString(createPolicy(t, e, o.Mgmt, "deny-s3", types.PolicyTypeServiceControlPolicy, denyS3).Id)
	tags := aws.ToString(createPolicy(t, e, o.Mgmt, "tags", types.PolicyTypeTagPolicy, rootTagA).Id)
	attach(t, e, o.Mgmt, deny, guest)
	attach(t, e, o.Mgmt, tags, guest)

	if _, err := e.orgs(guest).LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{deny, tags, fullSCPID} {
		out, err := mgmt.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(p)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range out.Targets {
			if aws.ToString(tg.TargetId) == guest {
				t.Errorf("%s is still attached to the departed account", p)
			}
		}
	}

	// Deleting the organization: an open transfer holds it up first.
	newPolicyOrg(t, e, "555555555555")
	target := byID("555555555555")
	ho, err := mgmt.InviteOrganizationToTransferResponsibility(ctx, &organizations.InviteOrganizationToTransferResponsibilityInput{
		Type: types.ResponsibilityTransferTypeBilling, Target: &target, SourceName: aws.String("x"),
		StartTimestamp: aws.Time(firstOfNextMonth(e.Clock.Now())),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgmt.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"organizations:ListRoots","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = mgmt.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	expectReason[*types.ConstraintViolationException](t, err, "ACTIVE_RESPONSIBILITY_TRANSFER_PROCESS")
	if _, err := mgmt.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: ho.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := mgmt.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	err = e.Store.Read(ctx, func(tx store.Tx) error {
		for _, b := range []struct{ bucket, prefix string }{
			{"org.policies", o.ID + "/"}, {"org.policies-by-type", o.ID + "/"}, {"org.policy-targets", o.ID + "/"},
			{"org.attachments", o.RootID + "/"}, {"org.attachments", o.Mgmt + "/"}, {"org.resource-policies", o.ID},
			{"org.tags", deny + "/"}, {"org.detached", o.RootID + "/"}, {"org.detached", o.Mgmt + "/"},
		} {
			n, err := tx.Count(b.bucket, b.prefix)
			if err != nil {
				return err
			}
			if n != 0 {
				t.Errorf("%d keys left in %s under %q", n, b.bucket, b.prefix)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A new organization of the same account starts clean.
	o2 := newPolicyOrg(t, e, o.Mgmt)
	out, err := mgmt.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	if err != nil || len(out.Policies) != 1 || aws.ToString(out.Policies[0].Id) != fullSCPID {
		t.Errorf("policies of a new organization = %+v, %v", out, err)
	}
	if got := attachedIDs(t, e, o2.Mgmt, o2.RootID, types.PolicyTypeServiceControlPolicy); !reflect.DeepEqual(got, []string{fullSCPID}) {
		t.Errorf("SCPs of the new root = %v", got)
	}
}

func firstOfNextMonth(now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

// sorted returns ids in the order the List operations page them.
func sorted(ids ...string) []string {
	sort.Strings(ids)
	return ids
}
