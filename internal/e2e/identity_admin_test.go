package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// adminDo sends a JSON admin request and decodes the JSON answer.
func (e *env) adminDo(t testing.TB, method, path, body string) (int, map[string]any) {
	t.Helper()
	c := e.do(t, method, path, map[string]string{"Content-Type": "application/json"}, []byte(body))
	var m map[string]any
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &m); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, c.body)
		}
	}
	return c.status, m
}

// registerAccount creates a standalone account through the admin API and
// returns its id, access key id and secret.
func (e *env) registerAccount(t testing.TB, body string) (id, akid, secret string) {
	t.Helper()
	status, m := e.adminDo(t, "POST", "/_orgstack/accounts", body)
	if status != http.StatusCreated {
		t.Fatalf("POST /_orgstack/accounts %s = %d %v", body, status, m)
	}
	return m["accountId"].(string), m["accessKeyId"].(string), m["secretAccessKey"].(string)
}

func TestAdminCreateAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, m := e.adminDo(t, "POST", "/_orgstack/accounts", "")
	if status != http.StatusCreated {
		t.Fatalf("create = %d %v", status, m)
	}
	checkPattern(t, "accountId", m["accountId"].(string), `^[0-9]{12}$`)
	checkPattern(t, "accessKeyId", m["accessKeyId"].(string), `^AKIA[A-Z2-7]{16}$`)
	checkPattern(t, "secretAccessKey", m["secretAccessKey"].(string), `^[A-Za-z0-9+/]{40}$`)
	checkPattern(t, "email", m["email"].(string), `^[^@]+@[^@]+$`)
	if m["name"] == "" {
		t.Errorf("no name: %v", m)
	}

	id := m["accountId"].(string)
	status, got := e.adminDo(t, "GET", "/_orgstack/accounts/"+id, "")
	if status != 200 || got["email"] != m["email"] || got["standaloneComplete"] != true || got["organization"] != nil {
		t.Fatalf("GET = %d %v", status, got)
	}
	if keys := got["accessKeyIds"].([]any); len(keys) != 1 || keys[0] != m["accessKeyId"] {
		t.Errorf("accessKeyIds = %v", keys)
	}
	if _, leaked := got["secretAccessKey"]; leaked {
		t.Errorf("GET shows the secret: %v", got)
	}
}

func TestAdminCreateAccountGivenFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, _, _ := e.registerAccount(t, `{"accountId":"210987654321","email":"Team@Example.com","name":"team","standalone":false}`)
	if id != "210987654321" {
		t.Fatalf("id = %s", id)
	}
	_, got := e.adminDo(t, "GET", "/_orgstack/accounts/"+id, "")
	if got["standaloneComplete"] != false || got["name"] != "team" || got["origin"] != "admin" {
		t.Fatalf("GET = %v", got)
	}

	// The standalone information arrives piece by piece.
	status, got := e.adminDo(t, "POST", "/_orgstack/accounts/"+id+"/standalone", `{"contactInfo":true,"paymentMethod":true}`)
	st, _ := got["standalone"].(map[string]any)
	if status != 200 || st["contactInfo"] != true || st["paymentMethod"] != true || st["eula"] != false || got["standaloneComplete"] != false {
		t.Fatalf("standalone = %d %v", status, got)
	}
	_, got = e.adminDo(t, "POST", "/_orgstack/accounts/"+id+"/standalone", `{"phoneVerified":true,"eula":true}`)
	if got["standaloneComplete"] != true {
		t.Fatalf("after all four: %v", got)
	}
}

func TestAdminAccountErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.registerAccount(t, `{"accountId":"222222222222","email":"taken@example.com"}`)
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"bad JSON", "POST", "/_orgstack/accounts", `{`, 400},
		{"unknown field", "POST", "/_orgstack/accounts", `{"acountId":"1"}`, 400},
		{"short id", "POST", "/_orgstack/accounts", `{"accountId":"12345"}`, 400},
		{"bad email", "POST", "/_orgstack/accounts", `{"email":"no-at-sign"}`, 400},
		{"long name", "POST", "/_orgstack/accounts", `{"name":"012345678901234567890123456789012345678901234567890"}`, 400},
		{"id taken", "POST", "/_orgstack/accounts", `{"accountId":"222222222222"}`, 409},
		{"email taken, any case", "POST", "/_orgstack/accounts", `{"email":"TAKEN@example.com"}`, 409},
		{"unknown account", "GET", "/_orgstack/accounts/333333333333", "", 404},
		{"bad account id", "GET", "/_orgstack/accounts/abc", "", 400},
		{"key for unknown account", "POST", "/_orgstack/accounts/333333333333/credentials", "", 404},
		{"delete unknown key", "DELETE", "/_orgstack/accounts/222222222222/credentials/AKIAAAAAAAAAAAAAAAAA", "", 404},
		{"standalone of unknown account", "POST", "/_orgstack/accounts/333333333333/standalone", `{"eula":true}`, 404},
		{"standalone bad JSON", "POST", "/_orgstack/accounts/222222222222/standalone", `{"eula":"yes"}`, 400},
		{"role of unknown account", "POST", "/_orgstack/accounts/333333333333/roles", `{"trustedAccountId":"222222222222"}`, 404},
		{"role without trust", "POST", "/_orgstack/accounts/222222222222/roles", `{}`, 400},
		{"role bad name", "POST", "/_orgstack/accounts/222222222222/roles", `{"roleName":"a b","trustedAccountId":"111111111111"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, m := e.adminDo(t, tc.method, tc.path, tc.body); status != tc.want || (status >= 400 && m["error"] == "") {
				t.Errorf("%s %s %s = %d %v, want %d", tc.method, tc.path, tc.body, status, m, tc.want)
			}
		})
	}
	// Nothing was created by the failures.
	_, list := e.adminDo(t, "GET", "/_orgstack/accounts", "")
	if accts := list["accounts"].([]any); len(accts) != 1 {
		t.Errorf("accounts after failures: %v", accts)
	}
}

func TestAdminCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, first, _ := e.registerAccount(t, "")
	status, m := e.adminDo(t, "POST", "/_orgstack/accounts/"+id+"/credentials", "")
	if status != http.StatusCreated || m["accountId"] != id {
		t.Fatalf("new key = %d %v", status, m)
	}
	second := m["accessKeyId"].(string)
	if second == first || !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(second) {
		t.Fatalf("second key %q", second)
	}
	if status, _ := e.adminDo(t, "DELETE", "/_orgstack/accounts/"+id+"/credentials/"+first, ""); status != http.StatusNoContent {
		t.Fatalf("delete = %d", status)
	}
	_, got := e.adminDo(t, "GET", "/_orgstack/accounts/"+id, "")
	if keys := got["accessKeyIds"].([]any); len(keys) != 1 || keys[0] != second {
		t.Errorf("keys after delete = %v", keys)
	}
	// A key of another account cannot be deleted through this one.
	other, otherKey, _ := e.registerAccount(t, "")
	if status, _ := e.adminDo(t, "DELETE", "/_orgstack/accounts/"+id+"/credentials/"+otherKey, ""); status != http.StatusNotFound {
		t.Errorf("deleting %s's key through %s = %d, want 404", other, id, status)
	}
}

func TestAdminAccountShowsOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.orgs(mgmtAccount).CreateOrganization(context.Background(), &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	_, got := e.adminDo(t, "GET", "/_orgstack/accounts/"+mgmtAccount, "")
	org, _ := got["organization"].(map[string]any)
	if org["managementAccountId"] != mgmtAccount || org["status"] != "ACTIVE" {
		t.Fatalf("GET = %v", got)
	}
	checkPattern(t, "organizationId", org["organizationId"].(string), `^o-[a-z0-9]{10,32}$`)
}

func TestOpenModeCreatesAccountsOnFirstUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if status, _ := e.adminDo(t, "GET", "/_orgstack/accounts/444444444444", ""); status != 404 {
		t.Fatalf("account exists before use: %d", status)
	}
	// Any operation, even one that fails, brings the calling account into being.
	e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", "444444444444", "{}")
	status, got := e.adminDo(t, "GET", "/_orgstack/accounts/444444444444", "")
	if status != 200 || got["origin"] != "first-use" || got["standaloneComplete"] != true {
		t.Fatalf("after first use = %d %v", status, got)
	}
	// After a reset the account is made again on its next request.
	e.do(t, "POST", "/_orgstack/reset", nil, nil)
	e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", "444444444444", "{}")
	if status, _ := e.adminDo(t, "GET", "/_orgstack/accounts/444444444444", ""); status != 200 {
		t.Fatalf("after reset and use = %d", status)
	}
}
