package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/store"
)

// call is one AWS API request on its way through the server.
type call struct {
	id       string
	started  time.Time
	proto    protocol.Protocol
	backend  *Backend
	op       *protocol.Operation
	account  string
	accessID string
	// service and opName name an awsQuery call, which has no backend.
	service, opName string
}

func (c *call) serviceName() string {
	if c.service != "" {
		return c.service
	}
	if c.backend == nil {
		return "unknown"
	}
	return c.backend.Service.Name
}

func (c *call) operationName() string {
	if c.opName != "" {
		return c.opName
	}
	if c.op == nil {
		return "unknown"
	}
	return c.op.Name
}

// handleAPI serves one AWS API request: identify the service and operation
// from the wire protocol, authenticate, apply rate limits and fault rules,
// decode, validate, run the domain, and encode the answer or the error in
// the same protocol.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	c := &call{id: uuid.NewString(), started: time.Now()}
	w.Header().Set(protocol.RequestIDHeader, c.id)
	status := s.serveAPI(w, r, c)
	s.finish(r, c, status)
}

// serveAPI does the work of handleAPI and returns the HTTP status written.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, c *call) int {
	if s.opts.Query != nil && isQuery(r) {
		return s.serveQuery(w, r, c)
	}
	req, err := protocol.Identify(r)
	if err != nil {
		return s.writeError(w, c, protocol.ErrorProtocol(r), nil, asAPIError(err))
	}
	c.proto = req.Protocol
	c.backend = s.byTarget[req.Service]
	if c.backend == nil || !protocol.Supports(c.backend.Service, req.Protocol) {
		c.backend = nil
		return s.writeError(w, c, req.Protocol, nil, &protocol.UnknownOperationError{Operation: req.Service + "." + req.Operation})
	}
	svc := c.backend.Service
	if c.op = svc.Operation(req.Operation); c.op == nil {
		return s.writeError(w, c, req.Protocol, svc, &protocol.UnknownOperationError{Operation: req.Service + "." + req.Operation})
	}

	body, err := readBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return s.writeError(w, c, req.Protocol, svc, asAPIError(err))
	}
	// From here on the request reads the clock and the accounts, which
	// another instance sharing the store may have moved or reset.
	if err := s.shared.Refresh(r.Context()); err != nil {
		return s.writeError(w, c, req.Protocol, svc, s.internalError(c, err))
	}

	principal, err := s.authenticate(r, body, []string{svc.SigningName})
	// Also on failure: the access log then names the key that was refused.
	c.account, c.accessID = principal.AccountID, principal.AccessKeyID
	if err != nil {
		// Open mode records a new account on its first request: that
		// write can meet concurrent writers like any other.
		return s.writeError(w, c, req.Protocol, svc, s.classify(c, err))
	}

	// Injected failures come where AWS's front end throttles: after the
	// caller is known, before the body is even decoded, so a request that
	// gets one runs no domain code and changes nothing, whatever it holds.
	for _, in := range s.opts.Injectors {
		apiErr, err := in.Inject(r.Context(), svc, c.op, c.account)
		if err != nil {
			return s.writeError(w, c, req.Protocol, svc, s.classify(c, err))
		}
		if apiErr != nil {
			return s.writeError(w, c, req.Protocol, svc, apiErr)
		}
	}

	codec := protocol.CodecFor(req.Protocol)
	input := c.op.NewInput()
	if err := codec.Decode(body, input); err != nil {
		return s.writeError(w, c, req.Protocol, svc, asAPIError(err))
	}
	if v, ok := input.(protocol.Validator); ok {
		if err := v.Validate(); err != nil {
			var ve *protocol.ValidationError
			if errors.As(err, &ve) {
				return s.writeError(w, c, req.Protocol, svc, c.backend.ValidationError(ve))
			}
			return s.writeError(w, c, req.Protocol, svc, s.internalError(c, err))
		}
	}

	ctx := auth.WithPrincipal(r.Context(), principal)
	out, err := s.invoke(ctx, c, input)
	if err != nil {
		return s.writeError(w, c, req.Protocol, svc, s.classify(c, err))
	}
	if c.op.UnitOutput {
		out = nil // Smithy's Unit: no body at all over RPC v2 CBOR
	}
	if err := codec.WriteOutput(w, c.id, out); err != nil {
		return s.writeError(w, c, req.Protocol, svc, s.internalError(c, err))
	}
	return http.StatusOK
}

// classify turns an error on the way through a mounted service into what
// the client gets: a modelled error as it is, a store that gave up on
// concurrent writers as the service's concurrency error, anything else as
// the service's internal error.
func (s *Server) classify(c *call, err error) protocol.APIError {
	var apiErr protocol.APIError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.Is(err, store.ErrBusy) && c.backend.BusyErrorCode != "":
		s.log.Warn("transaction gave up on concurrent writers", "request_id", c.id, "error", err)
		return c.backend.Service.NewError(c.backend.BusyErrorCode,
			"The request conflicted with concurrent changes to the same resources; retry it.")
	default:
		return s.internalError(c, err)
	}
}

// invoke runs the domain. A panic becomes the service's internal error,
// logged with the request id and stack; the store rolled the transaction
// back, so it changed nothing.
func (s *Server) invoke(ctx context.Context, c *call, input any) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in operation", "request_id", c.id, "service", c.serviceName(),
				"operation", c.operationName(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = s.internalError(c, nil)
		}
	}()
	return c.backend.Invoke(ctx, c.op.Name, input)
}

// internalError is the service's own fault shape for an error the domain
// did not classify. The cause goes to the log, never to the client.
func (s *Server) internalError(c *call, cause error) protocol.APIError {
	if cause != nil {
		s.log.Error("internal error", "request_id", c.id, "service", c.serviceName(),
			"operation", c.operationName(), "error", cause)
	}
	msg := "An internal error occurred; the request id is " + c.id + "."
	if c.backend != nil {
		if e := c.backend.Service.NewError(c.backend.Service.InternalErrorCode, msg); e != nil {
			return e
		}
	}
	return &internalFailure{msg: msg}
}

// writeError answers err in protocol p and returns the status written.
func (s *Server) writeError(w http.ResponseWriter, c *call, p protocol.Protocol, svc *protocol.Service, err protocol.APIError) int {
	if werr := protocol.CodecFor(p).WriteError(w, c.id, svc, err); werr != nil {
		// Only an error value that breaks the generated-type convention
		// gets here; answer the plainest internal error instead.
		s.log.Error("cannot encode error", "request_id", c.id, "error", werr)
		err = &internalFailure{msg: "An internal error occurred; the request id is " + c.id + "."}
		_ = protocol.CodecFor(p).WriteError(w, c.id, nil, err)
	}
	return err.HTTPStatus()
}

// finish records the access log line and the metrics of a call.
func (s *Server) finish(r *http.Request, c *call, status int) {
	d := time.Since(c.started)
	s.metrics.observe(c.serviceName(), c.operationName(), status, d)
	s.log.LogAttrs(r.Context(), levelFor(status), "request",
		slog.String("request_id", c.id),
		slog.String("service", c.serviceName()),
		slog.String("operation", c.operationName()),
		slog.String("protocol", c.proto.String()),
		slog.String("account", c.account),
		slog.String("access_key_id", c.accessID),
		slog.Int("status", status),
		slog.Duration("latency", d),
	)
}

// readBody reads the whole body, refusing more than max bytes.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, &requestTooLarge{limit: max}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &requestTooLarge{limit: max}
		}
		return nil, &protocol.SerializationError{Reason: "the request body could not be read"}
	}
	return b, nil
}

// asAPIError keeps an APIError and turns anything else into a
// SerializationException: everything before the domain runs is about the
// request's form.
func asAPIError(err error) protocol.APIError {
	var apiErr protocol.APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return &protocol.SerializationError{Reason: err.Error()}
}

// requestTooLarge answers a body over the limit, as AWS front ends do, 413.
type requestTooLarge struct{ limit int64 }

func (e *requestTooLarge) Error() string     { return e.ErrorCode() + ": " + e.ErrorMessage() }
func (e *requestTooLarge) ErrorCode() string { return "RequestEntityTooLargeException" }
func (e *requestTooLarge) ErrorMessage() string {
	return fmt.Sprintf("The request body exceeds the limit of %d bytes.", e.limit)
}
func (e *requestTooLarge) ErrorFault() protocol.Fault { return protocol.FaultClient }
func (e *requestTooLarge) HTTPStatus() int            { return http.StatusRequestEntityTooLarge }

// internalFailure is the internal error of a request whose service is unknown.
type internalFailure struct{ msg string }

func (e *internalFailure) Error() string              { return "InternalFailure: " + e.msg }
func (e *internalFailure) ErrorCode() string          { return "InternalFailure" }
func (e *internalFailure) ErrorMessage() string       { return e.msg }
func (e *internalFailure) ErrorFault() protocol.Fault { return protocol.FaultServer }
func (e *internalFailure) HTTPStatus() int            { return http.StatusInternalServerError }
