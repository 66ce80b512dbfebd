package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"
)

// TestOffboardingExample runs examples/offboarding.sh with the AWS CLI
// against an in-process orgstack on a virtual clock.
func TestOffboardingExample(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	if testing.Short() {
		t.Skip("runs the AWS CLI some twenty times")
	}
	e := newEnv(t)
	// The script needs the OU, tree, tag and handshake operations.
	_, err := e.orgs(mgmtAccount).ListHandshakesForOrganization(context.Background(), &organizations.ListHandshakesForOrganizationInput{})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NotImplementedException" {
		t.Skip("the handshake, OU and tag operations are not implemented yet")
	}
	e.Clock.Set(e.Clock.Now()) // virtual time, moved by the script
	script, err := filepath.Abs("../../examples/offboarding.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "ORGSTACK_URL="+e.URL)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("offboarding.sh: %v", err)
	}
}
