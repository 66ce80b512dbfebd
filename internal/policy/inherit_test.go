package policy

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The cases follow the worked examples of the AWS Organizations user guide
// ("Inheritance examples" for tag policies, and the backup policy syntax
// page), written out as documents attached to the root, OUs and account.
func TestEffectiveFromTheUserGuideExamples(t *testing.T) {
	t.Parallel()
	rootA := `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["Development","Support"]}}}}`
	tests := []struct {
		name   string
		levels []Level
		want   string
	}{
		{
			name: "example 1: a child @@assign replaces an inherited list and adds a setting",
			levels: []Level{
				{[]byte(rootA)},
				{[]byte(`{"tags":{"costcenter":{"tag_value":{"@@assign":["Sandbox"]},"enforced_for":{"@@assign":["redshift:*","dynamodb:table"]}}}}`)},
			},
			want: `{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["Sandbox"],"enforced_for":["redshift:*","dynamodb:table"]}}}`,
		},
		{
			name: "example 2: @@append adds to the inherited list",
			levels: []Level{
				{[]byte(rootA)},
				{[]byte(`{"tags":{"costcenter":{"tag_value":{"@@append":["Marketing"]},"enforced_for":{"@@append":["redshift:*","dynamodb:table"]}}}}`)},
			},
			want: `{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["Development","Support","Marketing"],"enforced_for":["redshift:*","dynamodb:table"]}}}`,
		},
		{
			name: "example 3: @@remove takes values out, and an emptied list disappears",
			levels: []Level{
				{[]byte(rootA)},
				{[]byte(`{"tags":{"costcenter":{"tag_value":{"@@append":["Marketing"]},"enforced_for":{"@@append":["redshift:*","dynamodb:table"]}}}}`)},
				{[]byte(`{"tags":{"costcenter":{"tag_value":{"@@remove":["Development","Marketing"]},"enforced_for":{"@@remove":["redshift:*","dynamodb:table"]}}}}`)},
			},
			want: `{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["Support"]}}}`,
		},
		{
			name: "example 4: child control locks a value and allows only appends",
			levels: []Level{
				{[]byte(`{"tags":{"project":{"tag_key":{"@@operators_allowed_for_child_policies":["@@none"],"@@assign":"Project"},"tag_value":{"@@operators_allowed_for_child_policies":["@@append"],"@@assign":["Maintenance","Escalations"]}}}}`)},
				{[]byte(`{"tags":{"project":{"tag_key":{"@@assign":"PROJECT"},"tag_value":{"@@append":["Escalations - research"]}}}}`)},
			},
			want: `{"tags":{"project":{"tag_key":"Project","tag_value":["Maintenance","Escalations","Escalations - research"]}}}`,
		},
		{
			name: "example 5: restrictions of policies on one node intersect",
			levels: []Level{
				{
					[]byte(`{"tags":{"costcenter":{"tag_value":{"@@operators_allowed_for_child_policies":["@@append"],"@@assign":["A"]}}}}`),
					[]byte(`{"tags":{"costcenter":{"tag_value":{"@@operators_allowed_for_child_policies":["@@append","@@remove"]}}}}`),
				},
				{[]byte(`{"tags":{"costcenter":{"tag_value":{"@@remove":["A"],"@@append":["B"]}}}}`)},
			},
			want: `{"tags":{"costcenter":{"tag_value":["A","B"]}}}`,
		},
		{
			name: "example 6: on one node the first attached policy wins",
			levels: []Level{
				{
					[]byte(`{"tags":{"project":{"tag_key":{"@@assign":"PROJECT"}}}}`),
					[]byte(`{"tags":{"project":{"tag_key":{"@@assign":"project"}}}}`),
				},
			},
			want: `{"tags":{"project":{"tag_key":"PROJECT"}}}`,
		},
		{
			name: "policy keys are case-insensitive and shown in lower case",
			levels: []Level{
				{[]byte(`{"tags":{"CostCenter":{"tag_key":{"@@assign":"CostCenter"}}}}`)},
				{[]byte(`{"tags":{"costcenter":{"tag_value":{"@@assign":["X"]}}}}`)},
			},
			want: `{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["X"]}}}`,
		},
		{
			name: "backup: a child plan joins the parent's plan",
			levels: []Level{
				{[]byte(`{"plans":{"PII_Backup_Plan":{"regions":{"@@append":["us-east-1","eu-west-1"]},"rules":{"Hourly":{"schedule_expression":{"@@assign":"cron(0 5/1 ? * * *)"}}}}}}`)},
				{[]byte(`{"plans":{"Monthly_Backup_Plan":{"regions":{"@@append":["us-east-1"]}}}}`)},
			},
			want: `{"plans":{"pii_backup_plan":{"regions":["us-east-1","eu-west-1"],"rules":{"hourly":{"schedule_expression":"cron(0 5/1 ? * * *)"}}},"monthly_backup_plan":{"regions":["us-east-1"]}}}`,
		},
		{
			name: "backup: @@none at a container blocks added plans",
			levels: []Level{
				{[]byte(`{"plans":{"@@operators_allowed_for_child_policies":["@@none"],"Base":{"regions":{"@@assign":["us-east-1"]}}}}`)},
				{[]byte(`{"plans":{"Extra":{"regions":{"@@assign":["eu-west-1"]}},"Base":{"regions":{"@@append":["eu-west-1"]}}}}`)},
			},
			want: `{"plans":{"base":{"regions":["us-east-1"]}}}`,
		},
		{
			name: "a restriction cannot be lifted further down",
			levels: []Level{
				{[]byte(`{"tags":{"a":{"tag_value":{"@@operators_allowed_for_child_policies":["@@append"],"@@assign":["1"]}}}}`)},
				{[]byte(`{"tags":{"a":{"tag_value":{"@@operators_allowed_for_child_policies":["@@all"],"@@append":["2"]}}}}`)},
				{[]byte(`{"tags":{"a":{"tag_value":{"@@assign":["3"]}}}}`)},
			},
			want: `{"tags":{"a":{"tag_value":["1","2"]}}}`,
		},
		{
			name:   "no policies, no effective policy",
			levels: []Level{{}, {}},
			want:   ``,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Effective(tt.levels)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if got != nil {
					t.Fatalf("got %s, want no effective policy", got)
				}
				return
			}
			if !jsonEqual(t, got, tt.want) {
				t.Errorf("effective policy\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func jsonEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("result is not JSON: %s", got)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatalf("bad test JSON: %s", want)
	}
	return reflect.DeepEqual(a, b)
}
