package protocol

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIdentify(t *testing.T) {
	t.Parallel()
	const (
		cao     = "ComputeOptimizerAutomationService"
		caoPath = "/service/" + cao + "/operation/GetAutomationRule"
		orgs    = "AWSOrganizationsV20161128"
	)
	type hdr = map[string]string
	tests := []struct {
		name    string
		method  string
		path    string
		headers hdr
		body    string
		want    Request
		code    string // expected error code, or "" for success
		status  int
	}{
		{name: "organizations awsJson 1.1", path: "/", body: "{}",
			headers: hdr{"Content-Type": MediaTypeJSON11, "X-Amz-Target": orgs + ".DescribeOrganization"},
			want:    Request{AWSJSON11, orgs, "DescribeOrganization"}},
		{name: "content type parameters tolerated", path: "/",
			headers: hdr{"Content-Type": "application/x-amz-json-1.1; charset=utf-8", "X-Amz-Target": orgs + ".ListRoots"},
			want:    Request{AWSJSON11, orgs, "ListRoots"}},
		{name: "media type is case-insensitive", path: "/",
			headers: hdr{"Content-Type": " Application/X-Amz-Json-1.0 ", "X-Amz-Target": cao + ".ListAccounts"},
			want:    Request{AWSJSON10, cao, "ListAccounts"}},
		{name: "automation awsJson 1.0 with a path prefix", path: "/some/prefix/",
			headers: hdr{"Content-Type": MediaTypeJSON10, "X-Amz-Target": cao + ".GetAutomationRule"},
			want:    Request{AWSJSON10, cao, "GetAutomationRule"}},
		{name: "dotted target prefix", path: "/",
			headers: hdr{"Content-Type": MediaTypeJSON10, "X-Amz-Target": "a.b.Op"},
			want:    Request{AWSJSON10, "a.b", "Op"}},
		{name: "rpcv2", path: caoPath, body: "\xa0",
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"},
			want:    Request{RPCv2CBOR, cao, "GetAutomationRule"}},
		{name: "rpcv2 namespaced service", path: "/service/com.amazonaws.computeoptimizerautomation." + cao + "/operation/ListAccounts",
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"},
			want:    Request{RPCv2CBOR, cao, "ListAccounts"}},
		{name: "rpcv2 path prefix", path: "/a/b/service/" + cao + "/operation/ListAccounts",
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"},
			want:    Request{RPCv2CBOR, cao, "ListAccounts"}},
		{name: "rpcv2 no body, no content type, no accept", path: caoPath,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"},
			want:    Request{RPCv2CBOR, cao, "GetAutomationRule"}},
		{name: "rpcv2 empty body with content type", path: caoPath,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor; x=y"},
			want:    Request{RPCv2CBOR, cao, "GetAutomationRule"}},

		{name: "GET", method: http.MethodGet, path: "/", code: CodeMethodNotAllowed, status: 405,
			headers: hdr{"Content-Type": MediaTypeJSON11, "X-Amz-Target": orgs + ".ListRoots"}},
		{name: "rpcv2 PUT", method: http.MethodPut, path: caoPath, code: CodeMethodNotAllowed, status: 405,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "no target", path: "/", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Content-Type": MediaTypeJSON11}},
		{name: "target without a dot", path: "/", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Content-Type": MediaTypeJSON11, "X-Amz-Target": "DescribeOrganization"}},
		{name: "target without a service", path: "/", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Content-Type": MediaTypeJSON11, "X-Amz-Target": ".DescribeOrganization"}},
		{name: "target without an operation", path: "/", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Content-Type": MediaTypeJSON11, "X-Amz-Target": orgs + "."}},
		{name: "target with plain JSON", path: "/", code: CodeUnsupportedMediaType, status: 415,
			headers: hdr{"Content-Type": "application/json", "X-Amz-Target": orgs + ".ListRoots"}},
		{name: "target without a content type", path: "/", code: CodeUnsupportedMediaType, status: 415,
			headers: hdr{"X-Amz-Target": orgs + ".ListRoots"}},
		{name: "nothing to go by", path: "/", code: CodeUnknownOperation, status: 400},
		{name: "rpcv2 with X-Amz-Target", path: caoPath, code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor", "X-Amz-Target": cao + ".GetAutomationRule"}},
		{name: "rpcv2 with X-Amzn-Target", path: caoPath, code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor", "X-Amzn-Target": cao + ".GetAutomationRule"}},
		{name: "rpcv2 other Smithy-Protocol", path: caoPath, code: CodeUnsupportedMediaType, status: 415,
			headers: hdr{"Smithy-Protocol": "rpc-v2-json"}},
		{name: "rpcv2 body without content type", path: caoPath, body: "\xa0", code: CodeUnsupportedMediaType, status: 415,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "rpcv2 JSON content type", path: caoPath, body: "{}", code: CodeUnsupportedMediaType, status: 415,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": MediaTypeJSON10}},
		{name: "rpcv2 namespaced operation", path: "/service/" + cao + "/operation/ns.GetAutomationRule", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "rpcv2 root path", path: "/", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "rpcv2 trailing slash", path: caoPath + "/", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "rpcv2 empty service", path: "/service//operation/Op", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "rpcv2 empty operation", path: "/service/S/operation/", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "rpcv2 wrong keywords", path: "/services/S/operations/Op", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "rpcv2 too few segments", path: "/S/operation/Op", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
		{name: "rpcv2 service that is only a namespace", path: "/service/ns./operation/Op", code: CodeUnknownOperation, status: 400,
			headers: hdr{"Smithy-Protocol": "rpc-v2-cbor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, "http://localhost"+tt.path, strings.NewReader(tt.body))
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			got, err := Identify(r)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Identify: %v", err)
				}
				if got != tt.want {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			var apiErr APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T), want an APIError", err, err)
			}
			if apiErr.ErrorCode() != tt.code || apiErr.HTTPStatus() != tt.status || apiErr.ErrorMessage() == "" {
				t.Errorf("got %s %d %q, want %s %d", apiErr.ErrorCode(), apiErr.HTTPStatus(), apiErr.ErrorMessage(), tt.code, tt.status)
			}
		})
	}
}

func TestErrorProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		headers map[string]string
		want    Protocol
	}{
		{map[string]string{"Smithy-Protocol": "rpc-v2-cbor"}, RPCv2CBOR},
		{map[string]string{"Smithy-Protocol": "something-else", "Content-Type": MediaTypeJSON10}, RPCv2CBOR},
		{map[string]string{"Content-Type": MediaTypeJSON10 + "; charset=utf-8"}, AWSJSON10},
		{map[string]string{"Content-Type": MediaTypeJSON11}, AWSJSON11},
		{map[string]string{"Content-Type": "text/html"}, AWSJSON11},
		{nil, AWSJSON11},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		if got := ErrorProtocol(r); got != tt.want {
			t.Errorf("%v: got %v, want %v", tt.headers, got, tt.want)
		}
	}
}

func TestSupports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		svc  *Service
		p    Protocol
		want bool
	}{
		{testOrgs, AWSJSON11, true},
		{testOrgs, AWSJSON10, false},
		{testOrgs, RPCv2CBOR, false},
		{testCAO, AWSJSON10, true},
		{testCAO, RPCv2CBOR, true},
		{testCAO, AWSJSON11, false},
		{nil, AWSJSON11, false},
		{testCAO, Protocol(0), false},
	}
	for _, tt := range tests {
		if got := Supports(tt.svc, tt.p); got != tt.want {
			t.Errorf("Supports(%v, %v) = %v", tt.svc, tt.p, got)
		}
	}
}

func TestProtocolNames(t *testing.T) {
	t.Parallel()
	for p, want := range map[Protocol][2]string{
		AWSJSON10:   {"awsJson1_0", MediaTypeJSON10},
		AWSJSON11:   {"awsJson1_1", MediaTypeJSON11},
		RPCv2CBOR:   {"rpcv2Cbor", MediaTypeCBOR},
		Protocol(9): {"unknown", MediaTypeJSON11},
	} {
		if p.String() != want[0] || p.ContentType() != want[1] || (p <= RPCv2CBOR && CodecFor(p).Protocol() != p) {
			t.Errorf("%d: %s %s", p, p, p.ContentType())
		}
	}
}
