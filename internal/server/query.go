package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/protocol"
)

// QueryService is a service spoken in the awsQuery protocol (STS): form
// parameters in, XML out. The server recognises its requests and
// authenticates them; the service parses and answers them.
type QueryService interface {
	// SigningName is the SigV4 service name its requests are signed for.
	SigningName() string
	// Serve answers the request whose body was already read, for the
	// principal in ctx. It returns the status written, the action for the
	// access log, and the error it answered, if any.
	Serve(ctx context.Context, w http.ResponseWriter, requestID string, r *http.Request, body []byte) (int, string, error)
	// WriteError answers an error raised before Serve (authentication,
	// limits) in the service's protocol and returns the status written.
	WriteError(w http.ResponseWriter, requestID string, err error) int
}

// isQuery tells awsQuery requests from the JSON and CBOR ones: a
// form-encoded POST, or a GET carrying an Action (presigned URLs, such as
// the GetCallerIdentity URLs that EKS and Vault authenticate with).
func isQuery(r *http.Request) bool {
	h := r.Header
	if _, ok := h[protocol.SmithyProtocolHeader]; ok {
		return false
	}
	if _, ok := h["X-Amz-Target"]; ok {
		return false
	}
	switch r.Method {
	case http.MethodPost:
		ct := h.Get("Content-Type")
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = ct[:i]
		}
		return strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded")
	case http.MethodGet:
		return strings.Contains(r.URL.RawQuery, "Action=")
	}
	return false
}

// serveQuery is serveAPI for an awsQuery service.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, c *call) int {
	q := s.opts.Query
	c.service = q.SigningName()
	body, err := readBody(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return q.WriteError(w, c.id, err)
	}
	// Named before authentication, so that a refused call is logged with it.
	c.opName = queryAction(r, body)
	if err := s.shared.Refresh(r.Context()); err != nil {
		s.internalError(c, err) // logs the cause
		return q.WriteError(w, c.id, err)
	}
	principal, err := s.authenticate(r, body, []string{q.SigningName()})
	c.account, c.accessID = principal.AccountID, principal.AccessKeyID
	if err != nil {
		var apiErr protocol.APIError
		if !errors.As(err, &apiErr) {
			s.internalError(c, err) // logs the cause
		}
		return q.WriteError(w, c.id, err)
	}
	status, action, err := q.Serve(auth.WithPrincipal(r.Context(), principal), w, c.id, r, body)
	if action != "" {
		c.opName = action
	}
	if err != nil && status == http.StatusInternalServerError {
		s.log.Error("internal error", "request_id", c.id, "service", c.service, "operation", action, "error", err)
	}
	return status
}

// queryAction reads the Action parameter of an awsQuery request for the
// access log; Serve parses the parameters for real.
func queryAction(r *http.Request, body []byte) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	form, _ := url.ParseQuery(string(body))
	return form.Get("Action")
}
