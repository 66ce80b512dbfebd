package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
