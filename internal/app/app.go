// Package app assembles orgstack: the store, the clock, every service's
// domain and the HTTP server, wired the same way for the binary and for
// tests. It is the one place that knows all the parts.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/automation"
	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/faults"
	"github.com/orgstack/orgstack/internal/inventory"
	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/pagination"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/server"
	"github.com/orgstack/orgstack/internal/sharedstate"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/sts"
	"github.com/orgstack/orgstack/internal/throttle"
)

// Config is what an App needs besides its store.
type Config struct {
	Logger         *slog.Logger
	Version        string
	Auth           server.AuthMode
	DefaultAccount string
	ClockMode      clock.Mode
	// OrgQuotas are Organizations' quotas while the store holds no
	// override; nil means AWS's defaults.
	OrgQuotas *organizations.Quotas
	// AdminToken guards the admin API when Auth is sigv4.
	AdminToken string
	// Throttle limits each account's requests to each service, per
	// instance; the zero Limit does not throttle.
	Throttle throttle.Limit
}

// App is a wired orgstack.
type App struct {
	Store store.Store
	Clock *clock.Controlled
	// Shared keeps Clock, the reset generation and the revisions of what
	// instances keep views of (the fault rules) in step with the store.
	Shared        *sharedstate.Keeper
	Organizations *organizations.Service
	Automation    *automation.Service
	// Faults holds the fault-injection rules (in the store) and applies
	// them to API requests.
	Faults *faults.Injector
	Server *server.Server
	// Runner does every domain's background work; New starts it and
	// Close stops it.
	Runner *runner.Runner
}

// New wires an orgstack over st. The caller owns st and closes it after
// the App's work is done.
func New(ctx context.Context, st store.Store, cfg Config) (*App, error) {
	if cfg.ClockMode == "" {
		cfg.ClockMode = clock.Real
	}
	clk := clock.New(cfg.ClockMode, nil)
	// The clock follows the state saved in the store: restored at start
	// and, when other instances share the store, refreshed before each
	// request and each runner pass.
	shared, err := sharedstate.Open(ctx, sharedstate.Options{Store: st, Clock: clk, StartMode: cfg.ClockMode})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a := &App{Store: st, Clock: clk, Shared: shared}
	a.Runner = runner.New(runner.Options{Store: st, Clock: clk, Logger: cfg.Logger, Refresh: shared.Refresh})
	a.Automation = automation.New(automation.Options{Store: st, Clock: clk, Runner: a.Runner})
	a.Organizations = organizations.New(organizations.Options{
		Store: st,
		Clock: clk,
		// Services that keep per-member state hear, inside the same
		// transaction, of every account that leaves an organization.
		MembershipListeners: []organizations.MembershipListener{a.Automation},
		Quotas:              cfg.OrgQuotas,
		Runner:              a.Runner,
	})
	backends := a.Backends()
	services := make([]*protocol.Service, len(backends))
	for i, b := range backends {
		services[i] = b.Service
	}
	// Throttling first: a request over the rate limit is refused before a
	// fault rule spends one of its count on it.
	var injectors []server.Injector
	if cfg.Throttle.Enabled() {
		lim, err := throttle.New(throttle.Options{
			Limit:    cfg.Throttle,
			Services: services,
			// The exceptions each model declares for throttled callers.
			ErrorCodes: map[string]string{orgapi.Service.Name: "TooManyRequestsException", acoapi.Service.Name: "ThrottlingException"},
		})
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		injectors = append(injectors, lim)
	}
	// Rule changes go through shared, so that every instance sees a change
	// made through any of them at its next request.
	a.Faults = faults.New(faults.Options{Store: st, Shared: shared, Services: services})
	injectors = append(injectors, a.Faults)

	srv, err := server.New(ctx, server.Options{
		Store:          st,
		Clock:          clk,
		Logger:         cfg.Logger,
		Version:        cfg.Version,
		Auth:           cfg.Auth,
		DefaultAccount: cfg.DefaultAccount,
		ClockMode:      cfg.ClockMode,
		Shared:         shared,
		Backends:       backends,
		Injectors:      injectors,
		Membership:     membership,
		Query:          sts.New(sts.Options{Store: st, Clock: clk}),
		AdminToken:     cfg.AdminToken,
		AdminRoutes: adminRoutes(a.Organizations.QuotasAdminRoutes(), (&inventory.Admin{Store: st, Clock: clk}).Routes(),
			a.Faults.Routes(cfg.Logger)),
		// Moving virtual time returns only after the work it made due ran.
		AfterClockChange: func(ctx context.Context) {
			if err := a.Runner.Settle(ctx); err != nil && cfg.Logger != nil {
				cfg.Logger.Error("running jobs after a clock change", "error", err)
			}
		},
		// List operations read in read-only transactions, which cannot
		// create the NextToken signing key: it exists from the start on,
		// and a reset puts it back in the same transaction, with the
		// domains' index markers.
		Reseed: reseed,
	})
	if err != nil {
		return nil, err
	}
	if err := ensure(ctx, st); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.Server = srv
	a.Runner.Start()
	return a, nil
}

// ensure puts in place what the domains need in the store before they
// serve: the NextToken signing key, and indexes that a store written by an
// older orgstack lacks.
func ensure(ctx context.Context, st store.Store) error {
	return st.Write(ctx, reseed)
}

// reseed is ensure inside a transaction, also the one that resets the store.
func reseed(tx store.Tx) error {
	if err := pagination.Seed(tx); err != nil {
		return err
	}
	if err := organizations.EnsureIndexes(tx); err != nil {
		return err
	}
	return automation.EnsureIndexes(tx)
}

// Close stops the background runner, letting a job in progress finish.
// Call it before closing the store.
func (a *App) Close() {
	a.Runner.Stop()
}

// Backends are the services as the server mounts them.
func (a *App) Backends() []server.Backend {
	return []server.Backend{
		{Service: orgapi.Service, Invoke: orgapi.Invoker(a.Organizations), ValidationError: organizations.ValidationError,
			BusyErrorCode: "ConcurrentModificationException"},
		{Service: acoapi.Service, Invoke: acoapi.Invoker(a.Automation), ValidationError: automation.ValidationError,
			BusyErrorCode: "ThrottlingException"},
	}
}

// Handler is the HTTP handler of the App.
func (a *App) Handler() http.Handler { return a.Server }

// adminRoutes merges the domains' admin endpoints.
func adminRoutes(sets ...map[string]http.Handler) map[string]http.Handler {
	out := map[string]http.Handler{}
	for _, set := range sets {
		for pattern, h := range set {
			out[pattern] = h
		}
	}
	return out
}

// membership shows an account's organization in the accounts admin API.
func membership(tx store.Tx, accountID string) (*server.Membership, error) {
	m, err := organizations.MembershipOf(tx, accountID)
	if m == nil || err != nil {
		return nil, err
	}
	return &server.Membership{OrganizationID: m.OrgID, ManagementAccountID: m.ManagementAccountID, Status: m.Status}, nil
}
