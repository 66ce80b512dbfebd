package e2e

import (
	"bytes"
	"strings"
	"testing"
)

// TestBadRequestsGetAWSErrors sends malformed and misrouted requests: each
// gets a 4xx with the error AWS front ends answer, a request id, and no
// change of state.
func TestBadRequestsGetAWSErrors(t *testing.T) {
	t.Parallel()
	const target = "AWSOrganizationsV20161128."
	auth := signedHeader(mgmtAccount, "organizations")
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		body   string
		status int
		code   string
	}{
		{"unknown operation", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + "CreateGalaxy"}, "{}", 400, "UnknownOperationException"},
		{"unknown service", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "DynamoDB_20120810.ListTables"}, "{}", 400, "UnknownOperationException"},
		{"no target", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1"}, "{}", 400, "UnknownOperationException"},
		{"malformed JSON", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + "CreateOrganization"}, `{"FeatureSet": `, 400, "SerializationException"},
		{"not an object", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + "CreateOrganization"}, `["ALL"]`, 400, "SerializationException"},
		{"wrong member type", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + "CreateOrganization"}, `{"FeatureSet": 5}`, 400, "SerializationException"},
		{"invalid enum", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + "CreateOrganization"}, `{"FeatureSet": "MOST"}`, 400, "InvalidInputException"},
		{"wrong JSON version", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target + "CreateOrganization"}, `{}`, 400, "UnknownOperationException"},
		{"wrong method", "GET", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + "CreateOrganization"}, "", 405, "MethodNotAllowedException"},
		{"wrong content type", "POST", "/", map[string]string{"Content-Type": "text/plain", "X-Amz-Target": target + "CreateOrganization"}, "{}", 415, "UnsupportedMediaTypeException"},
		{"body too large", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + "CreateOrganization"}, `{"x":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "RequestEntityTooLargeException"},
		{"incomplete signature", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target + "CreateOrganization", "Authorization": "AWS4-HMAC-SHA256 SignedHeaders=host"}, "{}", 400, "IncompleteSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			h := map[string]string{"Authorization": auth}
			for k, v := range tt.header {
				h[k] = v
			}
			c := e.do(t, tt.method, tt.path, h, []byte(tt.body))
			if c.status != tt.status {
				t.Errorf("status = %d, want %d (body %s)", c.status, tt.status, c.body)
			}
			if c.status >= 500 {
				t.Errorf("bad input got a server error")
			}
			if c.header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId")
			}
			if got := decodeJSONBody(t, c)["__type"]; got != tt.code {
				t.Errorf("__type = %v, want %s", got, tt.code)
			}
			if got := c.header.Get("X-Amzn-Errortype"); got != tt.code {
				t.Errorf("X-Amzn-ErrorType = %q, want %s", got, tt.code)
			}
			// Nothing was created by the bad request.
			d := e.jsonCall(t, "1.1", target+"DescribeOrganization", mgmtAccount, "")
			if got := decodeJSONBody(t, d)["__type"]; got != "AWSOrganizationsNotInUseException" {
				t.Errorf("after the bad request DescribeOrganization answered %v", got)
			}
		})
	}
}

func TestEmptyBodyIsAnEmptyInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.CreateOrganization", mgmtAccount, "")
	if c.status != 200 {
		t.Fatalf("CreateOrganization with an empty body: %d %s", c.status, c.body)
	}
	org := decodeJSONBody(t, c)["Organization"].(map[string]any)
	if org["FeatureSet"] != "ALL" {
		t.Errorf("FeatureSet = %v", org["FeatureSet"])
	}
}

func TestUnsignedRequestIsTheDefaultAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.do(t, "POST", "/", map[string]string{
		"Content-Type": "application/x-amz-json-1.1",
		"X-Amz-Target": "AWSOrganizationsV20161128.CreateOrganization",
	}, []byte("{}"))
	if c.status != 200 {
		t.Fatalf("unsigned CreateOrganization: %d %s", c.status, c.body)
	}
	org := decodeJSONBody(t, c)["Organization"].(map[string]any)
	if org["MasterAccountId"] != "000000000000" {
		t.Errorf("MasterAccountId = %v, want the default account", org["MasterAccountId"])
	}
}

func TestMetricsCountRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", mgmtAccount, "{}")
	c := e.do(t, "GET", "/metrics", nil, nil)
	want := `orgstack_requests_total{operation="DescribeOrganization",service="organizations",status="400"} 1`
	if c.status != 200 || !bytes.Contains(c.body, []byte(want)) {
		t.Fatalf("metrics lack %s:\n%s", want, c.body)
	}
	if !bytes.Contains(c.body, []byte("orgstack_request_duration_seconds_bucket")) {
		t.Error("metrics lack the latency histogram")
	}
}
