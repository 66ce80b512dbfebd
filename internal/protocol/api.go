// Package protocol holds what the generated API packages and the wire codecs
// share: service and operation descriptors, the APIError contract, validation
// problems, and the codecs for awsJson 1.0/1.1 and Smithy RPC v2 CBOR.
//
// Generated types follow one convention that every codec relies on: a
// structure is a Go struct whose fields carry the wire name in a `json` tag;
// scalars are pointers (absent = nil), lists are slices (absent = nil),
// nested structures and unions are pointers to structs, timestamps are
// *time.Time, and enums are named string types.
package protocol

import (
	"context"
	"fmt"
)

// Fault says whose fault an error is, as the Smithy error trait does.
type Fault int

const (
	FaultClient Fault = iota
	FaultServer
)

func (f Fault) String() string {
	if f == FaultServer {
		return "server"
	}
	return "client"
}

// APIError is implemented by every modelled exception and by the protocol's
// own errors. Codecs render it; nothing else needs to know its concrete type.
type APIError interface {
	error
	ErrorCode() string    // the shape name, e.g. "AccessDeniedException"
	ErrorMessage() string // the human-readable message, may be empty
	ErrorFault() Fault
	HTTPStatus() int
}

// Validator is implemented by every generated input structure.
type Validator interface {
	Validate() error
}

// Paginator describes how an operation pages, from paginators-1.json.
type Paginator struct {
	InputToken  string // wire name of the request token member
	OutputToken string // wire name of the response token member
	LimitKey    string // wire name of the page-size member, may be empty
	ResultKey   string // wire name of the listed member
}

// Operation describes one operation of a service, as generated from the model.
type Operation struct {
	Name       string
	NewInput   func() any // returns a pointer to the zero input structure
	Errors     []string   // declared error shape names
	ReadOnly   bool
	Idempotent bool
	// IdempotencyToken is the wire name of the member the SDKs fill with a
	// fresh token when the caller leaves it empty; empty when there is none.
	IdempotencyToken string
	Paginator        *Paginator
	// UnitInput and UnitOutput are set when the model declares no input or
	// output shape: RPC v2 CBOR then sends no body at all.
	UnitInput  bool
	UnitOutput bool
}

// Invoker dispatches a decoded, validated input to a service implementation.
// Generated code provides one per service that switches on the operation name.
type Invoker func(ctx context.Context, operation string, input any) (output any, err error)

// Service describes one AWS service as the generator read it from the model.
type Service struct {
	Name         string   // short name used in logs and metrics, e.g. "organizations"
	ServiceID    string   // the model's serviceId
	APIVersion   string   // e.g. "2016-11-28"
	TargetPrefix string   // X-Amz-Target prefix and RPC v2 service name
	Namespace    string   // Smithy namespace for absolute shape ids (awsJson 1.0, CBOR)
	SigningName  string   // SigV4 credential scope service
	JSONVersion  string   // "1.0" or "1.1"
	Protocols    []string // model protocols, e.g. ["smithy-rpc-v2-cbor","json"]

	// Operations in model order, and by name.
	Operations []*Operation
	byName     map[string]*Operation

	// NewError builds the modelled exception with that code, or nil when the
	// service declares no such error. It lets code that only knows an error's
	// name (fault injection, the internal-error classifier) return the exact
	// modelled shape.
	NewError func(code, message string) APIError
	// InternalErrorCode is the exception the service uses for its own faults.
	InternalErrorCode string
}

// Operation returns the named operation, or nil.
func (s *Service) Operation(name string) *Operation {
	if s.byName == nil {
		m := make(map[string]*Operation, len(s.Operations))
		for _, op := range s.Operations {
			m[op.Name] = op
		}
		s.byName = m
	}
	return s.byName[name]
}

// Init indexes the operations; generated code calls it once at package init
// so that Operation is safe for concurrent use.
func (s *Service) Init() *Service {
	s.byName = nil
	s.Operation("")
	return s
}

// ShapeID returns the absolute Smithy shape id of a shape of this service,
// e.g. "com.amazonaws.computeoptimizerautomation#ThrottlingException".
func (s *Service) ShapeID(shape string) string {
	if s.Namespace == "" {
		return shape
	}
	return s.Namespace + "#" + shape
}

// NotImplementedError is what an operation answers while orgstack does not
// implement it yet. It is deliberately not a modelled error: a client sees an
// honest 501 instead of a fabricated success.
type NotImplementedError struct {
	Service   string
	Operation string
}

func (e *NotImplementedError) Error() string {
	return fmt.Sprintf("NotImplementedException: %s", e.ErrorMessage())
}
func (e *NotImplementedError) ErrorCode() string { return "NotImplementedException" }
func (e *NotImplementedError) ErrorMessage() string {
	return fmt.Sprintf("orgstack does not implement %s %s yet", e.Service, e.Operation)
}
func (e *NotImplementedError) ErrorFault() Fault { return FaultServer }
func (e *NotImplementedError) HTTPStatus() int   { return 501 }
