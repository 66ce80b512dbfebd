package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store"
)

// The virtual clock lives in the store, so that it survives restarts and,
// with a shared database, is the same for every instance.
const (
	bucketMeta = "meta"
	keyClock   = "clock"
)

func (s *Server) restoreClock(ctx context.Context) error {
	return s.opts.Store.Read(ctx, func(tx store.Tx) error {
		st, err := store.GetJSON[clock.State](tx, bucketMeta, keyClock)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("server: restore clock: %w", err)
		}
		s.opts.Clock.Restore(*st)
		return nil
	})
}

type healthResponse struct {
	Version       string     `json:"version"`
	Services      []string   `json:"services"`
	Store         store.Info `json:"store"`
	Auth          AuthMode   `json:"auth"`
	UptimeSeconds float64    `json:"uptimeSeconds"`
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	services := make([]string, 0, len(s.opts.Backends))
	for _, b := range s.opts.Backends {
		services = append(services, b.Service.Name)
	}
	writeJSON(w, http.StatusOK, healthResponse{
		Version:       s.opts.Version,
		Services:      services,
		Store:         s.opts.Store.Info(),
		Auth:          s.opts.Auth,
		UptimeSeconds: time.Since(s.started).Seconds(),
	})
}

// reset wipes every piece of state at once and puts the clock back in the
// mode it started in.
func (s *Server) reset(ctx context.Context) error {
	if err := s.opts.Store.Reset(ctx); err != nil {
		return err
	}
	s.opts.Clock.Restore(clock.New(s.opts.ClockMode, nil).State())
	s.forgetAccounts()
	if s.opts.AfterReset != nil {
		if err := s.opts.AfterReset(ctx); err != nil {
			return fmt.Errorf("after reset: %w", err)
		}
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
	// Compute the new state first and persist it; only then does the
	// running clock move, so a failed write changes nothing.
	var next clock.State
	switch {
	case req.Set != nil:
		t, err := time.Parse(time.RFC3339Nano, *req.Set)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("set: %q is not an RFC 3339 time", *req.Set))
			return
		}
		next = clock.State{Mode: clock.Virtual, Now: t}
	default:
		d, err := time.ParseDuration(*req.Advance)
		if err != nil || d < 0 {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("advance: %q is not a non-negative Go duration", *req.Advance))
			return
		}
		next = clock.State{Mode: clock.Virtual, Now: s.opts.Clock.Now().Add(d)}
	}
	err := s.opts.Store.Write(r.Context(), func(tx store.Tx) error {
		return store.PutJSON(tx, bucketMeta, keyClock, next)
	})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.opts.Clock.Restore(next)
	s.log.Info("clock changed", "mode", next.Mode, "now", next.Now)
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
