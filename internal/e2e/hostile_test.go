package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

// TestHostileInput sends every operation of both services, over every
// protocol each speaks, requests that are malformed or invalid in the ways
// a careless or hostile client makes them: bodies over the size limit,
// 10,000 levels of nesting, the wrong type at every member, invalid UTF-8,
// 100,000-item lists, lists, strings and numbers beyond the model's
// limits, enum members outside the enum, null or nothing where a member is
// required, unknown members carrying any of those, truncated bodies and
// wrong media types. Each request but those naming no member is a valid
// input addressing the fixture with one defect, so that whatever a decoder
// or validator let through would reach the domain as a write that can
// succeed (validBodies). Every answer must be a 4xx carrying the error AWS
// answers for that kind of input (SerializationException for a body that
// cannot be read, the service's validation exception for one that breaks
// the model, 413 and 415 for size and media type) in the service's own
// error shape; none may be a 5xx or hang; and the stored state, an
// organization with members, OUs, policies, tags, a delegated
// administrator, a resource policy, an open handshake and Automation
// enrollment, association, rule and event, must be byte for byte what it
// was.
//
// The cases are derived from the generated operation tables, input types
// and validators, so a new operation or member is covered without editing
// the test. -short sends only the cases that do not walk the members.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	rec := &bucketRecorder{}
	e := startEnv(t, rec.wrap(testengine.Open(t)), app.Config{Version: "test"})
	h := &hostile{e: e, client: &http.Client{Timeout: 20 * time.Second}}
	bodies := validBodies(h.setUp(t))

	targets := []hostileTarget{
		{name: "organizations/awsJson1_1", svc: orgapi.Service, proto: protocol.AWSJSON11, validation: "InvalidInputException"},
		{name: "automation/awsJson1_0", svc: acoapi.Service, proto: protocol.AWSJSON10, validation: "InvalidParameterValueException"},
		{name: "automation/rpcv2Cbor", svc: acoapi.Service, proto: protocol.RPCv2CBOR, validation: "InvalidParameterValueException"},
	}
	known := map[string]bool{}
	for _, tgt := range targets {
		for _, op := range tgt.svc.Operations {
			known[tgt.svc.Name+"."+op.Name] = true
		}
	}
	for key := range bodies {
		if !known[key] {
			t.Fatalf("a valid body for %s, which is no operation", key)
		}
	}
	total := 0
	for _, tgt := range targets {
		enc := newEncoder(tgt.proto)
		for _, op := range tgt.svc.Operations {
			base := validBody(t, tgt.svc, op, bodies)
			cases := hostileCases(t, tgt, op, enc, base, testing.Short())
			total += len(cases)
			t.Run(tgt.name+"/"+op.Name, func(t *testing.T) {
				before := rec.snapshot(t)
				for _, c := range cases {
					h.check(t, tgt, op, c)
				}
				if diff := diffState(before, rec.snapshot(t)); diff != "" {
					t.Errorf("hostile %s requests changed the stored state:\n%s", op.Name, diff)
				}
			})
		}
	}
	t.Logf("%d hostile requests", total)
}

// hostileTarget is one service over one of its protocols.
type hostileTarget struct {
	name  string
	svc   *protocol.Service
	proto protocol.Protocol
	// validation is the error the service answers an input that breaks
	// the model's constraints with.
	validation string
}

// expectation is the answer a kind of hostile input must get.
type expectation int

const (
	// wantSerialization: 400 SerializationException, the body cannot be
	// read into the operation's input.
	wantSerialization expectation = iota + 1
	// wantValidation: 400 and the service's validation exception, the
	// input is readable but breaks a constraint of the model.
	wantValidation
	// wantTooLarge: 413 RequestEntityTooLargeException.
	wantTooLarge
	// wantMediaType: 415 UnsupportedMediaTypeException, or 400
	// UnknownOperationException when the headers name another protocol.
	wantMediaType
)

func (x expectation) String() string {
	return map[expectation]string{
		wantSerialization: "400 SerializationException", wantValidation: "400 validation exception",
		wantTooLarge: "413 RequestEntityTooLargeException", wantMediaType: "415/400 media type or protocol error",
	}[x]
}

// hostileCase is one request: a body in the target's protocol, header
// changes (an empty value removes the header) and the answer it must get.
type hostileCase struct {
	name    string
	body    []byte
	header  map[string]string
	chunked bool // send without Content-Length
	want    expectation
}

type hostile struct {
	e      *env
	client *http.Client
}

// hostileMgmt manages the organization every hostile request addresses.
const hostileMgmt = "870000000001"

// hostileFixture names what setUp made, for the valid bodies.
type hostileFixture struct {
	root, prod, web, member, admin, scp, tagPolicy, handshake string
	ruleArn, action, event                                    string
}

// setUp builds, through valid calls, state that a write could disturb.
func (h *hostile) setUp(t *testing.T) hostileFixture {
	t.Helper()
	e, ctx := h.e, context.Background()
	// Virtual time stands still: no schedule or expiry changes the state
	// while the hostile requests run.
	e.Clock.Set(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	o := newPolicyOrg(t, e, hostileMgmt)
	f := hostileFixture{root: o.RootID}
	mgmt := e.orgs(hostileMgmt)
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	f.member = e.createAccount(t, hostileMgmt, "hostile-member@example.com", tag("team", "web"))
	f.admin = e.createAccount(t, hostileMgmt, "hostile-admin@example.com")
	f.prod = aws.ToString(createOU(t, e, hostileMgmt, o.RootID, "prod").Id)
	f.web = aws.ToString(createOU(t, e, hostileMgmt, f.prod, "web").Id)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := mgmt.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(f.member), SourceParentId: aws.String(o.RootID), DestinationParentId: aws.String(f.prod)})
	must("MoveAccount", err)
	enableType(t, e, o, types.PolicyTypeTagPolicy)
	f.scp = aws.ToString(createPolicy(t, e, hostileMgmt, "deny-s3", types.PolicyTypeServiceControlPolicy, denyS3).Id)
	attach(t, e, hostileMgmt, f.scp, f.prod)
	f.tagPolicy = aws.ToString(createPolicy(t, e, hostileMgmt, "cost-center", types.PolicyTypeTagPolicy, rootTagA).Id)
	attach(t, e, hostileMgmt, f.tagPolicy, o.RootID)
	for _, id := range []string{o.RootID, f.prod, f.scp, f.member} {
		_, err = mgmt.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{tag("owner", "platform")}})
		must("TagResource "+id, err)
	}
	_, err = mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)})
	must("EnableAWSServiceAccess", err)
	registerDA(t, e, hostileMgmt, f.admin)
	_, err = mgmt.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(hostileResourcePolicy(f.admin))})
	must("PutResourcePolicy", err)
	f.handshake = aws.ToString(invite(t, e, hostileMgmt, byID("870000000099"), "join us").Id)

	optIn(t, e, "json", hostileMgmt)
	mustACO(t, e, "json", "AssociateAccounts", hostileMgmt, map[string]any{"accountIds": ids(f.member)})
	f.ruleArn = mustACO(t, e, "json", "CreateAutomationRule", hostileMgmt, ruleIn()).str("ruleArn")
	old := e.Clock.Now().AddDate(0, 0, -40).Format(time.RFC3339)
	vols := seedVolumes(t, e,
		map[string]any{"accountId": f.member, "region": "us-east-1", "volumeType": "gp3", "sizeInGib": 100, "attached": false, "unattachedSince": old},
		map[string]any{"accountId": f.member, "region": "us-east-1", "volumeType": "gp2", "sizeInGib": 500, "attached": true},
	)
	actions := actionsByVolume(mustACO(t, e, "json", "ListRecommendedActions", hostileMgmt, nil))
	del, up := actions[vols[0]+"/SnapshotAndDeleteUnattachedEbsVolume"], actions[vols[1]+"/UpgradeEbsVolumeType"]
	if del == nil || up == nil {
		t.Fatalf("recommended actions: %v", actions)
	}
	f.action, _ = up["recommendedActionId"].(string)
	f.event = mustACO(t, e, "json", "StartAutomationEvent", hostileMgmt, map[string]any{"recommendedActionId": del["recommendedActionId"]}).str("eventId")
	e.settle(t)
	return f
}

func hostileResourcePolicy(reader string) string {
	return `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"` + reader + `"},"Action":"organizations:ListAccounts","Resource":"*"}]}`
}

// validBodies are, per operation, a valid input addressing the fixture: a
// hostile case changes one thing in it, so that each request is one defect
// away from a write that would succeed or a read that would answer.
// Members not named here keep a plausible value (fillTree); paging tokens
// are left out, because no plausible one exists.
func validBodies(f hostileFixture) map[string]map[string]any {
	tags := []any{map[string]any{"Key": "k", "Value": "v"}}
	hs := map[string]any{"HandshakeId": f.handshake}
	rt := map[string]any{"Id": "rt-abcdefgh12"}
	rule := map[string]any{"ruleArn": f.ruleArn, "ruleRevision": int64(1)}
	preview := map[string]any{
		"ruleType": "OrganizationRule", "recommendedActionTypes": []any{"SnapshotAndDeleteUnattachedEbsVolume"},
		"organizationScope": map[string]any{"accountIds": []any{f.member}}, "criteria": ruleIn()["criteria"],
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		m = maps.Clone(m)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	return map[string]map[string]any{
		"organizations.AcceptHandshake":                            hs,
		"organizations.CancelHandshake":                            hs,
		"organizations.DeclineHandshake":                           hs,
		"organizations.DescribeHandshake":                          hs,
		"organizations.AttachPolicy":                               {"PolicyId": f.scp, "TargetId": f.root},
		"organizations.DetachPolicy":                               {"PolicyId": f.scp, "TargetId": f.prod},
		"organizations.CloseAccount":                               {"AccountId": f.member},
		"organizations.RemoveAccountFromOrganization":              {"AccountId": f.member},
		"organizations.DescribeAccount":                            {"AccountId": f.member},
		"organizations.CreateAccount":                              {"Email": "new@example.com", "AccountName": "new", "Tags": tags},
		"organizations.CreateGovCloudAccount":                      {"Email": "new@example.com", "AccountName": "new", "Tags": tags},
		"organizations.CreateOrganizationalUnit":                   {"ParentId": f.root, "Name": "new-ou", "Tags": tags},
		"organizations.CreatePolicy":                               {"Content": denyS3, "Description": "d", "Name": "new", "Type": "SERVICE_CONTROL_POLICY", "Tags": tags},
		"organizations.DeleteOrganizationalUnit":                   {"OrganizationalUnitId": f.web},
		"organizations.UpdateOrganizationalUnit":                   {"OrganizationalUnitId": f.web, "Name": "renamed"},
		"organizations.DescribeOrganizationalUnit":                 {"OrganizationalUnitId": f.prod},
		"organizations.DeletePolicy":                               {"PolicyId": f.scp},
		"organizations.DescribePolicy":                             {"PolicyId": f.scp},
		"organizations.ListTargetsForPolicy":                       {"PolicyId": f.scp},
		"organizations.UpdatePolicy":                               {"PolicyId": f.scp, "Name": "renamed", "Description": "d", "Content": denyS3},
		"organizations.DescribeEffectivePolicy":                    {"PolicyType": "TAG_POLICY", "TargetId": f.member},
		"organizations.RegisterDelegatedAdministrator":             {"AccountId": f.member, "ServicePrincipal": coPrincipal},
		"organizations.DeregisterDelegatedAdministrator":           {"AccountId": f.admin, "ServicePrincipal": coPrincipal},
		"organizations.ListDelegatedServicesForAccount":            {"AccountId": f.admin},
		"organizations.EnableAWSServiceAccess":                     {"ServicePrincipal": "tagpolicies.tag.amazonaws.com"},
		"organizations.DisableAWSServiceAccess":                    {"ServicePrincipal": coPrincipal},
		"organizations.EnablePolicyType":                           {"RootId": f.root, "PolicyType": "BACKUP_POLICY"},
		"organizations.DisablePolicyType":                          {"RootId": f.root, "PolicyType": "TAG_POLICY"},
		"organizations.InviteAccountToOrganization":                {"Target": map[string]any{"Id": "870000000098", "Type": "ACCOUNT"}, "Notes": "n", "Tags": tags},
		"organizations.InviteOrganizationToTransferResponsibility": {"Type": "BILLING", "Target": map[string]any{"Id": "870000000097", "Type": "ACCOUNT"}, "StartTimestamp": time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "SourceName": "src"},
		"organizations.MoveAccount":                                {"AccountId": f.member, "SourceParentId": f.prod, "DestinationParentId": f.root},
		"organizations.PutResourcePolicy":                          {"Content": hostileResourcePolicy(f.member)},
		"organizations.ListDelegatedAdministrators":                {"ServicePrincipal": coPrincipal},
		"organizations.TagResource":                                {"ResourceId": f.member, "Tags": tags},
		"organizations.UntagResource":                              {"ResourceId": f.member, "TagKeys": []any{"owner"}},
		"organizations.ListTagsForResource":                        {"ResourceId": f.member},
		"organizations.ListChildren":                               {"ParentId": f.root, "ChildType": "ACCOUNT"},
		"organizations.ListParents":                                {"ChildId": f.member},
		"organizations.ListAccountsForParent":                      {"ParentId": f.root},
		"organizations.ListOrganizationalUnitsForParent":           {"ParentId": f.root},
		"organizations.ListPoliciesForTarget":                      {"TargetId": f.root, "Filter": "SERVICE_CONTROL_POLICY"},
		"organizations.ListPolicies":                               {"Filter": "SERVICE_CONTROL_POLICY"},
		"organizations.TerminateResponsibilityTransfer":            rt,
		"organizations.DescribeResponsibilityTransfer":             rt,
		"organizations.UpdateResponsibilityTransfer":               with(rt, "Name", "renamed"),
		"organizations.CreateOrganization":                         {"FeatureSet": "ALL"},
		"organizations.DescribeCreateAccountStatus":                {"CreateAccountRequestId": "car-abcdefgh12"},
		"organizations.ListEffectivePolicyValidationErrors":        {"AccountId": f.member, "PolicyType": "TAG_POLICY"},
		"organizations.ListHandshakesForAccount":                   {"Filter": map[string]any{"ActionType": "INVITE"}},
		"organizations.ListHandshakesForOrganization":              {"Filter": map[string]any{"ActionType": "INVITE"}},
		"organizations.ListInboundResponsibilityTransfers":         {"Type": "BILLING"},
		"organizations.ListOutboundResponsibilityTransfers":        {"Type": "BILLING"},
		"automation.ListAutomationRulePreview":                     preview,
		"automation.ListAutomationEventSummaries":                  {"startDateInclusive": "2026-05-01", "endDateExclusive": "2026-05-05"},
		"automation.ListAutomationEvents":                          {"startTimeInclusive": fillTime.AddDate(0, 0, -1), "endTimeExclusive": fillTime.AddDate(0, 0, 1)},
		"automation.ListAutomationRulePreviewSummaries":            preview,
		"automation.AssociateAccounts":                             {"accountIds": []any{f.admin}},
		"automation.DisassociateAccounts":                          {"accountIds": []any{f.member}},
		"automation.CreateAutomationRule":                          ruleIn(),
		"automation.DeleteAutomationRule":                          rule,
		"automation.GetAutomationRule":                             {"ruleArn": f.ruleArn},
		"automation.ListTagsForResource":                           {"resourceArn": f.ruleArn},
		"automation.UpdateAutomationRule":                          with(rule, "name", "renamed", "status", "Inactive"),
		"automation.TagResource":                                   {"resourceArn": f.ruleArn, "ruleRevision": int64(1), "tags": []any{map[string]any{"key": "k", "value": "v"}}},
		"automation.UntagResource":                                 {"resourceArn": f.ruleArn, "ruleRevision": int64(1), "tagKeys": []any{"team"}},
		"automation.UpdateEnrollmentConfiguration":                 {"status": "Inactive"},
		"automation.StartAutomationEvent":                          {"recommendedActionId": f.action},
		"automation.RollbackAutomationEvent":                       {"eventId": f.event},
		"automation.GetAutomationEvent":                            {"eventId": f.event},
		"automation.ListAutomationEventSteps":                      {"eventId": f.event},
	}
}

// validBody is the valid input of an operation (validBodies, or a
// plausible one), checked against the model so that every hostile case
// derived from it differs from a valid request by its one defect.
func validBody(t *testing.T, svc *protocol.Service, op *protocol.Operation, bodies map[string]map[string]any) map[string]any {
	t.Helper()
	body, ok := bodies[svc.Name+"."+op.Name]
	if !ok {
		body = fillTree(reflect.TypeOf(op.NewInput()).Elem()).(map[string]any)
		for _, tok := range []string{"NextToken", "nextToken"} {
			delete(body, tok)
		}
	}
	in := op.NewInput()
	if err := protocol.CodecFor(protocol.AWSJSON11).Decode(appendJSONTree(nil, body), in); err != nil {
		t.Fatalf("the valid body of %s does not decode: %v", op.Name, err)
	}
	if err := in.(protocol.Validator).Validate(); err != nil {
		t.Errorf("the valid body of %s is not valid: %v", op.Name, err)
	}
	return body
}

// check sends one hostile request and judges the answer.
func (h *hostile) check(t *testing.T, tgt hostileTarget, op *protocol.Operation, c hostileCase) {
	t.Helper()
	req := h.request(t, tgt, op, c)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Errorf("%s: no answer (a hang or a dropped connection): %v", c.name, err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Errorf("%s: reading the answer: %v", c.name, err)
		return
	}
	if problem := judge(tgt, op, c.want, resp, body); problem != "" {
		t.Errorf("%s: %s\n  want %v; got HTTP %d %q", c.name, problem, c.want, resp.StatusCode, clipBody(body))
	}
}

func (h *hostile) request(t *testing.T, tgt hostileTarget, op *protocol.Operation, c hostileCase) *http.Request {
	t.Helper()
	var r io.Reader = bytes.NewReader(c.body)
	if c.chunked {
		r = io.MultiReader(r) // hides the length: net/http sends it chunked
	}
	var url string
	header := map[string]string{
		"X-Amz-Date":    time.Now().UTC().Format("20060102T150405Z"),
		"Authorization": signedHeader(hostileMgmt, tgt.svc.SigningName),
	}
	if tgt.proto == protocol.RPCv2CBOR {
		url = h.e.URL + "/service/" + tgt.svc.TargetPrefix + "/operation/" + op.Name
		header["Smithy-Protocol"] = protocol.SmithyProtocolCBOR
		header["Accept"] = protocol.MediaTypeCBOR
		if len(c.body) > 0 {
			header["Content-Type"] = protocol.MediaTypeCBOR
		}
	} else {
		url = h.e.URL + "/"
		header["X-Amz-Target"] = tgt.svc.TargetPrefix + "." + op.Name
		header["Content-Type"] = "application/x-amz-json-" + tgt.svc.JSONVersion
	}
	maps.Copy(header, c.header)
	req, err := http.NewRequest(http.MethodPost, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return req
}

// judge returns what is wrong with an answer, or "".
func judge(tgt hostileTarget, op *protocol.Operation, want expectation, resp *http.Response, body []byte) string {
	if resp.StatusCode >= 500 {
		return "a server error"
	}
	if resp.StatusCode < 400 {
		return "accepted"
	}
	if resp.Header.Get(protocol.RequestIDHeader) == "" {
		return "no request id"
	}
	// The error shape: the protocol an error is answered in is the
	// request's, or for a request that named no protocol the one its
	// headers suggest; either way the answer must say which it is.
	var (
		doc        map[string]any
		messageKey = "message"
	)
	if resp.Header.Get(protocol.SmithyProtocolHeader) == protocol.SmithyProtocolCBOR {
		if tgt.proto != protocol.RPCv2CBOR {
			return "a CBOR answer to an awsJson request"
		}
		if ct := resp.Header.Get("Content-Type"); ct != protocol.MediaTypeCBOR {
			return "CBOR error with Content-Type " + ct
		}
		v, err := smithycbor.Decode(body)
		if err != nil {
			return "the error body is not CBOR: " + err.Error()
		}
		doc = plainValue(v)
	} else {
		if tgt.proto == protocol.RPCv2CBOR {
			return "an answer to an RPC v2 CBOR request without Smithy-Protocol: rpc-v2-cbor"
		}
		switch ct := resp.Header.Get("Content-Type"); ct {
		case protocol.MediaTypeJSON11:
			messageKey = "Message"
		case protocol.MediaTypeJSON10:
		default:
			return "JSON error with Content-Type " + ct
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return "the error body is not a JSON object: " + err.Error()
		}
	}
	typ, _ := doc["__type"].(string)
	if typ == "" {
		return "no __type"
	}
	if msg, _ := doc[messageKey].(string); msg == "" {
		return "no " + messageKey
	}
	if et := resp.Header.Get(protocol.ErrorTypeHeader); et != "" && et != typ {
		return fmt.Sprintf("X-Amzn-ErrorType %q differs from __type %q", et, typ)
	}
	code := typ
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		if ns := typ[:i]; ns != tgt.svc.Namespace {
			return "__type in namespace " + ns
		}
		code = typ[i+1:]
	}
	ok := false
	switch want {
	case wantSerialization:
		ok = resp.StatusCode == 400 && code == protocol.CodeSerialization
	case wantValidation:
		ok = resp.StatusCode == 400 && code == tgt.validation && slices.Contains(op.Errors, code)
	case wantTooLarge:
		ok = resp.StatusCode == 413 && code == "RequestEntityTooLargeException"
	case wantMediaType:
		ok = resp.StatusCode == 415 && code == protocol.CodeUnsupportedMediaType ||
			resp.StatusCode == 400 && code == protocol.CodeUnknownOperation
	}
	if !ok {
		return "the wrong error"
	}
	return ""
}

func plainValue(v smithycbor.Value) map[string]any {
	m, ok := v.(smithycbor.Map)
	if !ok {
		return nil
	}
	out := map[string]any{}
	for k, x := range m {
		if s, ok := x.(smithycbor.String); ok {
			out[k] = string(s)
		} else {
			out[k] = x
		}
	}
	return out
}

func clipBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// bucketRecorder wraps a store and remembers every bucket a transaction
// touched, so that a test can snapshot the whole state without knowing the
// domains' buckets.
type bucketRecorder struct {
	store.Store
	mu      sync.Mutex
	buckets map[string]bool
}

func (r *bucketRecorder) wrap(st store.Store) store.Store {
	r.Store, r.buckets = st, map[string]bool{}
	return r
}

func (r *bucketRecorder) saw(bucket string) {
	r.mu.Lock()
	r.buckets[bucket] = true
	r.mu.Unlock()
}

func (r *bucketRecorder) Read(ctx context.Context, fn func(store.Tx) error) error {
	return r.Store.Read(ctx, func(tx store.Tx) error { return fn(recordingTx{tx, r}) })
}

func (r *bucketRecorder) Write(ctx context.Context, fn func(store.Tx) error) error {
	return r.Store.Write(ctx, func(tx store.Tx) error { return fn(recordingTx{tx, r}) })
}

// snapshot reads every key of every bucket seen so far. A bucket first
// written after a snapshot was empty at the snapshot: every write passes
// through the recorder.
func (r *bucketRecorder) snapshot(t *testing.T) map[string]string {
	t.Helper()
	r.mu.Lock()
	buckets := slices.Sorted(maps.Keys(r.buckets))
	r.mu.Unlock()
	state := map[string]string{}
	err := r.Store.Read(context.Background(), func(tx store.Tx) error {
		for _, b := range buckets {
			if err := tx.Scan(b, "", "", 0, func(k string, v []byte) error {
				state[b+" "+k] = string(v)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return state
}

// diffState describes how two snapshots differ, "" when they do not.
func diffState(before, after map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(after)) {
		old, ok := before[k]
		switch {
		case !ok:
			fmt.Fprintf(&b, "  added   %s = %.200s\n", k, after[k])
		case old != after[k]:
			fmt.Fprintf(&b, "  changed %s: %.200s\n       -> %.200s\n", k, old, after[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[k]; !ok {
			fmt.Fprintf(&b, "  removed %s\n", k)
		}
	}
	return b.String()
}

type recordingTx struct {
	store.Tx
	r *bucketRecorder
}

func (tx recordingTx) Get(b, k string) ([]byte, error) { tx.r.saw(b); return tx.Tx.Get(b, k) }
func (tx recordingTx) Put(b, k string, v []byte) error { tx.r.saw(b); return tx.Tx.Put(b, k, v) }
func (tx recordingTx) Create(b, k string, v []byte) error {
	tx.r.saw(b)
	return tx.Tx.Create(b, k, v)
}
func (tx recordingTx) Delete(b, k string) error { tx.r.saw(b); return tx.Tx.Delete(b, k) }
func (tx recordingTx) Scan(b, prefix, after string, limit int, fn func(string, []byte) error) error {
	tx.r.saw(b)
	return tx.Tx.Scan(b, prefix, after, limit, fn)
}
func (tx recordingTx) Count(b, prefix string) (int, error) {
	tx.r.saw(b)
	return tx.Tx.Count(b, prefix)
}
func (tx recordingTx) DeletePrefix(b, prefix string) (int, error) {
	tx.r.saw(b)
	return tx.Tx.DeletePrefix(b, prefix)
}
