package auth

import (
	"errors"
	"net/http"

	"github.com/orgstack/orgstack/internal/protocol"
)

// Error codes that AWS JSON services (awsJson 1.0/1.1, RPC v2 CBOR) send for
// authentication failures. The query-protocol spellings (SignatureDoesNotMatch,
// InvalidClientTokenId, 403) belong to services such as STS-over-query and are
// not used here; see PROTOCOLS.md §4.7.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeExpiredToken               = "ExpiredTokenException"
)

// Messages AWS sends verbatim; clients and tests match on them.
const (
	msgMissingAuthenticationToken = "Request is missing Authentication Token"
	msgSignatureMismatch          = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgUnrecognizedClient = "The security token included in the request is invalid."
	msgExpiredToken       = "The security token included in the request is expired"
)

// Error is an authentication failure as a JSON service reports it: the
// code goes into __type, the message into message, and Status is the HTTP
// status. It satisfies protocol.APIError so the codecs can render it like
// any modelled exception.
type Error struct {
	Code    string
	Message string
	Status  int

	// detail says what exactly failed (which header was missing, which
	// fallback was tried). AWS never tells the client more than Message, so
	// neither do we; detail is for the server log only.
	detail string
}

var _ protocol.APIError = (*Error)(nil)

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.detail != "" {
		s += " (" + e.detail + ")"
	}
	return s
}

// The protocol.APIError methods; Detail is the server-side diagnostic, for
// logs only.
func (e *Error) ErrorCode() string               { return e.Code }
func (e *Error) ErrorMessage() string            { return e.Message }
func (e *Error) HTTPStatus() int                 { return e.Status }
func (e *Error) ErrorFault() protocol.Fault      { return protocol.FaultClient }
func (e *Error) Detail() string                  { return e.detail }
func (e *Error) withDetail(detail string) *Error { e.detail = detail; return e }

// All of these are 400 for JSON services: DynamoDB, the reference Coral
// service, answers 400 for a missing token, an unknown key and a bad
// signature alike (PROTOCOLS.md §4.6–4.7); the 403 seen in some reports comes
// from API Gateway and REST services, not from awsJson endpoints.
func newError(code, message string) *Error {
	return &Error{Code: code, Message: message, Status: http.StatusBadRequest}
}

// MissingAuthenticationTokenError is returned by ParseRequest when a request
// carries neither an Authorization header nor presigned query parameters.
// In open mode the caller may treat such a request as anonymous instead.
func MissingAuthenticationTokenError() *Error {
	return newError(CodeMissingAuthenticationToken, msgMissingAuthenticationToken)
}

// UnrecognizedClientError is what the caller returns when the access key id is
// not registered (AWS says "security token" even for long-term keys).
func UnrecognizedClientError() *Error {
	return newError(CodeUnrecognizedClient, msgUnrecognizedClient)
}

// ExpiredTokenError is what the caller returns for temporary credentials whose
// session has ended.
func ExpiredTokenError() *Error {
	return newError(CodeExpiredToken, msgExpiredToken)
}

// HasCode reports whether err is an *Error with that code; open mode uses
// it to treat CodeMissingAuthenticationToken as an anonymous caller.
func HasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

func errIncomplete(message string) *Error {
	return newError(CodeIncompleteSignature, message)
}

func errInvalid(message string) *Error {
	return newError(CodeInvalidSignature, message)
}

// errMismatch is the one answer for every way the signature can fail to
// match, whatever the cause: telling the client which part differed would
// help an attacker and AWS does not do it.
func errMismatch(detail string) *Error {
	return errInvalid(msgSignatureMismatch).withDetail(detail)
}
