package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// aws runs the AWS CLI against the environment as the given account and
// returns its standard output; it skips the test when the CLI is absent.
func (e *env) aws(t *testing.T, account string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed (.ci/run installs it)")
	}
	cmd := exec.Command(bin, append([]string{"--endpoint-url", e.URL, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+account,
		"AWS_SECRET_ACCESS_KEY=orgstack-test-secret",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), &cliError{err: err, stderr: stderr.String()}
	}
	return string(out), nil
}

type cliError struct {
	err    error
	stderr string
}

func (e *cliError) Error() string { return e.err.Error() + ": " + e.stderr }

func TestAWSCLIOrganizations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out, err := e.aws(t, mgmtAccount, "organizations", "create-organization")
	if err != nil {
		t.Fatalf("create-organization: %v", err)
	}
	var created struct {
		Organization struct{ Id, MasterAccountId, FeatureSet string }
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create-organization printed %q: %v", out, err)
	}
	if created.Organization.MasterAccountId != mgmtAccount || created.Organization.FeatureSet != "ALL" {
		t.Errorf("create-organization = %+v", created.Organization)
	}
	out, err = e.aws(t, mgmtAccount, "organizations", "describe-organization")
	if err != nil {
		t.Fatalf("describe-organization: %v", err)
	}
	var described struct{ Organization struct{ Id string } }
	if err := json.Unmarshal([]byte(out), &described); err != nil || described.Organization.Id != created.Organization.Id {
		t.Errorf("describe-organization = %q (%v), want organization %s", out, err, created.Organization.Id)
	}
	_, err = e.aws(t, otherAccount, "organizations", "describe-organization")
	if err == nil || !strings.Contains(err.Error(), "AWSOrganizationsNotInUseException") {
		t.Errorf("describe-organization outside any organization: %v", err)
	}
}

func TestAWSCLIAutomationEnrollment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out, err := e.aws(t, "888888888888", "compute-optimizer-automation", "update-enrollment-configuration", "--status", "Active")
	if err != nil {
		if strings.Contains(err.Error(), "Invalid choice") {
			t.Skip("this AWS CLI does not know Compute Optimizer Automation")
		}
		t.Fatalf("update-enrollment-configuration: %v", err)
	}
	out, err = e.aws(t, "888888888888", "compute-optimizer-automation", "get-enrollment-configuration")
	if err != nil {
		t.Fatalf("get-enrollment-configuration: %v", err)
	}
	var got struct {
		Status string `json:"status"`
		// The CLI prints timestamps as numbers or ISO 8601 strings,
		// depending on its version and cli_timestamp_format.
		LastUpdatedTimestamp any `json:"lastUpdatedTimestamp"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Status != "Active" || got.LastUpdatedTimestamp == nil {
		t.Errorf("get-enrollment-configuration = %q (%v)", out, err)
	}
}
