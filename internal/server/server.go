// Package server is orgstack's HTTP front: one port for every service. It
// routes each request to a service and operation by its wire protocol,
// runs the middleware every AWS endpoint has (request ids, panic recovery,
// body limits, identity, access log, metrics), and serves the admin API
// under /_orgstack/ and the conventions moto and LocalStack fixtures call.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/sharedstate"
	"github.com/orgstack/orgstack/internal/store"
)

// Backend is one service as the server mounts it: the generated
// description, the domain behind it, and how the domain words a
// validation failure.
type Backend struct {
	Service         *protocol.Service
	Invoke          protocol.Invoker
	ValidationError func(*protocol.ValidationError) protocol.APIError
	// BusyErrorCode is the modelled exception the service answers when the
	// store gave up on a transaction because of concurrent writers
	// (store.ErrBusy): what AWS answers a request that raced another.
	BusyErrorCode string
}

// AuthMode says how requests are authenticated.
type AuthMode string

const (
	// AuthOpen parses signatures without verifying them; the access key id
	// names the account, as LocalStack does.
	AuthOpen AuthMode = "open"
	// AuthSigV4 verifies every signature against registered credentials.
	AuthSigV4 AuthMode = "sigv4"
)

// Options configure a Server.
type Options struct {
	Store    store.Store
	Clock    *clock.Controlled
	Logger   *slog.Logger
	Version  string
	Backends []Backend

	Auth           AuthMode
	DefaultAccount string // the account of requests whose key names none
	// ClockMode is the mode the clock starts in on an empty store and
	// returns to when state is reset; only used when Shared is nil.
	ClockMode clock.Mode
	// Shared keeps the clock and the reset generation in step with other
	// instances on the store (the app makes one, to share it with the
	// runner); when nil, New opens one over Store and Clock.
	Shared *sharedstate.Keeper
	// MaxBodyBytes bounds request bodies; larger ones are refused with 413.
	MaxBodyBytes int64
	// AdminRoutes are the domains' own admin endpoints, keyed by
	// http.ServeMux pattern ("POST /_orgstack/accounts"). They are served
	// with the server's admin endpoints and under the same guard.
	AdminRoutes map[string]http.Handler
	// AfterClockChange, when set, runs after POST /_orgstack/clock moved
	// the clock and before it answers: the background runner settles
	// there, so the work the new time made due is done when the call
	// returns.
	AfterClockChange func(ctx context.Context)
	// Reseed, when set, runs in the transaction that resets the store, to
	// put back what must always exist (the NextToken signing key), so that
	// no request, on this instance or another, sees it missing.
	Reseed func(tx store.Tx) error
	// Query is the awsQuery service (STS) served on the same port, if any.
	Query QueryService
	// AdminToken guards the admin API in sigv4 mode: every /_orgstack/
	// call but GET health needs "Authorization: Bearer <AdminToken>".
	AdminToken string
	// Membership tells the accounts admin API which organization an account
	// belongs to (nil when none); without it the API shows no membership.
	Membership func(tx store.Tx, accountID string) (*Membership, error)
	// Injectors may fail API requests on purpose (rate limits, fault
	// rules); each is asked in turn, after the request is authenticated and
	// before it is decoded.
	Injectors []Injector
}

// An Injector may fail an identified, authenticated request on purpose
// instead of letting it reach its service: rate limiting and fault
// injection. It answers the error the request gets, or nil to let it
// through; its own error is a failure of orgstack, such as the store's.
type Injector interface {
	Inject(ctx context.Context, svc *protocol.Service, op *protocol.Operation, account string) (protocol.APIError, error)
}

// DefaultMaxBodyBytes is larger than any request the two models allow
// (the biggest members are 40,000-character policy documents).
const DefaultMaxBodyBytes = 1 << 20

// Server is the orgstack HTTP handler.
type Server struct {
	opts     Options
	log      *slog.Logger
	started  time.Time
	byTarget map[string]*Backend
	metrics  *metrics
	mux      *http.ServeMux
	shared   *sharedstate.Keeper
	// known holds the accounts open mode has already made sure of.
	known knownAccounts
}

// New builds a server. Unless given a Keeper, it opens one, which sets the
// clock to the state saved in the store.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.DefaultAccount == "" {
		opts.DefaultAccount = "000000000000"
	}
	if opts.Auth == "" {
		opts.Auth = AuthOpen
	}
	if opts.Auth == AuthSigV4 && opts.AdminToken == "" {
		return nil, errors.New("server: sigv4 mode needs an admin token to guard the admin API")
	}
	if opts.ClockMode == "" {
		opts.ClockMode = opts.Clock.State().Mode
	}
	if opts.Shared == nil {
		k, err := sharedstate.Open(ctx, sharedstate.Options{Store: opts.Store, Clock: opts.Clock, StartMode: opts.ClockMode})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		opts.Shared = k
	}
	s := &Server{
		shared:   opts.Shared,
		opts:     opts,
		log:      opts.Logger,
		started:  time.Now(),
		byTarget: map[string]*Backend{},
		metrics:  newMetrics(),
	}
	for i := range opts.Backends {
		b := &opts.Backends[i]
		if _, dup := s.byTarget[b.Service.TargetPrefix]; dup {
			return nil, fmt.Errorf("server: service %s mounted twice", b.Service.TargetPrefix)
		}
		s.byTarget[b.Service.TargetPrefix] = b
	}
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler. A panic that escapes a handler (the
// API path recovers its own, to answer in the service's error shape) is
// logged with its stack and answered with a 500, instead of net/http
// dropping the connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeAdminError(w, http.StatusInternalServerError, "internal error; see the server log")
		}
	}()
	if guarded(r) {
		if s.opts.Auth == AuthSigV4 && !s.adminAuthorized(r) {
			s.refuseAdmin(w, r)
			return
		}
		// The admin API reads and moves the clock and the accounts other
		// instances may have changed. (API requests refresh in serveAPI,
		// to answer a failure in their protocol.)
		if err := s.shared.Refresh(r.Context()); err != nil {
			s.adminError(w, r, err)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.mux.Handle("GET /metrics", s.metrics.handler())

	s.mux.HandleFunc("GET /_orgstack/health", s.handleHealth)
	s.mux.HandleFunc("POST /_orgstack/reset", s.handleReset)
	s.mux.HandleFunc("GET /_orgstack/clock", s.handleGetClock)
	s.mux.HandleFunc("POST /_orgstack/clock", s.handleSetClock)
	s.accountRoutes()
	for pattern, h := range s.opts.AdminRoutes {
		s.mux.Handle(pattern, h)
	}
	s.mux.HandleFunc("/_orgstack/", s.handleAdminNotFound)

	// Fixtures written for moto server and LocalStack call these.
	s.mux.HandleFunc("/moto-api/reset", s.handleMotoReset)
	s.mux.HandleFunc("POST /_localstack/state/reset", s.handleLocalStackReset)
	s.mux.HandleFunc("GET /_localstack/health", s.handleLocalStackHealth)

	// Everything else is an AWS API request, routed by its protocol.
	s.mux.HandleFunc("/", s.handleAPI)
}
