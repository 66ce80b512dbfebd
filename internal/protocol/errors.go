package protocol

import (
	"fmt"
	"net/http"
	"strings"
)

// The protocol's own errors. None of them is modelled by either service, so
// codecs render them with a single message member. Their codes and statuses
// follow the Smithy reference servers (smithy-rs' aws-smithy-http-server
// runtime errors and routers), which is also what AWS front ends answer:
//
//	SerializationException        400  body cannot be read into the input
//	UnknownOperationException     400  no operation can be identified
//	MethodNotAllowedException     405  not a POST
//	UnsupportedMediaTypeException 415  Content-Type / Smithy-Protocol we do not speak
const (
	CodeSerialization        = "SerializationException"
	CodeUnknownOperation     = "UnknownOperationException"
	CodeMethodNotAllowed     = "MethodNotAllowedException"
	CodeUnsupportedMediaType = "UnsupportedMediaTypeException"
)

// SerializationError reports a request body that cannot be decoded into the
// operation's input: malformed JSON or CBOR, a member of the wrong type, a
// number out of range, or a document beyond the size limits. It never quotes
// the offending value, which may be sensitive.
type SerializationError struct {
	// Path is the member path in wire names, e.g. "Tags[2].Key"; empty when
	// the problem is with the body as a whole.
	Path string
	// Reason says what was wrong, e.g. "expected a string, found a number".
	Reason string
}

func (e *SerializationError) Error() string     { return CodeSerialization + ": " + e.ErrorMessage() }
func (e *SerializationError) ErrorCode() string { return CodeSerialization }
func (e *SerializationError) ErrorFault() Fault { return FaultClient }
func (e *SerializationError) HTTPStatus() int   { return http.StatusBadRequest }
func (e *SerializationError) ErrorMessage() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// under prefixes the path with the member or index that contains it, as the
// error unwinds out of nested decoding. Errors are rare, so building the path
// only on the way out keeps the success path free of bookkeeping.
func (e *SerializationError) under(member string) *SerializationError {
	switch {
	case e.Path == "":
		e.Path = member
	case e.Path[0] == '[':
		e.Path = member + e.Path
	default:
		e.Path = member + "." + e.Path
	}
	return e
}

func serr(format string, args ...any) *SerializationError {
	return &SerializationError{Reason: fmt.Sprintf(format, args...)}
}

// UnknownOperationError says that a request names no operation orgstack
// knows, or names it in a way the protocol forbids.
type UnknownOperationError struct {
	Service   string // as the request named it; may be empty
	Operation string // as the request named it; may be empty
	// Reason replaces the default message when the request was malformed
	// rather than naming an unknown operation.
	Reason string
}

func (e *UnknownOperationError) Error() string     { return CodeUnknownOperation + ": " + e.ErrorMessage() }
func (e *UnknownOperationError) ErrorCode() string { return CodeUnknownOperation }
func (e *UnknownOperationError) ErrorFault() Fault { return FaultClient }
func (e *UnknownOperationError) HTTPStatus() int   { return http.StatusBadRequest }
func (e *UnknownOperationError) ErrorMessage() string {
	if e.Reason != "" {
		return e.Reason
	}
	if e.Service == "" {
		return fmt.Sprintf("unknown operation %q", clip(e.Operation))
	}
	return fmt.Sprintf("unknown operation %q of service %q", clip(e.Operation), clip(e.Service))
}

// MethodNotAllowedError answers a request that is not a POST: every
// operation of both protocols is a POST.
type MethodNotAllowedError struct {
	Method string
}

func (e *MethodNotAllowedError) Error() string     { return CodeMethodNotAllowed + ": " + e.ErrorMessage() }
func (e *MethodNotAllowedError) ErrorCode() string { return CodeMethodNotAllowed }
func (e *MethodNotAllowedError) ErrorFault() Fault { return FaultClient }
func (e *MethodNotAllowedError) HTTPStatus() int   { return http.StatusMethodNotAllowed }
func (e *MethodNotAllowedError) ErrorMessage() string {
	return fmt.Sprintf("method %q is not allowed, operations are invoked with POST", clip(e.Method))
}

// UnsupportedMediaTypeError answers a request whose Content-Type (or
// Smithy-Protocol) is not one the addressed protocol accepts.
type UnsupportedMediaTypeError struct {
	MediaType string // what the request sent, possibly empty
	Want      string // what the protocol expects
}

func (e *UnsupportedMediaTypeError) Error() string {
	return CodeUnsupportedMediaType + ": " + e.ErrorMessage()
}
func (e *UnsupportedMediaTypeError) ErrorCode() string { return CodeUnsupportedMediaType }
func (e *UnsupportedMediaTypeError) ErrorFault() Fault { return FaultClient }
func (e *UnsupportedMediaTypeError) HTTPStatus() int   { return http.StatusUnsupportedMediaType }
func (e *UnsupportedMediaTypeError) ErrorMessage() string {
	if e.MediaType == "" {
		return fmt.Sprintf("missing content type, expected %s", e.Want)
	}
	return fmt.Sprintf("unsupported content type %q, expected %s", clip(e.MediaType), e.Want)
}

// clip bounds header-supplied text quoted in messages, so that a hostile
// header cannot blow up an error body or a log line.
func clip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
