package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"
)

// rawCall is a request encoded by hand, independently of orgstack's codecs.
type rawCall struct {
	status int
	header http.Header
	body   []byte
}

// signedHeader is a syntactically valid SigV4 Authorization header for the
// given access key; --auth open parses it without checking the signature.
func signedHeader(accessKey, service string) string {
	date := time.Now().UTC().Format("20060102")
	return "AWS4-HMAC-SHA256 Credential=" + accessKey + "/" + date + "/us-east-1/" + service +
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64)
}

func (e *env) do(t testing.TB, method, path string, header map[string]string, body []byte) rawCall {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawCall{status: resp.StatusCode, header: resp.Header, body: b}
}

// jsonCall sends an awsJson request with a literal body.
func (e *env) jsonCall(t testing.TB, version, target, account, body string) rawCall {
	t.Helper()
	service := "organizations"
	if version == "1.0" {
		service = "aco-automation"
	}
	return e.do(t, http.MethodPost, "/", map[string]string{
		"Content-Type":  "application/x-amz-json-" + version,
		"X-Amz-Target":  target,
		"Authorization": signedHeader(account, service),
	}, []byte(body))
}

// cborCall sends an RPC v2 CBOR request whose body smithy-go encoded.
func (e *env) cborCall(t *testing.T, operation, account string, body smithycbor.Value) rawCall {
	t.Helper()
	h := map[string]string{
		"Smithy-Protocol": "rpc-v2-cbor",
		"Accept":          "application/cbor",
		"Authorization":   signedHeader(account, "aco-automation"),
	}
	var payload []byte
	if body != nil {
		h["Content-Type"] = "application/cbor"
		payload = smithycbor.Encode(body)
	}
	return e.do(t, http.MethodPost, "/service/ComputeOptimizerAutomationService/operation/"+operation, h, payload)
}

// decodeJSONBody decodes a JSON response into a generic map.
func decodeJSONBody(t *testing.T, c rawCall) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %q", err, c.body)
	}
	return m
}

// decodeCBORBody decodes a CBOR response with smithy-go into plain Go
// values (strings, float64 numbers, time.Time for tag 1), so that it can be
// compared with a JSON response.
func decodeCBORBody(t *testing.T, c rawCall) map[string]any {
	t.Helper()
	v, err := smithycbor.Decode(c.body)
	if err != nil {
		t.Fatalf("response is not CBOR: %v: %x", err, c.body)
	}
	m, ok := plain(t, v).(map[string]any)
	if !ok {
		t.Fatalf("response is not a CBOR map: %x", c.body)
	}
	return m
}

func plain(t *testing.T, v smithycbor.Value) any {
	switch v := v.(type) {
	case smithycbor.Map:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = plain(t, x)
		}
		return m
	case smithycbor.List:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = plain(t, x)
		}
		return l
	case smithycbor.String:
		return string(v)
	case smithycbor.Bool:
		return bool(v)
	case smithycbor.Uint:
		return float64(v)
	case smithycbor.NegInt:
		return -float64(v)
	case smithycbor.Float64:
		return float64(v)
	case smithycbor.Float32:
		return float64(v)
	case *smithycbor.Tag:
		tm, err := smithycbor.AsTime(v)
		if err != nil {
			t.Fatalf("tag %d is not a timestamp: %v", v.ID, err)
		}
		return tm
	}
	t.Fatalf("unexpected CBOR value %T", v)
	return nil
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
