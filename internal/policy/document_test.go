package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidateIAM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		flavor IAMFlavor
		doc    string
		ok     bool
	}{
		{"FullAWSAccess", SCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true},
		{"deny with condition", SCP, `{"Version":"2012-10-17","Statement":{"Sid":"DenyRegions","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}}`, true},
		{"set operator and IfExists", SCP, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"ForAnyValue:StringNotLikeIfExists":{"aws:TagKeys":"cost*"}}}}`, true},
		{"IfExists", SCP, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringNotEqualsIfExists":{"ec2:InstanceType":"t3.micro"},"Bool":{"aws:SecureTransport":false}}}}`, true},
		{"SCP without Version", SCP, `{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}`, true},
		{"not JSON", SCP, `{"Statement":`, false},
		{"not an object", SCP, `["Allow"]`, false},
		{"trailing content", SCP, `{"Statement":{"Effect":"Deny","Action":"s3:*"}} {}`, false},
		{"duplicate key", SCP, `{"Statement":{"Effect":"Deny","Effect":"Allow","Action":"s3:*"}}`, false},
		{"no statement", SCP, `{"Version":"2012-10-17"}`, false},
		{"empty statement list", SCP, `{"Version":"2012-10-17","Statement":[]}`, false},
		{"bad effect", SCP, `{"Statement":{"Effect":"Maybe","Action":"s3:*"}}`, false},
		{"no action", SCP, `{"Statement":{"Effect":"Deny","Resource":"*"}}`, false},
		{"action and notaction", SCP, `{"Statement":{"Effect":"Deny","Action":"s3:*","NotAction":"iam:*"}}`, false},
		{"bad action", SCP, `{"Statement":{"Effect":"Deny","Action":"delete everything"}}`, false},
		{"principal in an SCP", SCP, `{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*"}}`, false},
		{"unknown element", SCP, `{"Statement":{"Effect":"Deny","Action":"s3:*","Priority":1}}`, false},
		{"bad version", SCP, `{"Version":"2020-01-01","Statement":{"Effect":"Deny","Action":"s3:*"}}`, false},
		{"unknown condition operator", SCP, `{"Statement":{"Effect":"Deny","Action":"s3:*","Condition":{"StringSortOf":{"a":"b"}}}}`, false},
		{"duplicate Sid", SCP, `{"Statement":[{"Sid":"A","Effect":"Deny","Action":"s3:*"},{"Sid":"A","Effect":"Deny","Action":"ec2:*"}]}`, false},
		{"bad resource", SCP, `{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"my-bucket"}}`, false},

		{"RCP", RCP, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}}`, true},
		{"RCP allow", RCP, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, false},
		{"RCP without principal", RCP, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}`, false},
		{"RCP named principal", RCP, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*"}}`, false},
		{"RCP NotAction", RCP, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","NotAction":"s3:*","Resource":"*"}}`, false},
		{"RCP without version", RCP, `{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}`, false},
		{"RCP without resource", RCP, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateIAM(tt.doc, tt.flavor)
			if tt.ok && err != nil {
				t.Fatalf("refused a valid document: %v", err)
			}
			if !tt.ok {
				var de *DocumentError
				if !errors.As(err, &de) {
					t.Fatalf("accepted a malformed document (err = %v)", err)
				}
			}
		})
	}
}

func TestValidateManagement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ, doc string
		ok             bool
	}{
		{"tag policy", "TAG_POLICY", `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["100","200"]},"enforced_for":{"@@assign":["secretsmanager:*"]}}}}`, true},
		{"child control", "TAG_POLICY", `{"tags":{"costcenter":{"tag_key":{"@@operators_allowed_for_child_policies":["@@none"],"@@assign":"CostCenter"}}}}`, true},
		{"backup", "BACKUP_POLICY", `{"plans":{"PII":{"regions":{"@@append":["us-east-1"]},"rules":{"Hourly":{"schedule_expression":{"@@assign":"cron(0 5/1 ? * * *)"}}}}}}`, true},
		{"ai opt-out", "AISERVICES_OPT_OUT_POLICY", `{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}`, true},
		{"unknown new type gets generic checks", "INSPECTOR_POLICY", `{"inspector":{"enablement":{"ec2_scanning":{"enable_in_regions":{"@@assign":["us-east-1"]}}}}}`, true},
		{"wrong root element", "TAG_POLICY", `{"plans":{}}`, false},
		{"plain value without operator", "TAG_POLICY", `{"tags":{"costcenter":{"tag_key":"CostCenter"}}}`, false},
		{"append needs a list", "TAG_POLICY", `{"tags":{"costcenter":{"tag_value":{"@@append":"x"}}}}`, false},
		{"unknown operator", "TAG_POLICY", `{"tags":{"costcenter":{"tag_value":{"@@replace":["x"]}}}}`, false},
		{"@@none with others", "TAG_POLICY", `{"tags":{"costcenter":{"tag_value":{"@@operators_allowed_for_child_policies":["@@none","@@append"],"@@assign":["x"]}}}}`, false},
		{"not an operator in child control", "TAG_POLICY", `{"tags":{"@@operators_allowed_for_child_policies":["everything"]}}`, false},
		{"not JSON", "TAG_POLICY", `{"tags"`, false},
		{"empty", "TAG_POLICY", `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateManagement(tt.typ, tt.doc)
			if tt.ok && err != nil {
				t.Fatalf("refused a valid document: %v", err)
			}
			var de *DocumentError
			if !tt.ok && !errors.As(err, &de) {
				t.Fatalf("accepted a malformed document (err = %v)", err)
			}
		})
	}
}

func TestSizeCountsCharacters(t *testing.T) {
	t.Parallel()
	if got := Size(`{"a":"é"}`); got != 9 {
		t.Errorf("Size = %d, want 9 characters", got)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	f.Add(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		// Never panic; any refusal is a DocumentError.
		for _, err := range []error{ValidateIAM(doc, SCP), ValidateIAM(doc, RCP), ValidateManagement("TAG_POLICY", doc)} {
			var de *DocumentError
			if err != nil && !errors.As(err, &de) {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
		if ValidateManagement("TAG_POLICY", doc) == nil {
			if _, err := Effective([]Level{{[]byte(doc)}}); err != nil {
				t.Fatalf("a valid document does not compute: %v", err)
			}
		}
		// Valid stays valid however it is written: the same document
		// re-encoded (other spacing, key order, escapes) passes too.
		checks := map[string]func(string) error{
			"SCP":        func(d string) error { return ValidateIAM(d, SCP) },
			"RCP":        func(d string) error { return ValidateIAM(d, RCP) },
			"TAG_POLICY": func(d string) error { return ValidateManagement("TAG_POLICY", d) },
		}
		for name, check := range checks {
			if check(doc) != nil {
				continue
			}
			again := reencode(t, doc)
			if err := check(again); err != nil {
				t.Fatalf("%s %q is valid, re-encoded as %q it is not: %v", name, doc, again, err)
			}
		}
	})
}

// reencode decodes a JSON document and writes it again with encoding/json,
// numbers kept as written.
func reencode(t *testing.T, doc string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("a valid document does not decode: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	return string(b)
}
