package protocol

import "slices"

// Protocol is one of the wire protocols orgstack speaks.
type Protocol uint8

const (
	// AWSJSON10 is aws.protocols#awsJson1_0 (Compute Optimizer Automation
	// from botocore, the AWS CLI and JS v3).
	AWSJSON10 Protocol = iota + 1
	// AWSJSON11 is aws.protocols#awsJson1_1 (Organizations).
	AWSJSON11
	// RPCv2CBOR is smithy.protocols#rpcv2Cbor (Compute Optimizer Automation
	// from the Go, Java, Kotlin, .NET and C++ SDKs).
	RPCv2CBOR
)

// Media types and header values defined by the protocols.
const (
	MediaTypeJSON10 = "application/x-amz-json-1.0"
	MediaTypeJSON11 = "application/x-amz-json-1.1"
	MediaTypeCBOR   = "application/cbor"

	// SmithyProtocolHeader names the header that marks (and must answer) every
	// RPC v2 request; SmithyProtocolCBOR is its only value we speak.
	SmithyProtocolHeader = "Smithy-Protocol"
	SmithyProtocolCBOR   = "rpc-v2-cbor"

	// RequestIDHeader is where every response carries its request id; SDKs
	// read it case-insensitively (botocore ResponseMetadata.RequestId).
	RequestIDHeader = "X-Amzn-Requestid"
	// ErrorTypeHeader repeats an awsJson error's __type for clients that
	// read the header first (Go, JS).
	ErrorTypeHeader = "X-Amzn-Errortype"
)

func (p Protocol) String() string {
	switch p {
	case AWSJSON10:
		return "awsJson1_0"
	case AWSJSON11:
		return "awsJson1_1"
	case RPCv2CBOR:
		return "rpcv2Cbor"
	default:
		return "unknown"
	}
}

// ContentType is the media type of this protocol's request and response bodies.
func (p Protocol) ContentType() string {
	switch p {
	case AWSJSON10:
		return MediaTypeJSON10
	case RPCv2CBOR:
		return MediaTypeCBOR
	default:
		return MediaTypeJSON11
	}
}

// Supports reports whether svc's model lists protocol p, so that a server
// can refuse, say, Organizations over CBOR or Automation over JSON 1.1.
// The botocore names are "json" (whose version is svc.JSONVersion) and
// "smithy-rpc-v2-cbor".
func Supports(svc *Service, p Protocol) bool {
	if svc == nil {
		return false
	}
	switch p {
	case AWSJSON10, AWSJSON11:
		want := "1.1"
		if p == AWSJSON10 {
			want = "1.0"
		}
		return svc.JSONVersion == want && (len(svc.Protocols) == 0 || slices.Contains(svc.Protocols, "json"))
	case RPCv2CBOR:
		return slices.Contains(svc.Protocols, "smithy-rpc-v2-cbor")
	default:
		return false
	}
}
