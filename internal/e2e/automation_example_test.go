package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/store"
)

// TestAutomationOrgExample runs examples/automation_org.py, a boto3
// scenario of Automation across an organization, against an in-process
// orgstack. It skips when python3 with boto3, or the models beside the
// repository (../shared), are missing.
func TestAutomationOrgExample(t *testing.T) {
	t.Parallel()
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

	// Until CreateAccount or invitations exist on this build, the script
	// asks this hook to join its member accounts to the organization.
	join := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Org, Account string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var org struct {
			RootID string `json:"rootId"`
		}
		err := e.Store.Read(r.Context(), func(tx store.Tx) error {
			b, err := tx.Get("org.organizations", req.Org)
			if err != nil {
				return err
			}
			return json.Unmarshal(b, &org)
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		joinOrg(t, e, orgFixture{ID: req.Org, RootID: org.RootID}, req.Account)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(join.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("..", "..", "examples", "automation_org.py"))
	cmd.Env = append(os.Environ(),
		"ORGSTACK_ENDPOINT="+e.URL,
		"ACO_MODEL_DIR="+model,
		"ORGSTACK_TEST_JOIN_URL="+join.URL,
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
