package protocol

import (
	"net/http"
	"strings"
)

// Request is what identification learns from a request's method, path and
// headers, before its body is read.
type Request struct {
	Protocol Protocol
	// Service is the X-Amz-Target prefix for awsJson
	// ("AWSOrganizationsV20161128") or the RPC v2 service name without its
	// namespace ("ComputeOptimizerAutomationService").
	Service string
	// Operation is the operation name, e.g. "DescribeOrganization".
	Operation string
}

// Identify tells which protocol, service and operation a request addresses,
// following each protocol's "identification for claiming" rules:
//
//   - RPC v2 CBOR: a POST with "Smithy-Protocol: rpc-v2-cbor" to a path
//     ending in /service/{service}/operation/{operation} (any prefix), and
//     "Content-Type: application/cbor" whenever there is a body. The service
//     may be namespaced (com.amazonaws.x.Service); the operation may not. A
//     request that also carries X-Amz-Target is malformed and refused.
//   - awsJson 1.0/1.1: a POST with Content-Type application/x-amz-json-1.0
//     or -1.1 (parameters such as charset tolerated) and
//     X-Amz-Target: {service}.{operation}. The path is not looked at: the
//     SDKs keep any path prefix of a custom endpoint.
//
// A failure is an APIError to answer in the protocol ErrorProtocol picks:
// *MethodNotAllowedError (405) for anything but POST,
// *UnsupportedMediaTypeError (415) for a content type or Smithy-Protocol
// value the addressed protocol does not accept, and
// *UnknownOperationError (400) when no operation can be made out.
//
// Identify does not check that the service or operation exists, nor that
// the service speaks the protocol (see Supports): that is the router's job.
func Identify(r *http.Request) (Request, error) {
	if r.Method != http.MethodPost {
		return Request{}, &MethodNotAllowedError{Method: r.Method}
	}
	if _, ok := r.Header[SmithyProtocolHeader]; ok {
		return identifyRPCv2(r)
	}
	return identifyJSON(r)
}

func identifyRPCv2(r *http.Request) (Request, error) {
	if v := strings.TrimSpace(r.Header.Get(SmithyProtocolHeader)); v != SmithyProtocolCBOR {
		return Request{}, &UnsupportedMediaTypeError{MediaType: SmithyProtocolHeader + ": " + v, Want: SmithyProtocolHeader + ": " + SmithyProtocolCBOR}
	}
	if r.Header.Get("X-Amz-Target") != "" || r.Header.Get("X-Amzn-Target") != "" {
		// The spec: such a request "is malformed… Server-side
		// implementations MUST reject such requests".
		return Request{}, &UnknownOperationError{Reason: "a Smithy RPC v2 request must not carry X-Amz-Target"}
	}
	// A unit-input request has neither body nor Content-Type.
	if ct, ok := r.Header["Content-Type"]; ok || r.ContentLength > 0 {
		var media string
		if ok && len(ct) > 0 {
			media = mediaType(ct[0])
		}
		if !strings.EqualFold(media, MediaTypeCBOR) {
			return Request{}, &UnsupportedMediaTypeError{MediaType: media, Want: MediaTypeCBOR}
		}
	}
	svc, op, ok := rpcv2Route(r.URL.Path)
	if !ok {
		return Request{}, &UnknownOperationError{Reason: "the path must end in /service/{serviceName}/operation/{operationName}"}
	}
	if strings.Contains(op, ".") {
		// "MUST NOT accept a namespaced operation name".
		return Request{}, &UnknownOperationError{Service: svc, Operation: op}
	}
	return Request{Protocol: RPCv2CBOR, Service: svc, Operation: op}, nil
}

// rpcv2Route reads the service and operation from the last four segments
// of an RPC v2 path; whatever precedes them is the endpoint's prefix.
func rpcv2Route(path string) (svc, op string, ok bool) {
	rest := path
	var seg [4]string
	for i := 3; i >= 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if j < 0 {
			return "", "", false
		}
		seg[i], rest = rest[j+1:], rest[:j]
	}
	if seg[0] != "service" || seg[2] != "operation" || seg[1] == "" || seg[3] == "" {
		return "", "", false
	}
	svc = seg[1]
	if i := strings.LastIndexByte(svc, '.'); i >= 0 {
		// com.amazonaws.computeoptimizerautomation.ComputeOptimizerAutomationService
		svc = svc[i+1:]
	}
	return svc, seg[3], svc != ""
}

func identifyJSON(r *http.Request) (Request, error) {
	target := r.Header.Get("X-Amz-Target")
	var p Protocol
	media := mediaType(r.Header.Get("Content-Type"))
	switch {
	case strings.EqualFold(media, MediaTypeJSON11):
		p = AWSJSON11
	case strings.EqualFold(media, MediaTypeJSON10):
		p = AWSJSON10
	case target != "":
		return Request{}, &UnsupportedMediaTypeError{MediaType: media, Want: MediaTypeJSON10 + " or " + MediaTypeJSON11}
	default:
		return Request{}, &UnknownOperationError{Reason: "the request has neither X-Amz-Target nor Smithy-Protocol"}
	}
	i := strings.LastIndexByte(target, '.')
	if target == "" || i <= 0 || i == len(target)-1 {
		return Request{}, &UnknownOperationError{Reason: "X-Amz-Target must be {service}.{operation}"}
	}
	return Request{Protocol: p, Service: target[:i], Operation: target[i+1:]}, nil
}

// ErrorProtocol picks the protocol to answer a request in when Identify
// failed or the request was refused before identification (auth, limits):
// RPC v2 CBOR when a Smithy-Protocol header is present, since those clients
// reject any response without that header; awsJson 1.0 for its content
// type; otherwise awsJson 1.1, whose bare __type every client reads.
func ErrorProtocol(r *http.Request) Protocol {
	if _, ok := r.Header[SmithyProtocolHeader]; ok {
		return RPCv2CBOR
	}
	if strings.EqualFold(mediaType(r.Header.Get("Content-Type")), MediaTypeJSON10) {
		return AWSJSON10
	}
	return AWSJSON11
}

// mediaType returns the media type of a Content-Type value without its
// parameters. mime.ParseMediaType would allocate a parameter map on every
// request for nothing.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}
