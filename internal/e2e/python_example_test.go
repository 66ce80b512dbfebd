package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runBoto3Example runs one of the boto3 scenarios in examples/ against an
// in-process orgstack. It skips when python3 with boto3, or the models
// beside the repository (../shared), are missing, and when the script
// exits 3 (it skipped itself); the script must end by printing OK.
func runBoto3Example(t *testing.T, script string) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: runs a Python scenario")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 is not installed")
	}
	model, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "models", "compute-optimizer-automation"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(model); err != nil {
		t.Skipf("no models beside the repository: %v", err)
	}
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("..", "..", "examples", script))
	cmd.Env = append(os.Environ(),
		"ORGSTACK_ENDPOINT="+e.URL,
		"ACO_MODEL_DIR="+model,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		t.Skipf("the scenario skipped itself:\n%s", out)
	}
	if err != nil {
		t.Fatalf("scenario failed: %v\n%s", err, out)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(out)), "OK") {
		t.Fatalf("scenario did not finish:\n%s", out)
	}
	t.Logf("%s", out)
}

// TestAutomationOrgExample: examples/automation_org.py, Automation across an
// organization (association, organization rules, removal, standalone errors).
func TestAutomationOrgExample(t *testing.T) {
	t.Parallel()
	runBoto3Example(t, "automation_org.py")
}

// TestAutomationEventsExample: examples/automation_events.py, recommended
// actions, a scheduled organization rule, events and a rollback.
func TestAutomationEventsExample(t *testing.T) {
	t.Parallel()
	runBoto3Example(t, "automation_events.py")
}
