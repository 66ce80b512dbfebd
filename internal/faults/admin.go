package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// Routes are the fault admin endpoints, for server.Options.AdminRoutes:
//
//	POST   /_orgstack/faults       add a rule (a Spec); 201 and the rule
//	GET    /_orgstack/faults       {"rules": [...]}, with remaining counts and firings
//	GET    /_orgstack/faults/{id}  one rule
//	DELETE /_orgstack/faults       remove every rule; 204
//	DELETE /_orgstack/faults/{id}  remove one; 204, 404 when there is none
//
// log receives the store failures answered with a 500; nil discards them.
func (in *Injector) Routes(log *slog.Logger) map[string]http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &admin{in: in, log: log}
	return map[string]http.Handler{
		"POST /_orgstack/faults":        http.HandlerFunc(a.add),
		"GET /_orgstack/faults":         http.HandlerFunc(a.list),
		"GET /_orgstack/faults/{id}":    http.HandlerFunc(a.get),
		"DELETE /_orgstack/faults":      http.HandlerFunc(a.clear),
		"DELETE /_orgstack/faults/{id}": http.HandlerFunc(a.delete),
	}
}

type admin struct {
	in  *Injector
	log *slog.Logger
}

func (a *admin) add(w http.ResponseWriter, r *http.Request) {
	var spec Spec
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid JSON body: %v", err))
		return
	}
	if dec.Decode(new(json.RawMessage)) != io.EOF {
		writeError(w, http.StatusBadRequest, "invalid JSON body: more than one value")
		return
	}
	rule, err := a.in.Add(r.Context(), spec)
	var bad *InputError
	switch {
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, bad.Reason)
	case err != nil:
		a.fail(w, r, err)
	default:
		writeJSON(w, http.StatusCreated, rule)
	}
}

func (a *admin) list(w http.ResponseWriter, r *http.Request) {
	rules, err := a.in.Rules(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if rules == nil {
		rules = []*Rule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rules})
}

func (a *admin) get(w http.ResponseWriter, r *http.Request) {
	rules, err := a.in.Rules(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	for _, rule := range rules {
		if rule.ID == id {
			writeJSON(w, http.StatusOK, rule)
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no fault rule %q", id))
}

func (a *admin) clear(w http.ResponseWriter, r *http.Request) {
	if err := a.in.Clear(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *admin) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	found, err := a.in.Delete(r.Context(), id)
	switch {
	case err != nil:
		a.fail(w, r, err)
	case !found:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no fault rule %q", id))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (a *admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("fault admin request failed", "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, "internal error; see the server log")
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

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
