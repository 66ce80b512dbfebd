package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/<name>, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// renderResponse prints a response for review: status, headers in sorted
// order, then the body as text (JSON) or as hex plus diagnostic notation
// (CBOR).
func renderResponse(t *testing.T, rec *httptest.ResponseRecorder) []byte {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP %d\n", rec.Code)
	h := rec.Header()
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(h[k], ", "))
	}
	b.WriteString("\n")
	body := rec.Body.Bytes()
	if h.Get("Content-Type") == MediaTypeCBOR {
		diag, err := cbor.Diagnose(body)
		if err != nil {
			t.Fatalf("body is not valid CBOR: %v", err)
		}
		fmt.Fprintf(&b, "hex:  %s\ndiag: %s\n", hex.EncodeToString(body), diag)
	} else {
		b.Write(body)
		b.WriteString("\n")
	}
	return b.Bytes()
}

func fullAutomationValue() *testInput {
	return &testInput{
		Name: ptr("rule \"one\"\n"), Enabled: ptr(true), Count: ptr[int32](-3), Total: ptr[int64](1 << 40), Ratio: ptr(0.125),
		When: ptr(mustTime("2025-09-22T10:11:12.345Z")), Status: ptr(statusActive),
		Statuses: []testStatus{statusActive, statusPending}, Tags: []testTag{}, Matrix: [][]string{{"a", "b"}, {}},
		Details: &testDetails{
			Volume: &testVolume{VolumeID: ptr("vol-0123456789abcdef0"), SizeGiB: ptr[int32](100), Cost: ptr(8.0)},
			Scores: []float64{math.NaN(), -1e-7, 1e21},
			Times:  []time.Time{mustTime("1970-01-01T00:00:00Z"), mustTime("1969-12-31T23:59:59.999Z")},
		},
	}
}

func TestGoldenResponses(t *testing.T) {
	t.Parallel()
	protocolErrors := []errCase{
		{"serialization_error", nil, &SerializationError{Path: "Tags[0].Key", Reason: "expected a string, found a number"}},
		{"unknown_operation", nil, &UnknownOperationError{Service: "AWSOrganizationsV20161128", Operation: "Frobnicate"}},
		{"method_not_allowed", nil, &MethodNotAllowedError{Method: "GET"}},
		{"unsupported_media_type", nil, &UnsupportedMediaTypeError{MediaType: "application/json", Want: MediaTypeJSON11}},
		{"not_implemented", nil, &NotImplementedError{Service: "organizations", Operation: "CloseAccount"}},
	}
	tests := []struct {
		dir    string
		p      Protocol
		svc    *Service
		output []outCase
		errs   []errCase
	}{
		{dir: "awsjson11", p: AWSJSON11, svc: testOrgs,
			output: []outCase{
				{"describe_organization", sampleOrganization()},
				{"unit_output", nil},
				{"empty_output", &testEmpty{}},
			},
			errs: append([]errCase{
				{"invalid_input", testOrgs, &testInvalidInput{Message: ptr("You provided a value that does not match the required pattern."), Reason: ptr("INVALID_PATTERN")}},
				{"invalid_input_without_reason", testOrgs, &testInvalidInput{Message: ptr("m")}},
				{"too_deep", testOrgs, decodeFailure(AWSJSON11, tooDeepJSON)},
				{"invalid_utf8", testOrgs, decodeFailure(AWSJSON11, []byte("{\"Name\":\"\xff\"}"))},
			}, protocolErrors...)},
		{dir: "awsjson10", p: AWSJSON10, svc: testCAO,
			output: []outCase{
				{"full_value", fullAutomationValue()},
				{"unit_output", nil},
			},
			errs: append([]errCase{
				{"resource_not_found", testCAO, &testResourceNotFound{Message: ptr("The rule does not exist.")}},
				{"throttling", testCAO, &testThrottling{Message: ptr("Rate exceeded")}},
				{"resource_not_found_no_service", nil, &testResourceNotFound{Message: ptr("m")}},
				{"too_deep", testCAO, decodeFailure(AWSJSON10, tooDeepJSON)},
			}, withService(protocolErrors, testCAO)...)},
		{dir: "rpcv2cbor", p: RPCv2CBOR, svc: testCAO,
			output: []outCase{
				{"full_value", fullAutomationValue()},
				{"unit_output", nil},
				{"empty_output", &testEmpty{}},
			},
			errs: append([]errCase{
				{"resource_not_found", testCAO, &testResourceNotFound{Message: ptr("The rule does not exist.")}},
				{"throttling", testCAO, &testThrottling{Message: ptr("Rate exceeded")}},
				{"too_deep", testCAO, decodeFailure(RPCv2CBOR, tooDeepCBOR)},
				{"invalid_utf8", testCAO, decodeFailure(RPCv2CBOR, []byte{0xa1, 0x64, 'N', 'a', 'm', 'e', 0x61, 0xff})},
			}, withService(protocolErrors, testCAO)...)},
	}
	for _, tt := range tests {
		codec := CodecFor(tt.p)
		for _, o := range tt.output {
			t.Run(tt.dir+"/"+o.name, func(t *testing.T) {
				t.Parallel()
				rec := httptest.NewRecorder()
				if err := codec.WriteOutput(rec, "req-0001", o.v); err != nil {
					t.Fatal(err)
				}
				checkCommon(t, tt.p, rec)
				golden(t, filepath.Join(tt.dir, o.name+".golden"), renderResponse(t, rec))
			})
		}
		for _, e := range tt.errs {
			t.Run(tt.dir+"/"+e.name, func(t *testing.T) {
				t.Parallel()
				rec := httptest.NewRecorder()
				if err := codec.WriteError(rec, "req-0002", e.svc, e.err); err != nil {
					t.Fatal(err)
				}
				checkCommon(t, tt.p, rec)
				checkError(t, tt.p, e.svc, e.err, rec)
				golden(t, filepath.Join(tt.dir, "error_"+e.name+".golden"), renderResponse(t, rec))
			})
		}
	}
}

// 10,000 nested lists in an unknown member, as a hostile client sends them.
var (
	tooDeepJSON = []byte(`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`)
	tooDeepCBOR = append([]byte{0xa1, 0x61, 'x'}, append(bytes.Repeat([]byte{0x81}, 10000), 0x80)...)
)

// decodeFailure is the error the codec of p answers body with; the body
// must be one it refuses.
func decodeFailure(p Protocol, body []byte) APIError {
	err := CodecFor(p).Decode(body, &testInput{})
	var apiErr APIError
	if !errors.As(err, &apiErr) {
		panic(fmt.Sprintf("decoding %q in %v: %v, want an APIError", body, p, err))
	}
	return apiErr
}

type outCase struct {
	name string
	v    any
}

type errCase struct {
	name string
	svc  *Service
	err  APIError
}

// withService answers the protocol errors as if the request had been
// identified as addressing svc.
func withService(cases []errCase, svc *Service) []errCase {
	out := slices.Clone(cases)
	for i := range out {
		out[i].svc = svc
	}
	return out
}

// checkCommon asserts the rules every response of a protocol obeys.
func checkCommon(t *testing.T, p Protocol, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	if h.Get("X-Amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId")
	}
	if h.Get("Content-Length") != fmt.Sprint(rec.Body.Len()) {
		t.Errorf("Content-Length %q for %d bytes", h.Get("Content-Length"), rec.Body.Len())
	}
	switch p {
	case RPCv2CBOR:
		if h.Get("Smithy-Protocol") != "rpc-v2-cbor" {
			t.Error("no Smithy-Protocol: rpc-v2-cbor")
		}
		if h.Get("X-Amzn-Errortype") != "" {
			t.Error("X-Amzn-ErrorType on a CBOR response")
		}
	default:
		if h.Get("Content-Type") != p.ContentType() {
			t.Errorf("Content-Type %q", h.Get("Content-Type"))
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Errorf("invalid JSON: %s", rec.Body.Bytes())
		}
	}
}

// checkError asserts the error rules: status from the error, __type in the
// protocol's form, the same value in X-Amzn-ErrorType for JSON, a message
// member under the protocol's spelling, and never a top-level code.
func checkError(t *testing.T, p Protocol, svc *Service, apiErr APIError, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != apiErr.HTTPStatus() {
		t.Errorf("status %d, want %d", rec.Code, apiErr.HTTPStatus())
	}
	var body map[string]any
	if p == RPCv2CBOR {
		if err := cbor.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
	} else if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	wantType := apiErr.ErrorCode()
	if p != AWSJSON11 && svc != nil {
		wantType = svc.Namespace + "#" + apiErr.ErrorCode()
	}
	if body["__type"] != wantType {
		t.Errorf("__type %v, want %s", body["__type"], wantType)
	}
	if p != RPCv2CBOR && rec.Header().Get("X-Amzn-Errortype") != wantType {
		t.Errorf("X-Amzn-ErrorType %q, want %q", rec.Header().Get("X-Amzn-Errortype"), wantType)
	}
	for k := range body {
		if strings.EqualFold(k, "code") {
			t.Errorf("top-level %q key", k)
		}
	}
	msgKey := "message"
	if p == AWSJSON11 {
		msgKey = "Message"
	}
	if msg := apiErr.ErrorMessage(); msg != "" && body[msgKey] != msg {
		t.Errorf("%s = %v, want %q", msgKey, body[msgKey], msg)
	}
}

func TestWriteErrorInvalidStatus(t *testing.T) {
	t.Parallel()
	for _, p := range []Protocol{AWSJSON10, AWSJSON11, RPCv2CBOR} {
		rec := httptest.NewRecorder()
		if err := CodecFor(p).WriteError(rec, "", nil, badStatusError{}); err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("%v: status %d", p, rec.Code)
		}
		if rec.Header().Get("X-Amzn-Requestid") != "" {
			t.Errorf("%v: empty request id written", p)
		}
	}
}

// badStatusError is an unmodelled error value type (not a pointer, no
// members) with an invalid status.
type badStatusError struct{}

func (badStatusError) Error() string        { return "bad" }
func (badStatusError) ErrorCode() string    { return "Bad" }
func (badStatusError) ErrorMessage() string { return "" }
func (badStatusError) ErrorFault() Fault    { return FaultServer }
func (badStatusError) HTTPStatus() int      { return 0 }

func TestWriteOutputRejectsNonStructs(t *testing.T) {
	t.Parallel()
	for _, p := range []Protocol{AWSJSON10, AWSJSON11, RPCv2CBOR} {
		for _, out := range []any{42, ptr("x"), []testTag{}, &struct {
			M map[string]string `json:"M"`
		}{}} {
			rec := httptest.NewRecorder()
			if err := CodecFor(p).WriteOutput(rec, "id", out); err == nil {
				t.Errorf("%v: WriteOutput(%T) succeeded", p, out)
			}
			if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
				t.Errorf("%v: WriteOutput(%T) wrote something", p, out)
			}
		}
	}
}
