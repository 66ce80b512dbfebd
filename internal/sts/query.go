package sts

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"

	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/protocol"
)

// The awsQuery protocol as STS speaks it: requests are form-encoded
// parameters (POST body or GET query), responses XML in the service's
// namespace, errors an <ErrorResponse> document.
const (
	xmlNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	apiVersion   = "2011-06-15"
	contentType  = "text/xml"
)

// Error is an STS error as awsQuery renders it.
type Error struct {
	Code    string
	Message string
	Status  int
	Fault   protocol.Fault
}

var _ protocol.APIError = (*Error)(nil)

func (e *Error) Error() string              { return e.Code + ": " + e.Message }
func (e *Error) ErrorCode() string          { return e.Code }
func (e *Error) ErrorMessage() string       { return e.Message }
func (e *Error) ErrorFault() protocol.Fault { return e.Fault }
func (e *Error) HTTPStatus() int            { return e.Status }

func senderError(code string, status int, msg string) *Error {
	return &Error{Code: code, Message: msg, Status: status, Fault: protocol.FaultClient}
}

// Authentication failures have their own codes in awsQuery services: the
// JSON services' *Exception names map to these, with these statuses (STS
// answers 403 for every credential problem, 400 for a malformed header).
var queryAuthCodes = map[string]struct {
	code   string
	status int
}{
	auth.CodeMissingAuthenticationToken: {"MissingAuthenticationToken", http.StatusForbidden},
	auth.CodeIncompleteSignature:        {"IncompleteSignature", http.StatusBadRequest},
	auth.CodeInvalidSignature:           {"SignatureDoesNotMatch", http.StatusForbidden},
	auth.CodeUnrecognizedClient:         {"InvalidClientTokenId", http.StatusForbidden},
	auth.CodeExpiredToken:               {"ExpiredToken", http.StatusForbidden},
}

// asQueryError renders any error the way STS would: authentication
// failures with their awsQuery codes, STS's own errors as they are, and
// anything else as InternalFailure (whose cause the caller logs).
func asQueryError(err error) *Error {
	var qe *Error
	if errors.As(err, &qe) {
		return qe
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		if m, ok := queryAuthCodes[ae.Code]; ok {
			return senderError(m.code, m.status, ae.Message)
		}
		return senderError(ae.Code, ae.Status, ae.Message)
	}
	var api protocol.APIError
	if errors.As(err, &api) {
		return &Error{Code: api.ErrorCode(), Message: api.ErrorMessage(), Status: api.HTTPStatus(), Fault: api.ErrorFault()}
	}
	return &Error{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.",
		Status: http.StatusInternalServerError, Fault: protocol.FaultServer}
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     errorXML `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type errorXML struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// WriteError answers err as an awsQuery <ErrorResponse> and returns the
// HTTP status written.
func WriteError(w http.ResponseWriter, requestID string, err error) int {
	qe := asQueryError(err)
	typ := "Sender"
	if qe.Fault == protocol.FaultServer {
		typ = "Receiver"
	}
	write(w, requestID, qe.Status, errorResponse{
		Xmlns:     xmlNamespace,
		Error:     errorXML{Type: typ, Code: qe.Code, Message: qe.Message},
		RequestID: requestID,
	})
	return qe.Status
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

func write(w http.ResponseWriter, requestID string, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		// Only our own fixed types are encoded; this cannot happen.
		panic("sts: encode response: " + err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set(protocol.RequestIDHeader, requestID)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a failed write means the client has gone
}
