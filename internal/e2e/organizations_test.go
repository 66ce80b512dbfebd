package e2e

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

const (
	mgmtAccount  = "111111111111"
	otherAccount = "222222222222"
)

func TestCreateDescribeDeleteOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mgmt := e.orgs(mgmtAccount)

	created, err := mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	org := created.Organization
	checkPattern(t, "Id", aws.ToString(org.Id), `^o-[a-z0-9]{10,32}$`)
	checkPattern(t, "Arn", aws.ToString(org.Arn), `^arn:aws:organizations::111111111111:organization/o-[a-z0-9]{10,32}$`)
	checkPattern(t, "MasterAccountArn", aws.ToString(org.MasterAccountArn), `^arn:aws:organizations::111111111111:account/o-[a-z0-9]{10,32}/111111111111$`)
	if org.FeatureSet != types.OrganizationFeatureSetAll {
		t.Errorf("FeatureSet = %q, want ALL by default", org.FeatureSet)
	}
	if aws.ToString(org.MasterAccountId) != mgmtAccount || aws.ToString(org.MasterAccountEmail) == "" {
		t.Errorf("management account = %q <%s>", aws.ToString(org.MasterAccountId), aws.ToString(org.MasterAccountEmail))
	}
	if len(org.AvailablePolicyTypes) != 1 || org.AvailablePolicyTypes[0].Type != types.PolicyTypeServiceControlPolicy ||
		org.AvailablePolicyTypes[0].Status != types.PolicyTypeStatusEnabled {
		t.Errorf("AvailablePolicyTypes = %+v, want SCPs enabled", org.AvailablePolicyTypes)
	}

	described, err := mgmt.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatalf("DescribeOrganization: %v", err)
	}
	if aws.ToString(described.Organization.Id) != aws.ToString(org.Id) || aws.ToString(described.Organization.Arn) != aws.ToString(org.Arn) {
		t.Errorf("DescribeOrganization = %+v, want the created organization %+v", described.Organization, org)
	}

	_, err = mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	expectError[*types.AlreadyInOrganizationException](t, err)

	if _, err := mgmt.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
		t.Fatalf("DeleteOrganization: %v", err)
	}
	_, err = mgmt.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	expectError[*types.AWSOrganizationsNotInUseException](t, err)
	_, err = mgmt.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	expectError[*types.AWSOrganizationsNotInUseException](t, err)

	// The account is free again and can found a new organization.
	again, err := mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling})
	if err != nil {
		t.Fatalf("CreateOrganization after delete: %v", err)
	}
	if aws.ToString(again.Organization.Id) == aws.ToString(org.Id) {
		t.Error("a new organization reused the deleted organization's id")
	}
	if again.Organization.FeatureSet != types.OrganizationFeatureSetConsolidatedBilling || len(again.Organization.AvailablePolicyTypes) != 0 {
		t.Errorf("consolidated billing organization = %+v", again.Organization)
	}
}

func TestDescribeOrganizationOutsideAnyOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.orgs(otherAccount).DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
	apiErr := expectError[*types.AWSOrganizationsNotInUseException](t, err)
	if apiErr != nil && apiErr.ErrorMessage() == "" {
		t.Error("the exception has no message")
	}
}

func TestOrganizationsAreSeparatePerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.orgs(mgmtAccount).CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.orgs(otherAccount).CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.Organization.Id) == aws.ToString(b.Organization.Id) {
		t.Fatal("two management accounts share one organization")
	}
}

func TestInvalidInputGetsInvalidInputException(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.orgs(mgmtAccount).CreateOrganization(context.Background(), &organizations.CreateOrganizationInput{FeatureSet: "EVERYTHING"})
	ex := expectError[*types.InvalidInputException](t, err)
	if ex != nil && ex.Reason != types.InvalidInputExceptionReasonInvalidEnum {
		t.Errorf("Reason = %q, want INVALID_ENUM", ex.Reason)
	}
	// Nothing was created.
	_, err = e.orgs(mgmtAccount).DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
	expectError[*types.AWSOrganizationsNotInUseException](t, err)
}

// expectError fails the test unless err is (or wraps) an error of type E,
// and returns it.
func expectError[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Errorf("err = %v, want %T", err, target)
	}
	return target
}

func checkPattern(t *testing.T, name, value, pattern string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(value) {
		t.Errorf("%s = %q, does not match %s", name, value, pattern)
	}
}
