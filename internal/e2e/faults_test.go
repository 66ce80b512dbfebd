package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"
)

// addFault adds a fault rule through the admin API and returns its id.
func (e *env) addFault(t *testing.T, body string) string {
	t.Helper()
	status, m := e.adminDo(t, "POST", "/_orgstack/faults", body)
	if status != http.StatusCreated {
		t.Fatalf("POST /_orgstack/faults %s = %d %v", body, status, m)
	}
	id, _ := m["id"].(string)
	if id == "" {
		t.Fatalf("rule without id: %v", m)
	}
	return id
}

// faultRules lists the stored rules.
func (e *env) faultRules(t *testing.T) []map[string]any {
	t.Helper()
	status, m := e.adminDo(t, "GET", "/_orgstack/faults", "")
	if status != http.StatusOK {
		t.Fatalf("GET /_orgstack/faults = %d %v", status, m)
	}
	var out []map[string]any
	for _, r := range m["rules"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

// attempts counts the HTTP exchanges a client makes and their statuses:
// what the server saw, retries included.
type attempts struct {
	mu       sync.Mutex
	statuses []int
}

func (a *attempts) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		a.mu.Lock()
		a.statuses = append(a.statuses, resp.StatusCode)
		a.mu.Unlock()
	}
	return resp, err
}

func (a *attempts) seen() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.statuses...)
}

// noRetries is an Organizations client that makes one attempt per call.
func (e *env) noRetries(account string) *organizations.Client {
	cfg := e.awsConfig(account)
	cfg.RetryMaxAttempts = 1
	return organizations.NewFromConfig(cfg)
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestSDKRetryerRecoversFromInjectedFaults: the AWS SDK for Go's standard
// retryer, with the default configuration, treats an injected
// TooManyRequestsException as the throttling error it is and retries it;
// with retries off the caller gets the typed error.
func TestSDKRetryerRecoversFromInjectedFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.orgs(mgmtAccount).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	e.addFault(t, `{"service":"organizations","operation":"DescribeOrganization","error":"TooManyRequestsException","probability":1,"count":2}`)

	// The default configuration: the standard retryer, 3 attempts, with
	// its exponential backoff (this call waits about 3 s in all).
	seen := &attempts{}
	cfg := e.awsConfig(mgmtAccount)
	cfg.HTTPClient = &http.Client{Transport: seen}
	out, err := organizations.NewFromConfig(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatalf("DescribeOrganization with the default retryer: %v", err)
	}
	if out.Organization == nil || aws.ToString(out.Organization.MasterAccountId) != mgmtAccount {
		t.Errorf("organization = %+v", out.Organization)
	}
	if got := seen.seen(); len(got) != 3 || got[0] != 400 || got[1] != 400 || got[2] != 200 {
		t.Errorf("the server saw attempts answered %v, want [400 400 200]", got)
	}
	results, ok := retry.GetAttemptResults(out.ResultMetadata)
	if !ok || len(results.Results) != 3 {
		t.Fatalf("the SDK recorded %d attempts, want 3", len(results.Results))
	}
	for i, r := range results.Results[:2] {
		var tm *types.TooManyRequestsException
		if !errors.As(r.Err, &tm) || !r.Retried {
			t.Errorf("attempt %d: %v (retried %v), want a retried TooManyRequestsException", i+1, r.Err, r.Retried)
		}
	}
	if rules := e.faultRules(t); rules[0]["fired"] != 2.0 || rules[0]["remaining"] != 0.0 {
		t.Errorf("rule after the call: %v", rules[0])
	}

	// With retries off the caller sees the fault itself.
	e.addFault(t, `{"service":"organizations","operation":"DescribeOrganization","error":"TooManyRequestsException","count":1}`)
	seen = &attempts{}
	cfg.HTTPClient = &http.Client{Transport: seen}
	cfg.RetryMaxAttempts = 1
	_, err = organizations.NewFromConfig(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || httpStatus(err) != 400 {
		t.Fatalf("with RetryMaxAttempts=1: %v (status %d), want TooManyRequestsException (400)", err, httpStatus(err))
	}
	if got := seen.seen(); len(got) != 1 {
		t.Errorf("the server saw %d attempts, want 1", len(got))
	}
}

// TestFaultCountThenStops: a rule with a count fails exactly that many
// requests, each decoded by the SDK as the typed error with the status
// AWS answers it with, and then lets requests through.
func TestFaultCountThenStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	client := e.noRetries(mgmtAccount)
	if _, err := client.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	rootID := e.rootID(t, client)
	for _, tc := range []struct {
		rule   string
		check  func(error) bool
		status int
	}{
		{`{"operation":"ListRoots","error":"TooManyRequestsException","count":3,"message":"slow down"}`,
			func(err error) bool {
				var e *types.TooManyRequestsException
				return errors.As(err, &e) && e.ErrorMessage() == "slow down"
			}, 400},
		{`{"service":"organizations","operation":"ListRoots","error":"ServiceException","count":3}`,
			func(err error) bool { var e *types.ServiceException; return errors.As(err, &e) }, 500},
		{`{"service":"AWSOrganizationsV20161128","error":"ConcurrentModificationException","count":3}`,
			func(err error) bool { var e *types.ConcurrentModificationException; return errors.As(err, &e) }, 400},
		{`{"operation":"ListRoots","error":"AccessDeniedException","count":3}`,
			func(err error) bool { var e *types.AccessDeniedException; return errors.As(err, &e) }, 400},
	} {
		id := e.addFault(t, tc.rule)
		op := func() error {
			// ListRoots declares the first, second and fourth error and
			// CreateOrganizationalUnit the third: try both.
			if strings.Contains(tc.rule, "ConcurrentModification") {
				_, err := client.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("ou-" + id)})
				return err
			}
			_, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
			return err
		}
		for i := range 3 {
			err := op()
			if !tc.check(err) || httpStatus(err) != tc.status {
				t.Fatalf("%s: request %d: %v (status %d), want the typed error with status %d", tc.rule, i+1, err, httpStatus(err), tc.status)
			}
		}
		if err := op(); err != nil {
			t.Fatalf("%s: after the count: %v", tc.rule, err)
		}
		if status, m := e.adminDo(t, "GET", "/_orgstack/faults/"+id, ""); status != 200 || m["fired"] != 3.0 || m["remaining"] != 0.0 || m["count"] != 3.0 {
			t.Errorf("rule %s after use: %d %v", id, status, m)
		}
	}
}

// rootID is the organization's root id.
func (e *env) rootID(t *testing.T, client *organizations.Client) string {
	t.Helper()
	out, err := client.ListRoots(context.Background(), &organizations.ListRootsInput{})
	if err != nil || len(out.Roots) != 1 {
		t.Fatalf("ListRoots: %v", err)
	}
	return aws.ToString(out.Roots[0].Id)
}

// TestFaultWireShapes: an injected error is the modelled exception on
// every protocol: awsJson1_1 for Organizations (Type and Message members,
// X-Amzn-ErrorType), awsJson1_0 and RPC v2 CBOR for Automation (absolute
// shape id, the model's status, Smithy-Protocol on CBOR).
func TestFaultWireShapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addFault(t, `{"service":"organizations","operation":"ListRoots","error":"TooManyRequestsException","message":"m1"}`)
	e.addFault(t, `{"service":"organizations","operation":"ListAccounts","error":"ServiceException","message":"m2"}`)
	e.addFault(t, `{"service":"compute-optimizer-automation","operation":"ListAccounts","error":"ThrottlingException","message":"m3"}`)
	e.addFault(t, `{"service":"automation","operation":"GetEnrollmentConfiguration","error":"ServiceUnavailableException","message":"m4"}`)

	for _, tc := range []struct {
		target, body string
		status       int
		errType      string
	}{
		{"AWSOrganizationsV20161128.ListRoots", `{"__type":"TooManyRequestsException","Message":"m1"}`, 400, "TooManyRequestsException"},
		{"AWSOrganizationsV20161128.ListAccounts", `{"__type":"ServiceException","Message":"m2"}`, 500, "ServiceException"},
	} {
		c := e.jsonCall(t, "1.1", tc.target, mgmtAccount, "{}")
		if c.status != tc.status || !jsonEqual(t, c.body, tc.body) || c.header.Get("X-Amzn-Errortype") != tc.errType ||
			c.header.Get("Content-Type") != "application/x-amz-json-1.1" || c.header.Get("X-Amzn-Requestid") == "" {
			t.Errorf("%s: %d %s %v, want %d %s", tc.target, c.status, c.body, c.header, tc.status, tc.body)
		}
	}
	for _, tc := range []struct {
		op, code, msg string
		status        int
	}{
		{"ListAccounts", "ThrottlingException", "m3", 429},
		{"GetEnrollmentConfiguration", "ServiceUnavailableException", "m4", 503},
	} {
		c := e.jsonCall(t, "1.0", "ComputeOptimizerAutomationService."+tc.op, mgmtAccount, "{}")
		want := `{"__type":"` + acoNamespace + tc.code + `","message":"` + tc.msg + `"}`
		if c.status != tc.status || !jsonEqual(t, c.body, want) || c.header.Get("X-Amzn-Errortype") != acoNamespace+tc.code {
			t.Errorf("json %s: %d %s %v, want %d %s", tc.op, c.status, c.body, c.header, tc.status, want)
		}
		c = e.cborCall(t, tc.op, mgmtAccount, smithycbor.Map{})
		got := decodeCBORBody(t, c)
		if c.status != tc.status || got["__type"] != acoNamespace+tc.code || got["message"] != tc.msg || len(got) != 2 ||
			c.header.Get("Smithy-Protocol") != "rpc-v2-cbor" || c.header.Get("Content-Type") != "application/cbor" {
			t.Errorf("cbor %s: %d %v %v", tc.op, c.status, got, c.header)
		}
	}
}

// TestFaultChangesNothing: a request that gets a fault never reaches its
// service, and the fault comes before the body is even validated.
func TestFaultChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	client := e.noRetries(mgmtAccount)
	if _, err := client.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	rootID := e.rootID(t, client)
	e.addFault(t, `{"operation":"CreateOrganizationalUnit","error":"ConcurrentModificationException","count":2}`)

	_, err := client.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("payments")})
	var cme *types.ConcurrentModificationException
	if !errors.As(err, &cme) {
		t.Fatalf("CreateOrganizationalUnit: %v, want ConcurrentModificationException", err)
	}
	// A body that would fail validation gets the fault as well.
	c := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.CreateOrganizationalUnit", mgmtAccount, `{"ParentId":"not a parent"}`)
	if got := decodeJSONBody(t, c)["__type"]; got != "ConcurrentModificationException" {
		t.Errorf("invalid input under a fault: %v", got)
	}
	list, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(rootID)})
	if err != nil || len(list.OrganizationalUnits) != 0 {
		t.Fatalf("after the faulted call: %v %+v, want no OUs", err, list)
	}
	// The count is spent: the same call now creates the OU.
	if _, err := client.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("payments")}); err != nil {
		t.Fatal(err)
	}
	list, err = client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(rootID)})
	if err != nil || len(list.OrganizationalUnits) != 1 {
		t.Fatalf("after the retry: %v %+v, want one OU", err, list)
	}
}

// TestFaultAdminAPI: bad rules are refused with 400 and nothing stored;
// rules are listed, fetched, deleted one by one or all, and a reset
// removes them.
func TestFaultAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, bad := range []string{
		``,
		`{`,
		`[]`,
		`{"error":"TooManyRequestsException"} {}`,
		`{"error":"TooManyRequestsException","probabilty":0.5}`,
		`{"error":"TooManyRequestsException","probability":"high"}`,
		`{"service":"s3","error":"SlowDown"}`,
		`{"service":"organizations","operation":"CreateBucket","error":"TooManyRequestsException"}`,
		`{"service":"organizations","error":"ThrottlingException"}`,
		`{"service":"organizations","operation":"ListAccounts","error":"ConcurrentModificationException"}`,
		`{"service":"automation","error":"TooManyRequestsException"}`,
		`{"error":"NoSuchException"}`,
		`{"service":"organizations"}`,
		`{"error":"ServiceException","probability":1.01}`,
		`{"error":"ServiceException","probability":-1}`,
		`{"error":"ServiceException","count":0}`,
		`{"error":"ServiceException","count":1.5}`,
	} {
		status, m := e.adminDo(t, "POST", "/_orgstack/faults", bad)
		if status != http.StatusBadRequest || m["error"] == "" {
			t.Errorf("POST %s = %d %v, want 400 with a reason", bad, status, m)
		}
	}
	if rules := e.faultRules(t); len(rules) != 0 {
		t.Fatalf("refused rules were stored: %v", rules)
	}

	status, m := e.adminDo(t, "POST", "/_orgstack/faults", `{"service":"Compute Optimizer Automation","error":"ThrottlingException","probability":0.5,"count":4,"message":"m"}`)
	if status != http.StatusCreated || !strings.HasPrefix(m["id"].(string), "f-") || m["service"] != "automation" ||
		m["probability"] != 0.5 || m["count"] != 4.0 || m["remaining"] != 4.0 || m["fired"] != 0.0 || m["message"] != "m" {
		t.Fatalf("POST = %d %v", status, m)
	}
	first := m["id"].(string)
	second := e.addFault(t, `{"error":"TooManyRequestsException"}`)
	rules := e.faultRules(t)
	if len(rules) != 2 || rules[0]["id"] != first || rules[1]["id"] != second || rules[1]["probability"] != 1.0 {
		t.Fatalf("rules = %v", rules)
	}
	if _, ok := rules[1]["count"]; ok {
		t.Errorf("a rule without count shows one: %v", rules[1])
	}
	if status, _ := e.adminDo(t, "GET", "/_orgstack/faults/f-nope", ""); status != http.StatusNotFound {
		t.Errorf("GET unknown rule = %d", status)
	}
	if status, _ := e.adminDo(t, "DELETE", "/_orgstack/faults/f-nope", ""); status != http.StatusNotFound {
		t.Errorf("DELETE unknown rule = %d", status)
	}
	if status, _ := e.adminDo(t, "DELETE", "/_orgstack/faults/"+first, ""); status != http.StatusNoContent {
		t.Errorf("DELETE rule = %d", status)
	}
	if rules := e.faultRules(t); len(rules) != 1 || rules[0]["id"] != second {
		t.Errorf("after DELETE one: %v", rules)
	}
	e.addFault(t, `{"error":"ServiceException"}`)
	if status, _ := e.adminDo(t, "DELETE", "/_orgstack/faults", ""); status != http.StatusNoContent {
		t.Errorf("DELETE all = %d", status)
	}
	if rules := e.faultRules(t); len(rules) != 0 {
		t.Errorf("after DELETE all: %v", rules)
	}

	// A reset wipes the store, rules included.
	e.addFault(t, `{"error":"TooManyRequestsException"}`)
	if c := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", mgmtAccount, "{}"); decodeJSONBody(t, c)["__type"] != "TooManyRequestsException" {
		t.Fatalf("the rule did not fire: %s", c.body)
	}
	if c := e.do(t, "POST", "/_orgstack/reset", nil, nil); c.status != http.StatusNoContent {
		t.Fatal(c.status)
	}
	if rules := e.faultRules(t); len(rules) != 0 {
		t.Errorf("after reset: %v", rules)
	}
	if c := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", mgmtAccount, "{}"); decodeJSONBody(t, c)["__type"] != "AWSOrganizationsNotInUseException" {
		t.Errorf("after reset: %s", c.body)
	}
}

// TestFaultRulesAcrossInstances: instances on one PostgreSQL database
// share the rules. A rule added or deleted through one applies, or stops,
// on the other from its very next request; its count is spent exactly
// once across both; a reset through either removes every rule at once.
func TestFaultRulesAcrossInstances(t *testing.T) {
	in := newInstances(t, 2)
	a, b := in[0], in[1]
	ctx := context.Background()
	listRoots := func(e *env) error {
		_, err := e.noRetries(mgmtAccount).ListRoots(ctx, &organizations.ListRootsInput{})
		var tm *types.TooManyRequestsException
		if errors.As(err, &tm) {
			return err
		}
		return nil // outside an organization ListRoots fails otherwise; that is no fault
	}
	// b's view of the rules: none.
	if err := listRoots(b); err != nil {
		t.Fatal(err)
	}
	a.addFault(t, `{"operation":"ListRoots","error":"TooManyRequestsException","count":3}`)
	if listRoots(b) == nil {
		t.Fatal("b's next request after a rule was added through a got no fault")
	}
	if listRoots(a) == nil {
		t.Fatal("the instance the rule was added through does not apply it")
	}
	faulted := 2
	for range 5 {
		for _, e := range in {
			if listRoots(e) != nil {
				faulted++
			}
		}
	}
	if faulted != 3 {
		t.Errorf("%d requests failed across the instances, want the count, 3", faulted)
	}
	if rules := b.faultRules(t); rules[0]["fired"] != 3.0 || rules[0]["remaining"] != 0.0 {
		t.Errorf("b shows %v", rules[0])
	}

	// A rule without count, deleted through a: b stops at once.
	id := b.addFault(t, `{"operation":"ListRoots","error":"TooManyRequestsException"}`)
	if listRoots(a) == nil || listRoots(b) == nil {
		t.Fatal("a rule added through b does not apply on both")
	}
	if status, m := a.adminDo(t, "DELETE", "/_orgstack/faults/"+id, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %v", status, m)
	}
	if err := listRoots(b); err != nil {
		t.Errorf("b's next request after a deleted the rule: %v", err)
	}

	// A rule b applies, then a reset through a: b stops at once.
	b.addFault(t, `{"operation":"ListRoots","error":"TooManyRequestsException"}`)
	if listRoots(b) == nil {
		t.Fatal("b does not apply its own rule")
	}
	if c := a.do(t, "POST", "/_orgstack/reset", nil, nil); c.status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", c.status, c.body)
	}
	if err := listRoots(b); err != nil {
		t.Errorf("after a reset through a, b still applies a rule: %v", err)
	}
}
