package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestManagementAssumesOrganizationAccountAccessRole is the account
// vending path with real credentials: the management account creates a
// member, assumes the role CreateAccount made in it, and acts as the
// member, until the member leaves the organization.
func TestManagementAssumesOrganizationAccountAccessRole(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	ctx := context.Background()
	mgmt, creds := e.registerSigned(t, "")
	orgs := organizations.NewFromConfig(e.configWith(creds))
	org, err := orgs.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ roleName, want string }{
		{"", "OrganizationAccountAccessRole"},
		{"VendingAdmin", "VendingAdmin"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			in := &organizations.CreateAccountInput{Email: aws.String(tc.want + "@example.com"), AccountName: aws.String(tc.want)}
			if tc.roleName != "" {
				in.RoleName = aws.String(tc.roleName)
			}
			out, err := orgs.CreateAccount(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			e.settle(t)
			st, err := orgs.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
			if err != nil || st.CreateAccountStatus.State != types.CreateAccountStateSucceeded {
				t.Fatalf("creation: %v %v", st, err)
			}
			member := aws.ToString(st.CreateAccountStatus.AccountId)

			session := assumeRole(t, e.stsWith(creds), "arn:aws:iam::"+member+":role/"+tc.want, "vending", 0)
			who, err := e.stsWith(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil || *who.Account != member || *who.Arn != "arn:aws:sts::"+member+":assumed-role/"+tc.want+"/vending" {
				t.Fatalf("session identity: %v %v", who, err)
			}
			asMember := organizations.NewFromConfig(e.configWith(session))
			d, err := asMember.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			if err != nil || *d.Organization.Id != *org.Organization.Id || *d.Organization.MasterAccountId != mgmt {
				t.Fatalf("DescribeOrganization as the member: %v %v", d, err)
			}
			// The session is the member, not the management account.
			_, err = asMember.ListAccounts(ctx, &organizations.ListAccountsInput{})
			expectError[*types.AccessDeniedException](t, err)

			// A new account may leave only after some days; by then the
			// session has ended on the orgstack clock, and a new one is
			// needed. Signatures keep verifying against the real clock.
			if status, b := e.adminAs(t, testAdminToken, "POST", "/_orgstack/clock", `{"advance":"192h"}`); status != 200 {
				t.Fatalf("advance: %d %s", status, b)
			}
			_, err = asMember.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			if code := apiCode(t, err); code != "ExpiredTokenException" {
				t.Fatalf("session after a week: %v", err)
			}
			session = assumeRole(t, e.stsWith(creds), "arn:aws:iam::"+member+":role/"+tc.want, "offboarding", 0)
			asMember = organizations.NewFromConfig(e.configWith(session))
			// Once it has standalone information, the member leaves.
			e.adminAs(t, testAdminToken, "POST", "/_orgstack/accounts/"+member+"/standalone",
				`{"contactInfo":true,"paymentMethod":true,"phoneVerified":true,"eula":true}`)
			if _, err := asMember.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{}); err != nil {
				t.Fatalf("LeaveOrganization as the member: %v", err)
			}
			_, err = asMember.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			expectError[*types.AWSOrganizationsNotInUseException](t, err)
		})
	}

	// Another account's root may not assume the role.
	_, stranger := e.registerSigned(t, "")
	out, err := orgs.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("third@example.com"), AccountName: aws.String("third")})
	if err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	st, _ := orgs.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	_, err = e.stsWith(stranger).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + aws.ToString(st.CreateAccountStatus.AccountId) + ":role/OrganizationAccountAccessRole"),
		RoleSessionName: aws.String("nope"),
	})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Errorf("stranger AssumeRole: %v", err)
	}
}
