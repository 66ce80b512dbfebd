package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store"
)

type healthResponse struct {
	// Status is "ok", or "unavailable" when the database does not answer
	// (the response is then a 503).
	Status        string      `json:"status"`
	Version       string      `json:"version"`
	Services      []string    `json:"services"`
	Store         storeHealth `json:"store"`
	Auth          AuthMode    `json:"auth"`
	UptimeSeconds float64     `json:"uptimeSeconds"`
}

type storeHealth struct {
	store.Info
	// Reachable says whether the database answered just now.
	Reachable bool `json:"reachable"`
}

// pinger is a store that can tell whether its database answers (both
// engines can); for any other, health reads one key instead.
type pinger interface {
	Ping(ctx context.Context) error
}

// pingTimeout bounds how long health waits for the database, so that an
// orchestrator's probe gets an answer even when the database hangs.
const pingTimeout = 3 * time.Second

func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if p, ok := s.opts.Store.(pinger); ok {
		return p.Ping(ctx)
	}
	// Count, unlike Get, is never answered from an engine's cache.
	return s.opts.Store.Read(ctx, func(tx store.Tx) error {
		_, err := tx.Count("meta", "")
		return err
	})
}

// handleHealth reports the version, the services and the store, and
// whether the database answers: 503 when it does not, so that a load
// balancer takes an instance that lost its database out of rotation.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	services := make([]string, 0, len(s.opts.Backends))
	for _, b := range s.opts.Backends {
		services = append(services, b.Service.Name)
	}
	h := healthResponse{
		Status:        "ok",
		Version:       s.opts.Version,
		Services:      services,
		Store:         storeHealth{Info: s.opts.Store.Info(), Reachable: true},
		Auth:          s.opts.Auth,
		UptimeSeconds: time.Since(s.started).Seconds(),
	}
	status := http.StatusOK
	if err := s.ping(r.Context()); err != nil {
		// The cause goes to the log only: health answers without
		// credentials.
		s.log.Warn("health: the database does not answer", "engine", h.Store.Engine, "error", err)
		h.Status, h.Store.Reachable, status = "unavailable", false, http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}

// reset wipes every piece of state at once and puts the clock back in the
// mode it started in, for every instance on the store: the reset
// generation changes with it, which voids what instances remember.
func (s *Server) reset(ctx context.Context) error {
	if err := s.shared.Reset(ctx, s.opts.Reseed); err != nil {
		return err
	}
	s.log.Info("state reset")
	return nil
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	if err := s.reset(r.Context()); err != nil {
		s.adminError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type clockResponse struct {
	Now  string     `json:"now"`
	Mode clock.Mode `json:"mode"`
}

func (s *Server) clockResponse() clockResponse {
	st := s.opts.Clock.State()
	return clockResponse{Now: s.opts.Clock.Now().Format(time.RFC3339Nano), Mode: st.Mode}
}

func (s *Server) handleGetClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.clockResponse())
}

type clockRequest struct {
	Set     *string `json:"set"`
	Advance *string `json:"advance"`
}

// handleSetClock sets ({"set": RFC 3339}) or advances ({"advance": "36h"})
// virtual time and saves it in the store.
func (s *Server) handleSetClock(w http.ResponseWriter, r *http.Request) {
	var req clockRequest
	if err := decodeAdmin(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	if (req.Set == nil) == (req.Advance == nil) {
		writeAdminError(w, http.StatusBadRequest, `give exactly one of "set" (an RFC 3339 time) or "advance" (a Go duration such as "36h")`)
		return
	}
	// The new time is computed from the clock's current time inside the
	// transaction that saves it, so that moves through several instances
	// add up; the running clock moves only once it is saved.
	var next func(now time.Time) time.Time
	switch {
	case req.Set != nil:
		t, err := time.Parse(time.RFC3339Nano, *req.Set)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("set: %q is not an RFC 3339 time", *req.Set))
			return
		}
		next = func(time.Time) time.Time { return t }
	default:
		d, err := time.ParseDuration(*req.Advance)
		if err != nil || d < 0 {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("advance: %q is not a non-negative Go duration", *req.Advance))
			return
		}
		next = func(now time.Time) time.Time { return now.Add(d) }
	}
	st, err := s.shared.SetVirtual(r.Context(), next)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.log.Info("clock changed", "mode", st.Mode, "now", st.Now)
	if s.opts.AfterClockChange != nil {
		s.opts.AfterClockChange(r.Context())
	}
	writeJSON(w, http.StatusOK, s.clockResponse())
}

func (s *Server) handleAdminNotFound(w http.ResponseWriter, r *http.Request) {
	writeAdminError(w, http.StatusNotFound, fmt.Sprintf("no admin endpoint %s %s", r.Method, r.URL.Path))
}

// handleMotoReset answers moto server's reset call the way moto does.
func (s *Server) handleMotoReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeAdminError(w, http.StatusBadRequest, "reset requires POST")
		return
	}
	if err := s.reset(r.Context()); err != nil {
		s.adminError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleLocalStackReset(w http.ResponseWriter, r *http.Request) {
	if err := s.reset(r.Context()); err != nil {
		s.adminError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// handleLocalStackHealth answers in LocalStack's shape, so that wait-for-
// LocalStack loops in existing CI scripts see a running service.
func (s *Server) handleLocalStackHealth(w http.ResponseWriter, r *http.Request) {
	services := map[string]string{}
	for _, b := range s.opts.Backends {
		services[b.Service.SigningName] = "running"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"services": services,
		"edition":  "orgstack",
		"version":  s.opts.Version,
	})
}

func (s *Server) adminError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("admin request failed", "path", r.URL.Path, "error", err)
	writeAdminError(w, http.StatusInternalServerError, "internal error; see the server log")
}

func decodeAdmin(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeAdminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
