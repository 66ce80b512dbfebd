package policy

import (
	"reflect"
	"testing"
)

func TestCheckEffective(t *testing.T) {
	t.Parallel()
	type want struct {
		code, path   string
		contributors []string
	}
	tests := []struct {
		name   string
		typ    string
		levels [][]Source
		want   []want
	}{
		{
			name: "a tag policy whose inherited key is spelled differently from the policy key",
			typ:  "TAG_POLICY",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCentre"}}}}`)}},
			},
			want: []want{{"TAG_KEY_MISMATCH", "tags.costcenter.tag_key", []string{"p-root000001"}}},
		},
		{
			name: "appends from two levels give tag_key two values",
			typ:  "TAG_POLICY",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"tags":{"team":{"tag_key":{"@@assign":["Team"]}}}}`)}},
				{{"p-ou00000001", []byte(`{"tags":{"team":{"tag_key":{"@@append":["TEAM"]}}}}`)}},
			},
			want: []want{{"ELEMENTS_TOO_MANY", "tags.team.tag_key", []string{"p-root000001", "p-ou00000001"}}},
		},
		{
			name: "a valid tag policy",
			typ:  "TAG_POLICY",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["A"]}}}}`)}},
			},
		},
		{
			name: "a backup plan split over two levels is complete",
			typ:  "BACKUP_POLICY",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"plans":{"daily":{"regions":{"@@assign":["us-east-1"]},"selections":{"tags":{"all":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/Backup"},"tag_key":{"@@assign":"backup"},"tag_value":{"@@assign":["yes"]}}}}}}}`)}},
				{{"p-acct000001", []byte(`{"plans":{"daily":{"rules":{"r1":{"target_backup_vault_name":{"@@assign":"Default"}}}}}}`)}},
			},
		},
		{
			name: "a backup plan without rules, and a rule without a vault",
			typ:  "BACKUP_POLICY",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"plans":{"a":{"regions":{"@@assign":["us-east-1"]},"selections":{"tags":{"s":{"tag_key":{"@@assign":"k"}}}}},"b":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"schedule_expression":{"@@assign":"cron(0 5 ? * * *)"}}},"selections":{"tags":{"s":{"tag_key":{"@@assign":"k"}}}}}}}`)}},
			},
			want: []want{
				{"MISSING_REQUIRED_ELEMENT", "plans.a", []string{"p-root000001"}},
				{"MISSING_REQUIRED_ELEMENT", "plans.b.rules.r", []string{"p-root000001"}},
			},
		},
		{
			name: "an AI opt-out setting with two values",
			typ:  "AISERVICES_OPT_OUT_POLICY",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"services":{"default":{"opt_out_policy":{"@@assign":["optOut"]}}}}`)}},
				{{"p-ou00000001", []byte(`{"services":{"default":{"opt_out_policy":{"@@append":["optIn"]}}}}`)}},
			},
			want: []want{{"ELEMENTS_TOO_MANY", "services.default.opt_out_policy", []string{"p-root000001", "p-ou00000001"}}},
		},
		{
			name: "a valid declarative policy over two levels",
			typ:  "DECLARATIVE_POLICY_EC2",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"ec2_attributes":{"vpc_block_public_access":{"internet_gateway":{"mode":{"@@assign":"block_ingress"}}},"instance_metadata_defaults":{"http_tokens":{"@@assign":"required"},"http_put_response_hop_limit":{"@@assign":2}}}}`)}},
				{{"p-ou00000001", []byte(`{"ec2_attributes":{"vpc_block_public_access":{"internet_gateway":{"exclusions_allowed":{"@@assign":"disabled"}}},"serial_console_access":{"status":{"@@assign":"disabled"}}}}`)}},
			},
		},
		{
			name: "declarative settings left incomplete, given two values, or a value not in the list",
			typ:  "DECLARATIVE_POLICY_EC2",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"ec2_attributes":{"vpc_block_public_access":{"internet_gateway":{"mode":{"@@assign":"block_ingress"}}},"snapshot_block_public_access":{"state":{"@@assign":["block_all_sharing"]}}}}`)}},
				{{"p-ou00000001", []byte(`{"ec2_attributes":{"snapshot_block_public_access":{"state":{"@@append":["unblocked"]}},"image_block_public_access":{"state":{"@@assign":"block_all_sharing"}},"instance_metadata_defaults":{"http_put_response_hop_limit":{"@@assign":65}}}}`)}},
			},
			want: []want{
				{"MISSING_REQUIRED_ELEMENT", "ec2_attributes.vpc_block_public_access.internet_gateway", []string{"p-root000001"}},
				{"INVALID_VALUE", "ec2_attributes.image_block_public_access.state", []string{"p-ou00000001"}},
				{"ELEMENTS_TOO_MANY", "ec2_attributes.snapshot_block_public_access.state", []string{"p-root000001", "p-ou00000001"}},
				{"INVALID_VALUE", "ec2_attributes.instance_metadata_defaults.http_put_response_hop_limit", []string{"p-ou00000001"}},
			},
		},
		{
			name: "an AI opt-out value that is neither optIn nor optOut",
			typ:  "AISERVICES_OPT_OUT_POLICY",
			levels: [][]Source{
				{{"p-root000001", []byte(`{"services":{"rekognition":{"opt_out_policy":{"@@assign":"maybe"}}}}`)}},
			},
			want: []want{{"INVALID_VALUE", "services.rekognition.opt_out_policy", []string{"p-root000001"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var levels []Level
			var sources []Source
			for _, l := range tt.levels {
				var level Level
				for _, s := range l {
					if err := ValidateManagement(tt.typ, string(s.Doc)); err != nil {
						t.Fatalf("each policy must be valid on its own: %v", err)
					}
					level = append(level, s.Doc)
					sources = append(sources, s)
				}
				levels = append(levels, level)
			}
			eff, err := Effective(levels)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := CheckEffective(tt.typ, eff, sources)
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, f := range fs {
				if f.Message == "" {
					t.Errorf("finding %s has no message", f.Code)
				}
				got = append(got, want{f.Code, f.Path, f.Contributors})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("effective %s\n got %+v\nwant %+v", eff, got, tt.want)
			}
		})
	}
}
