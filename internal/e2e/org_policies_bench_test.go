package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// BenchmarkDescribeEffectivePolicy measures DescribeEffectivePolicy through
// the AWS SDK for Go for an account five OUs deep, with a tag policy at the
// root, at each of the five OUs and on the account (seven levels merged per
// call):
//
//	go test ./internal/e2e -run '^$' -bench DescribeEffectivePolicy -cpu 2
func BenchmarkDescribeEffectivePolicy(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	mgmt := e.orgs(mgmtAccount)
	if _, err := mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		b.Fatal(err)
	}
	roots, err := mgmt.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		b.Fatal(err)
	}
	rootID := aws.ToString(roots.Roots[0].Id)
	if _, err := mgmt.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeTagPolicy}); err != nil {
		b.Fatal(err)
	}
	acct := e.createAccount(b, mgmtAccount, "deep@example.com")
	targets := []string{rootID}
	parent := rootID
	for i := 1; i <= 5; i++ {
		ou, err := mgmt.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(fmt.Sprintf("level-%d", i))})
		if err != nil {
			b.Fatal(err)
		}
		parent = aws.ToString(ou.OrganizationalUnit.Id)
		targets = append(targets, parent)
	}
	if _, err := mgmt.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(acct), SourceParentId: aws.String(rootID), DestinationParentId: aws.String(parent)}); err != nil {
		b.Fatal(err)
	}
	targets = append(targets, acct)
	for i, target := range targets {
		content := fmt.Sprintf(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@append":["level-%d"]}},"team%d":{"tag_key":{"@@assign":"Team%d"},"enforced_for":{"@@assign":["ec2:instance"]}}}}`, i, i, i)
		p, err := mgmt.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(fmt.Sprintf("level-%d", i)), Description: aws.String(""), Type: types.PolicyTypeTagPolicy, Content: aws.String(content)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mgmt.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.Policy.PolicySummary.Id, TargetId: aws.String(target)}); err != nil {
			b.Fatal(err)
		}
	}
	in := &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String(acct)}
	out, err := mgmt.DescribeEffectivePolicy(ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("effective policy: %s", aws.ToString(out.EffectivePolicy.PolicyContent))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mgmt.DescribeEffectivePolicy(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
