package e2e

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"
)

const acoNamespace = "com.amazonaws.computeoptimizerautomation#"

// protocolClient calls an Automation operation over one wire protocol and
// returns the decoded body as plain Go values.
type protocolClient struct {
	name string
	call func(t *testing.T, e *env, op, account string, in map[string]any) (rawCall, map[string]any)
}

var acoProtocols = []protocolClient{
	{"awsJson1_0", func(t *testing.T, e *env, op, account string, in map[string]any) (rawCall, map[string]any) {
		body := "{}"
		if len(in) > 0 {
			b, err := jsonMarshal(in)
			if err != nil {
				t.Fatal(err)
			}
			body = b
		}
		c := e.jsonCall(t, "1.0", "ComputeOptimizerAutomationService."+op, account, body)
		if got := c.header.Get("Content-Type"); got != "application/x-amz-json-1.0" {
			t.Errorf("%s: Content-Type = %q", op, got)
		}
		m := decodeJSONBody(t, c)
		// awsJson timestamps are epoch seconds; make them comparable with CBOR's.
		if ts, ok := m["lastUpdatedTimestamp"].(float64); ok {
			m["lastUpdatedTimestamp"] = time.UnixMilli(int64(ts * 1000)).UTC()
		}
		return c, m
	}},
	{"rpcv2Cbor", func(t *testing.T, e *env, op, account string, in map[string]any) (rawCall, map[string]any) {
		var body smithycbor.Value
		if in != nil {
			m := smithycbor.Map{}
			for k, v := range in {
				m[k] = smithycbor.String(v.(string))
			}
			body = m
		}
		c := e.cborCall(t, op, account, body)
		if got := c.header.Get("Smithy-Protocol"); got != "rpc-v2-cbor" {
			t.Errorf("%s: Smithy-Protocol = %q, want rpc-v2-cbor on every response", op, got)
		}
		m := decodeCBORBody(t, c)
		if ts, ok := m["lastUpdatedTimestamp"].(time.Time); ok {
			m["lastUpdatedTimestamp"] = ts.UTC()
		}
		return c, m
	}},
}

func TestEnrollmentOverBothProtocols(t *testing.T) {
	t.Parallel()
	for _, p := range acoProtocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			const acct = "333333333333"
			c, got := p.call(t, e, "GetEnrollmentConfiguration", acct, nil)
			if c.status != http.StatusOK || !reflect.DeepEqual(got, map[string]any{"status": "Inactive"}) {
				t.Fatalf("fresh account: %d %v, want 200 {status: Inactive}", c.status, got)
			}
			c, got = p.call(t, e, "UpdateEnrollmentConfiguration", acct, map[string]any{"status": "Active", "clientToken": "token-1"})
			if c.status != http.StatusOK || got["status"] != "Active" {
				t.Fatalf("opt in: %d %v", c.status, got)
			}
			updated, ok := got["lastUpdatedTimestamp"].(time.Time)
			if !ok || time.Since(updated) > time.Minute {
				t.Fatalf("lastUpdatedTimestamp = %v", got["lastUpdatedTimestamp"])
			}
			if c.header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId")
			}
			_, got = p.call(t, e, "GetEnrollmentConfiguration", acct, nil)
			if got["status"] != "Active" || !got["lastUpdatedTimestamp"].(time.Time).Equal(updated) {
				t.Fatalf("after opt in: %v", got)
			}
		})
	}
}

// TestProtocolsAnswerIdentically writes with one protocol and reads with
// the other: both must see the same state, and say it the same way.
func TestProtocolsAnswerIdentically(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const acct = "444444444444"
	json, cbor := acoProtocols[0], acoProtocols[1]
	if _, got := json.call(t, e, "UpdateEnrollmentConfiguration", acct, map[string]any{"status": "Active"}); got["status"] != "Active" {
		t.Fatalf("opt in over JSON: %v", got)
	}
	_, viaJSON := json.call(t, e, "GetEnrollmentConfiguration", acct, nil)
	_, viaCBOR := cbor.call(t, e, "GetEnrollmentConfiguration", acct, map[string]any{})
	if !reflect.DeepEqual(viaJSON, viaCBOR) {
		t.Fatalf("the protocols disagree:\n json: %v\n cbor: %v", viaJSON, viaCBOR)
	}
}

func TestEnrollmentErrorsOverBothProtocols(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		input  map[string]any
		status int
		code   string
	}{
		{"pending cannot be requested", map[string]any{"status": "Pending"}, 400, "InvalidParameterValueException"},
		{"failed cannot be requested", map[string]any{"status": "Failed"}, 400, "InvalidParameterValueException"},
		{"status is required", map[string]any{"clientToken": "abc"}, 400, "InvalidParameterValueException"},
		{"unknown status", map[string]any{"status": "Sometimes"}, 400, "InvalidParameterValueException"},
		{"client token pattern", map[string]any{"status": "Active", "clientToken": "no spaces allowed"}, 400, "InvalidParameterValueException"},
	}
	for _, p := range acoProtocols {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				c, got := p.call(t, e, "UpdateEnrollmentConfiguration", "555555555555", tt.input)
				if c.status != tt.status || got["__type"] != acoNamespace+tt.code {
					t.Fatalf("got %d %v, want %d %s", c.status, got, tt.status, tt.code)
				}
				if msg, _ := got["message"].(string); msg == "" {
					t.Errorf("no message member in %v", got)
				}
				if c.header.Get("X-Amzn-Requestid") == "" {
					t.Error("no x-amzn-RequestId on the error")
				}
				// Nothing changed.
				if _, after := p.call(t, e, "GetEnrollmentConfiguration", "555555555555", nil); after["status"] != "Inactive" {
					t.Errorf("a refused update changed the enrollment: %v", after)
				}
			})
		}
	}
}

func TestOptInAgainWaitsADayOnTheOrgstackClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Clock.Set(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC))
	p := acoProtocols[1]
	const acct = "666666666666"
	for _, status := range []string{"Active", "Inactive"} {
		if c, got := p.call(t, e, "UpdateEnrollmentConfiguration", acct, map[string]any{"status": status}); c.status != 200 {
			t.Fatalf("%s: %d %v", status, c.status, got)
		}
	}
	e.Clock.Set(time.Date(2026, 1, 11, 8, 59, 0, 0, time.UTC))
	if c, got := p.call(t, e, "UpdateEnrollmentConfiguration", acct, map[string]any{"status": "Active"}); c.status != 400 {
		t.Fatalf("opt in 23h59m after opting out: %d %v, want a refusal", c.status, got)
	}
	e.Clock.Set(time.Date(2026, 1, 11, 9, 0, 0, 0, time.UTC))
	c, got := p.call(t, e, "UpdateEnrollmentConfiguration", acct, map[string]any{"status": "Active"})
	if c.status != 200 || !got["lastUpdatedTimestamp"].(time.Time).Equal(time.Date(2026, 1, 11, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("opt in 24h after opting out: %d %v", c.status, got)
	}
}

func TestAutomationUnknownOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.cborCall(t, "FrobnicateVolumes", "777777777777", smithycbor.Map{})
	if got := decodeCBORBody(t, c); c.status != 400 || got["__type"] != acoNamespace+"UnknownOperationException" {
		t.Errorf("unknown CBOR operation: %d %v", c.status, got)
	}
	if c.header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		t.Error("the CBOR error lacks Smithy-Protocol")
	}
}
