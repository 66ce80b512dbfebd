package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"
)

// The Automation tests speak both wire protocols, each encoded without
// orgstack's codecs: literal JSON text for awsJson1_0, smithy-go's CBOR
// encoder for RPC v2 CBOR.
var acoWire = []string{"json", "cbor"}

// acoResult is a decoded Automation response.
type acoResult struct {
	status int
	body   map[string]any
}

// code is the short error code of an error response, "" on success.
func (r acoResult) code() string {
	s, _ := r.body["__type"].(string)
	return strings.TrimPrefix(s, acoNamespace)
}

// str and num read members of the body.
func (r acoResult) str(k string) string { s, _ := r.body[k].(string); return s }
func (r acoResult) num(k string) int64  { f, _ := r.body[k].(float64); return int64(f) }
func (r acoResult) list(k string) []any { l, _ := r.body[k].([]any); return l }

// aco calls an Automation operation over one wire as account.
func aco(t *testing.T, e *env, wire, op, account string, in map[string]any) acoResult {
	t.Helper()
	var c rawCall
	var body map[string]any
	switch wire {
	case "json":
		text := "{}"
		if in != nil {
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		c = e.jsonCall(t, "1.0", "ComputeOptimizerAutomationService."+op, account, text)
		if len(c.body) > 0 {
			body = decodeJSONBody(t, c)
		}
	case "cbor":
		var v smithycbor.Value = smithycbor.Map{}
		if in != nil {
			v = toCBOR(t, in)
		}
		c = e.cborCall(t, op, account, v)
		if len(c.body) > 0 {
			body = decodeCBORBody(t, c)
		}
	default:
		t.Fatalf("unknown wire %q", wire)
	}
	if body == nil {
		body = map[string]any{}
	}
	normalizeTimes(body)
	return acoResult{status: c.status, body: body}
}

// mustACO is aco that fails the test unless the call succeeds.
func mustACO(t *testing.T, e *env, wire, op, account string, in map[string]any) acoResult {
	t.Helper()
	r := aco(t, e, wire, op, account, in)
	if r.status != 200 {
		t.Fatalf("%s as %s over %s: %d %v", op, account, wire, r.status, r.body)
	}
	return r
}

// wantACOError fails the test unless r is the given error with its
// modelled HTTP status and a message.
func wantACOError(t *testing.T, r acoResult, code string) {
	t.Helper()
	status := map[string]int{
		"AccessDeniedException": 403, "OptInRequiredException": 403, "ForbiddenException": 403,
		"InvalidParameterValueException": 400, "NotManagementAccountException": 400,
		"ResourceNotFoundException": 404, "ServiceQuotaExceededException": 402,
		"IdempotentParameterMismatchException": 409, "IdempotencyTokenInUseException": 409,
	}[code]
	if r.code() != code || r.status != status {
		t.Fatalf("got %d %v, want %d %s", r.status, r.body, status, code)
	}
	if m, _ := r.body["message"].(string); m == "" {
		t.Errorf("%s has no message", code)
	}
}

// toCBOR turns plain Go values into smithy-go CBOR values.
func toCBOR(t *testing.T, v any) smithycbor.Value {
	switch v := v.(type) {
	case map[string]any:
		m := smithycbor.Map{}
		for k, x := range v {
			m[k] = toCBOR(t, x)
		}
		return m
	case []any:
		l := smithycbor.List{}
		for _, x := range v {
			l = append(l, toCBOR(t, x))
		}
		return l
	case []string:
		l := smithycbor.List{}
		for _, x := range v {
			l = append(l, smithycbor.String(x))
		}
		return l
	case []map[string]any:
		l := smithycbor.List{}
		for _, x := range v {
			l = append(l, toCBOR(t, x))
		}
		return l
	case string:
		return smithycbor.String(v)
	case bool:
		return smithycbor.Bool(v)
	case int:
		if v < 0 {
			return smithycbor.NegInt(uint64(-v))
		}
		return smithycbor.Uint(uint64(v))
	case int64:
		if v < 0 {
			return smithycbor.NegInt(uint64(-v))
		}
		return smithycbor.Uint(uint64(v))
	case float64:
		return smithycbor.Float64(v)
	case time.Time:
		// RPC v2 CBOR timestamps: tag 1 over epoch seconds.
		return &smithycbor.Tag{ID: 1, Value: smithycbor.Float64(float64(v.UnixNano()) / 1e9)}
	}
	t.Fatalf("toCBOR: unsupported %T", v)
	return nil
}

// normalizeTimes makes timestamps comparable across the wires: awsJson
// sends epoch seconds, CBOR a tagged time; both become UTC time.Time.
func normalizeTimes(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.HasSuffix(k, "Timestamp") {
				switch ts := x.(type) {
				case float64:
					sec, frac := math.Modf(ts)
					v[k] = time.Unix(int64(sec), int64(frac*1e9)).UTC().Round(time.Millisecond)
				case time.Time:
					v[k] = ts.UTC().Round(time.Millisecond)
				}
				continue
			}
			normalizeTimes(x)
		}
	case []any:
		for _, x := range v {
			normalizeTimes(x)
		}
	}
}

// acoOrg is an organization set up for Automation: a management account,
// members, Compute Optimizer trusted access, and enrollments as asked.
type acoOrg struct {
	orgFixture
	members []string
}

// newACOOrg creates an organization with the members, enables trusted
// access for Compute Optimizer and opts the management account in.
func newACOOrg(t *testing.T, e *env, wire, mgmt string, members ...string) acoOrg {
	t.Helper()
	f := newOrgWithMembers(t, e, mgmt, members...)
	if _, err := e.orgs(mgmt).EnableAWSServiceAccess(context.Background(), &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)}); err != nil {
		t.Fatalf("EnableAWSServiceAccess: %v", err)
	}
	optIn(t, e, wire, mgmt)
	return acoOrg{orgFixture: f, members: members}
}

func optIn(t *testing.T, e *env, wire, account string) {
	t.Helper()
	mustACO(t, e, wire, "UpdateEnrollmentConfiguration", account, map[string]any{"status": "Active"})
}

// registerDA makes account the organization's delegated administrator for
// Compute Optimizer.
func registerDA(t *testing.T, e *env, mgmt, account string) {
	t.Helper()
	if _, err := e.orgs(mgmt).RegisterDelegatedAdministrator(context.Background(), &organizations.RegisterDelegatedAdministratorInput{
		AccountId: aws.String(account), ServicePrincipal: aws.String(coPrincipal),
	}); err != nil {
		t.Fatalf("RegisterDelegatedAdministrator: %v", err)
	}
}

// accountID makes distinct 12-digit ids for a test: prefix (3 digits) and n.
func accountID(prefix, n int) string { return fmt.Sprintf("%03d%09d", prefix, n) }

// accountIDs is a []any of ids, as request members.
func ids(s ...string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// strs reads a list member as strings.
func strs(l []any) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i], _ = x.(string)
	}
	return out
}
