package policy

import (
	"errors"
	"testing"
)

const mgmtPrefix = "arn:aws:organizations::111111111111:"

var allTypes = []string{"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY"}

func TestValidateDelegation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want DelegationProblem
		ok   bool
	}{
		{"the user guide's shape: an account granted policy management", `{"Version":"2012-10-17","Statement":[{"Sid":"Delegate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["organizations:DescribePolicy","organizations:CreatePolicy","organizations:AttachPolicy"],"Resource":"*","Condition":{"StringEquals":{"organizations:PolicyType":"TAG_POLICY"}}}]}`, 0, true},
		{"account id principal and a wildcard that matches delegatable actions", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"organizations:Describe*","Resource":"arn:aws:organizations::111111111111:policy/o-abcdefghij/*"}}`, 0, true},
		{"explicit deny", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"organizations:DeletePolicy","Resource":"*"}}`, 0, true},
		{"not JSON", `{"Statement":`, InvalidJSON, false},
		{"duplicate key", `{"Statement":[],"Statement":[]}`, InvalidJSON, false},
		{"bad effect", `{"Statement":{"Effect":"Maybe","Principal":"*","Action":"organizations:ListRoots","Resource":"*"}}`, InvalidJSON, false},
		{"action outside the 33", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"organizations:CreateAccount","Resource":"*"}}`, UnsupportedAction, false},
		{"another service's action", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`, UnsupportedAction, false},
		{"wildcard matching no delegatable action", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"organizations:Close*","Resource":"*"}}`, UnsupportedAction, false},
		{"NotAction", `{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"organizations:ListRoots","Resource":"*"}}`, UnsupportedAction, false},
		{"a resource of another management account", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"organizations:ListRoots","Resource":"arn:aws:organizations::999999999999:root/o-x/r-x"}}`, UnsupportedResource, false},
		{"NotResource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"organizations:ListRoots","NotResource":"*"}}`, UnsupportedResource, false},
		{"service principal", `{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"organizations:ListRoots","Resource":"*"}}`, InvalidPrincipal, false},
		{"malformed account principal", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"organizations:ListRoots","Resource":"*"}}`, InvalidPrincipal, false},
		{"missing principal", `{"Statement":{"Effect":"Allow","Action":"organizations:ListRoots","Resource":"*"}}`, InvalidPrincipal, false},
		{"unknown policy type in the condition", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"organizations:CreatePolicy","Resource":"*","Condition":{"StringEquals":{"organizations:PolicyType":"FOO_POLICY"}}}}`, UnsupportedPolicyType, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateDelegation(tt.doc, mgmtPrefix, allTypes)
			if tt.ok {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var de *DelegationError
			if !errors.As(err, &de) {
				t.Fatalf("want a DelegationError, got %v", err)
			}
			if de.Problem != tt.want {
				t.Fatalf("problem = %d, want %d (%v)", de.Problem, tt.want, err)
			}
		})
	}
}

func TestEvaluateDelegation(t *testing.T) {
	t.Parallel()
	const policyARN = "arn:aws:organizations::111111111111:policy/o-abcdefghij/tag_policy/p-abcdefghij"
	const ouARN = "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefghij"
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["organizations:AttachPolicy","organizations:Describe*"],
	  "Resource":["arn:aws:organizations::111111111111:policy/o-abcdefghij/tag_policy/*","` + ouARN + `"],
	  "Condition":{"StringEquals":{"organizations:PolicyType":"TAG_POLICY"}}},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:role/Admin"},"Action":"organizations:ListRoots","Resource":"*"},
	 {"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"organizations:DescribePolicy","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"*:user/intern"}}}
	]}`
	tag := map[string]string{"organizations:PolicyType": "TAG_POLICY"}
	tests := []struct {
		name string
		req  Request
		want Decision
	}{
		{"allowed action, resource and policy type", Request{"organizations:AttachPolicy", "222222222222", "arn:aws:iam::222222222222:user/ops", policyARN, tag}, Allowed},
		{"action names are case-insensitive", Request{"organizations:attachpolicy", "222222222222", "arn:aws:iam::222222222222:root", ouARN, tag}, Allowed},
		{"wildcard action", Request{"organizations:DescribePolicy", "222222222222", "arn:aws:iam::222222222222:root", policyARN, tag}, Allowed},
		{"another policy type fails the condition", Request{"organizations:AttachPolicy", "222222222222", "arn:aws:iam::222222222222:root", policyARN, map[string]string{"organizations:PolicyType": "BACKUP_POLICY"}}, NoMatch},
		{"no policy type in the request fails StringEquals", Request{"organizations:AttachPolicy", "222222222222", "arn:aws:iam::222222222222:root", policyARN, nil}, NoMatch},
		{"a child OU is not the listed OU", Request{"organizations:AttachPolicy", "222222222222", "arn:aws:iam::222222222222:root", ouARN + "x", tag}, NoMatch},
		{"another account", Request{"organizations:AttachPolicy", "444444444444", "arn:aws:iam::444444444444:root", policyARN, tag}, NoMatch},
		{"action not granted", Request{"organizations:DeletePolicy", "222222222222", "arn:aws:iam::222222222222:root", policyARN, tag}, NoMatch},
		{"role principal matches the role's session", Request{"organizations:ListRoots", "333333333333", "arn:aws:sts::333333333333:assumed-role/Admin/alice", "*", nil}, Allowed},
		{"role principal does not match another role", Request{"organizations:ListRoots", "333333333333", "arn:aws:sts::333333333333:assumed-role/Other/alice", "*", nil}, NoMatch},
		{"explicit deny wins over the allow", Request{"organizations:DescribePolicy", "222222222222", "arn:aws:iam::222222222222:user/intern", policyARN, tag}, Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateDelegation(doc, mgmtPrefix, allTypes); err != nil {
				t.Fatal(err)
			}
			got, err := EvaluateDelegation(doc, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("decision = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestConditionOnMissingKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cond string
		want bool
	}{
		{`{"StringEquals":{"k":"v"}}`, false},
		{`{"StringEqualsIfExists":{"k":"v"}}`, true},
		{`{"StringNotEquals":{"k":"v"}}`, true},
		{`{"Null":{"k":"true"}}`, true},
		{`{"Null":{"k":"false"}}`, false},
	}
	for _, tt := range tests {
		doc := `{"Statement":{"Effect":"Allow","Principal":"*","Action":"organizations:ListRoots","Resource":"*","Condition":` + tt.cond + `}}`
		got, err := EvaluateDelegation(doc, Request{Action: "organizations:ListRoots", PrincipalAccount: "222222222222", Resource: "*"})
		if err != nil {
			t.Fatal(err)
		}
		if (got == Allowed) != tt.want {
			t.Errorf("%s: allowed = %v, want %v", tt.cond, got == Allowed, tt.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		p, s string
		want bool
	}{
		{"*", "anything/with/slashes", true},
		{"arn:*:policy/*", "arn:aws:organizations::1:policy/o-1/tag_policy/p-1", true},
		{"p-??", "p-ab", true},
		{"p-??", "p-abc", false},
		{"abc", "abd", false},
		{"a*c*e", "abcde", true},
		{"a*c*e", "abcd", false},
	} {
		if got := globMatch(tt.p, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}
