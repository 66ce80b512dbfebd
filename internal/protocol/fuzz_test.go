package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"
)

// The fuzz targets assert what the server relies on: decoding never panics,
// every failure is a client-fault APIError with a 4xx status, and whatever
// decodes re-encodes to a fixed point. Seed corpora live in
// testdata/fuzz/<FuzzName>/; run e.g.
//
//	go test -run '^$' -fuzz FuzzDecodeJSON -fuzztime 30s ./internal/protocol

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var apiErr APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not an APIError", err, err)
	}
	if st := apiErr.HTTPStatus(); st < 400 || st > 499 || apiErr.ErrorFault() != FaultClient {
		t.Fatalf("error %v has status %d, fault %v", err, st, apiErr.ErrorFault())
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"Name":"n","Tags":[{"Key":"k"}],"Details":{"nested":{"text":"t"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in testInput
		err := decodeJSON(body, &in)
		checkDecodeError(t, err)
		// Differential check against encoding/json's grammar: we accept
		// only valid JSON (or an empty body), and call nothing valid
		// "invalid JSON".
		valid := json.Valid(body)
		if err == nil && !valid && len(bytes.TrimSpace(body)) > 0 {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if err != nil && valid && strings.Contains(err.Error(), "invalid JSON") {
			t.Fatalf("rejected valid JSON %q: %v", body, err)
		}
		if err != nil {
			return
		}
		v, s, _, _ := outputOf(&in)
		out := appendJSONStruct(nil, s, v)
		if !json.Valid(out) {
			t.Fatalf("encoded invalid JSON %q", out)
		}
		var again testInput
		if err := decodeJSON(out, &again); err != nil {
			t.Fatalf("our own output %q does not decode: %v", out, err)
		}
		v2, _, _, _ := outputOf(&again)
		if out2 := appendJSONStruct(nil, s, v2); !bytes.Equal(out, out2) {
			t.Fatalf("not a fixed point:\n%s\n%s", out, out2)
		}
	})
}

func FuzzDecodeCBOR(f *testing.F) {
	f.Add(b64("v2lieXRlVmFsdWUFa2RvdWJsZVZhbHVl+z/+OVgQYk3TcWZhbHNlQm9vbGVhblZhbHVl9GpmbG9hdFZhbHVl+kD0AABrZXh0cmFPYmplY3S/c2luZGVmaW5pdGVMZW5ndGhNYXC/a3dpdGhBbkFycmF5nwECA///cWRlZmluaXRlTGVuZ3RoTWFwo3J3aXRoQURlZmluaXRlQXJyYXmDAQIDeB1hbmRTb21lSW5kZWZpbml0ZUxlbmd0aFN0cmluZ3gfdGhhdCBoYXMsIGJlZW4gY2h1bmtlZCBvbiBjb21tYWxub3JtYWxTdHJpbmdjZm9vanNob3J0VmFsdWUZJw9uc29tZU90aGVyRmllbGR2dGhpcyBzaG91bGQgYmUgc2tpcHBlZP9saW50ZWdlclZhbHVlGQEAaWxvbmdWYWx1ZRkmkWpzaG9ydFZhbHVlGSaqa3N0cmluZ1ZhbHVlZnNpbXBsZXB0cnVlQm9vbGVhblZhbHVl9WlibG9iVmFsdWVDZm9v/w=="))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in testInput
		err := decodeCBOR(body, &in)
		checkDecodeError(t, err)
		if err != nil {
			return
		}
		v, s, _, _ := outputOf(&in)
		out, err := cborEncMode.Marshal(cborStruct(s, v))
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		// The Go SDK's decoder must read whatever we write.
		if _, err := smithycbor.Decode(out); err != nil {
			t.Fatalf("smithy-go cannot decode our output %x: %v", out, err)
		}
		var again testInput
		if err := decodeCBOR(out, &again); err != nil {
			t.Fatalf("our own output %x does not decode: %v", out, err)
		}
		v2, _, _, _ := outputOf(&again)
		out2, err := cborEncMode.Marshal(cborStruct(s, v2))
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("not a fixed point:\n%x\n%x (%v)", out, out2, err)
		}
	})
}
