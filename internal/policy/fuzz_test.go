package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// Fuzz targets of the policy engine besides FuzzValidate. Seed corpora
// live in testdata/fuzz/<FuzzName>/; run e.g.
//
//	go test -run '^$' -fuzz '^FuzzEffective$' -fuzztime 60s ./internal/policy

// FuzzEffective: any two valid management policies of a type, one on a
// parent and one below it, compute an effective policy, the same each
// time, as a JSON object without inheritance operators, whose validity
// check runs and blames only the policies that made it.
func FuzzEffective(f *testing.F) {
	types := slices.Sorted(maps.Keys(managementRoots))
	f.Add(uint8(slices.Index(types, "TAG_POLICY")), rootTagSeed,
		`{"tags":{"costcenter":{"tag_value":{"@@append":["Sales"]},"enforced_for":{"@@assign":["ec2:instance"]}}}}`)
	f.Add(uint8(slices.Index(types, "BACKUP_POLICY")),
		`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"v"}}},"@@operators_allowed_for_child_policies":["@@append"]}}}`,
		`{"plans":{"p":{"regions":{"@@append":["eu-west-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"w"}}}}}}`)
	f.Add(uint8(slices.Index(types, "AISERVICES_OPT_OUT_POLICY")),
		`{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}`,
		`{"services":{"default":{"opt_out_policy":{"@@assign":"optIn"}},"@@operators_allowed_for_child_policies":["@@none"]}}`)
	f.Add(uint8(slices.Index(types, "DECLARATIVE_POLICY_EC2")),
		`{"ec2_attributes":{"image_block_public_access":{"state":{"@@assign":"block_new_sharing"}}}}`, `{"ec2_attributes":{}}`)
	f.Fuzz(func(t *testing.T, typ uint8, parent, child string) {
		policyType := types[int(typ)%len(types)]
		if ValidateManagement(policyType, parent) != nil || ValidateManagement(policyType, child) != nil {
			return
		}
		levels := []Level{{[]byte(parent)}, {[]byte(child)}}
		eff, err := Effective(levels)
		if err != nil {
			t.Fatalf("valid %s policies do not compute: %v", policyType, err)
		}
		if again, err := Effective(levels); err != nil || !bytes.Equal(eff, again) {
			t.Fatalf("computed twice: %s, then %s (%v)", eff, again, err)
		}
		if eff == nil {
			return
		}
		var doc any
		if err := json.Unmarshal(eff, &doc); err != nil {
			t.Fatalf("effective policy %s is not JSON: %v", eff, err)
		}
		if _, ok := doc.(map[string]any); !ok {
			t.Fatalf("effective policy %s is not an object", eff)
		}
		if op := findOperator(doc); op != "" {
			t.Fatalf("effective policy %s still holds %s", eff, op)
		}
		findings, err := CheckEffective(policyType, eff, []Source{{ID: "p-parent", Doc: []byte(parent)}, {ID: "p-child", Doc: []byte(child)}})
		if err != nil {
			t.Fatalf("checking effective policy %s: %v", eff, err)
		}
		for _, fd := range findings {
			if fd.Code == "" || fd.Message == "" {
				t.Fatalf("finding without code or message: %+v", fd)
			}
			for _, c := range fd.Contributors {
				if c != "p-parent" && c != "p-child" {
					t.Fatalf("finding blames %q: %+v", c, fd)
				}
			}
		}
	})
}

const rootTagSeed = `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["Development","Support"]}}}}`

// findOperator returns the first @@ key in v, or "".
func findOperator(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.HasPrefix(k, operatorsPrefix) {
				return k
			}
			if op := findOperator(x); op != "" {
				return op
			}
		}
	case []any:
		for _, x := range v {
			if op := findOperator(x); op != "" {
				return op
			}
		}
	}
	return ""
}

// FuzzDelegation: a delegation (resource) policy is refused with a
// DelegationError or accepted; an accepted one evaluates any request to
// one of the three decisions without error.
func FuzzDelegation(f *testing.F) {
	const prefix = "arn:aws:organizations::111111111111:"
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"organizations:ListAccounts","Resource":"*"}]}`)
	f.Add(`{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["organizations:Describe*"],` +
		`"Resource":"` + prefix + `account/o-abc/*","Condition":{"StringEquals":{"organizations:PolicyType":"TAG_POLICY"}}}]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"organizations:Leave*","Resource":"arn:aws:organizations::aws:policy/*"}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, doc string) {
		if err := ValidateDelegation(doc, prefix, []string{"SERVICE_CONTROL_POLICY", "TAG_POLICY"}); err != nil {
			var de *DelegationError
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("refused with %T %v", err, err)
			}
			return
		}
		for _, req := range []Request{
			{Action: "organizations:ListAccounts", PrincipalAccount: "222222222222", PrincipalARN: "arn:aws:iam::222222222222:root", Resource: "*"},
			{Action: "organizations:DescribeAccount", PrincipalAccount: "333333333333", PrincipalARN: "arn:aws:iam::333333333333:role/x",
				Resource: prefix + "account/o-abc/333333333333", Context: map[string]string{"organizations:PolicyType": "TAG_POLICY"}},
		} {
			d, err := EvaluateDelegation(doc, req)
			if err != nil || (d != NoMatch && d != Allowed && d != Denied) {
				t.Fatalf("valid policy %s: %v, %v for %+v", doc, d, err, req)
			}
		}
	})
}
