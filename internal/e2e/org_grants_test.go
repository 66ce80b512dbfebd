package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// TestDelegationPolicyGrantsAccountReads: a member the delegation policy
// grants account reads may make them, on exactly the resources granted;
// other members stay refused.
func TestDelegationPolicyGrantsAccountReads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o := newPolicyOrg(t, e, mgmtAccount)
	reader := e.createAccount(t, o.Mgmt, "reader@example.com")
	seen := e.createAccount(t, o.Mgmt, "seen@example.com")
	unseen := e.createAccount(t, o.Mgmt, "unseen@example.com")
	bystander := e.createAccount(t, o.Mgmt, "bystander@example.com")

	arn := "arn:aws:organizations::" + o.Mgmt + ":"
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"` + reader + `"},"Action":["organizations:ListAccounts","organizations:ListAccountsForParent","organizations:ListCreateAccountStatus"],"Resource":"*"},
	 {"Effect":"Allow","Principal":{"AWS":"` + reader + `"},"Action":"organizations:DescribeAccount","Resource":"` + arn + `account/` + o.ID + `/` + seen + `"}]}`
	if _, err := e.orgs(o.Mgmt).PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(doc)}); err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}

	r := e.orgs(reader)
	if out, err := r.ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
		t.Errorf("granted ListAccounts: %v", err)
	} else if len(out.Accounts) != 5 {
		t.Errorf("granted ListAccounts listed %d accounts, want 5", len(out.Accounts))
	}
	if _, err := r.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(o.RootID)}); err != nil {
		t.Errorf("granted ListAccountsForParent: %v", err)
	}
	if _, err := r.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{}); err != nil {
		t.Errorf("granted ListCreateAccountStatus: %v", err)
	}
	if out, err := r.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(seen)}); err != nil {
		t.Errorf("granted DescribeAccount: %v", err)
	} else if aws.ToString(out.Account.Id) != seen {
		t.Errorf("DescribeAccount answered account %s, want %s", aws.ToString(out.Account.Id), seen)
	}
	_, err := r.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(unseen)})
	expectError[*types.AccessDeniedException](t, err)

	_, err = e.orgs(bystander).ListAccounts(ctx, &organizations.ListAccountsInput{})
	expectError[*types.AccessDeniedException](t, err)
	_, err = e.orgs(bystander).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(seen)})
	expectError[*types.AccessDeniedException](t, err)
}
