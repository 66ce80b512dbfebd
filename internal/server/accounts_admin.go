package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	"github.com/orgstack/orgstack/internal/store"
)

// Membership is what the accounts admin API shows of an account's
// organization; Options.Membership supplies it (the server does not know
// the Organizations domain).
type Membership struct {
	OrganizationID      string `json:"organizationId"`
	ManagementAccountID string `json:"managementAccountId"`
	Status              string `json:"status"`
}

// The admin API for identities: standalone accounts, their access keys,
// their standalone information, and the roles other accounts may assume.
func (s *Server) accountRoutes() {
	s.mux.HandleFunc("POST /_orgstack/accounts", s.handleCreateAccount)
	s.mux.HandleFunc("GET /_orgstack/accounts", s.handleListAccounts)
	s.mux.HandleFunc("GET /_orgstack/accounts/{id}", s.handleGetAccount)
	s.mux.HandleFunc("POST /_orgstack/accounts/{id}/credentials", s.handleCreateKey)
	s.mux.HandleFunc("DELETE /_orgstack/accounts/{id}/credentials/{key}", s.handleDeleteKey)
	s.mux.HandleFunc("POST /_orgstack/accounts/{id}/standalone", s.handleSetStandalone)
	s.mux.HandleFunc("POST /_orgstack/accounts/{id}/roles", s.handlePutRole)
}

type accountView struct {
	AccountID          string              `json:"accountId"`
	Email              string              `json:"email"`
	Name               string              `json:"name"`
	CreatedAt          time.Time           `json:"createdAt"`
	Origin             accounts.Origin     `json:"origin"`
	Standalone         accounts.Standalone `json:"standalone"`
	StandaloneComplete bool                `json:"standaloneComplete"`
	Organization       *Membership         `json:"organization,omitempty"`
	AccessKeyIDs       []string            `json:"accessKeyIds"`
}

// accountView reads what GET shows of an account, inside tx.
func (s *Server) accountView(tx store.Tx, a *accounts.Account) (*accountView, error) {
	v := &accountView{
		AccountID: a.ID, Email: a.Email, Name: a.Name, CreatedAt: a.CreatedAt, Origin: a.Origin,
		Standalone: a.Standalone, StandaloneComplete: a.Standalone.Complete(),
	}
	var err error
	if v.AccessKeyIDs, err = accounts.KeyIDs(tx, a.ID); err != nil {
		return nil, err
	}
	if s.opts.Membership != nil {
		if v.Organization, err = s.opts.Membership(tx, a.ID); err != nil {
			return nil, err
		}
	}
	return v, nil
}

type createAccountRequest struct {
	AccountID  string `json:"accountId"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	Standalone *bool  `json:"standalone"`
}

type keyResponse struct {
	AccountID       string `json:"accountId"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

type createAccountResponse struct {
	AccountID       string `json:"accountId"`
	Email           string `json:"email"`
	Name            string `json:"name"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

func (s *Server) handleCreateAccount(w http.ResponseWriter, r *http.Request) {
	var req createAccountRequest
	if err := decodeAdminOptional(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	reg := accounts.Registration{ID: req.AccountID, Email: req.Email, Name: req.Name, Standalone: accounts.FullStandalone}
	if req.Standalone != nil && !*req.Standalone {
		reg.Standalone = accounts.Standalone{}
	}
	var out createAccountResponse
	err := s.opts.Store.Write(r.Context(), func(tx store.Tx) error {
		a, c, err := accounts.Register(tx, reg, s.opts.Clock.Now())
		if err != nil {
			return err
		}
		out = createAccountResponse{AccountID: a.ID, Email: a.Email, Name: a.Name, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
		return nil
	})
	if err != nil {
		s.accountsError(w, r, err)
		return
	}
	s.log.Info("account registered", "account", out.AccountID, "access_key_id", out.AccessKeyID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleListAccounts(w http.ResponseWriter, r *http.Request) {
	list := []*accountView{}
	err := s.opts.Store.Read(r.Context(), func(tx store.Tx) error {
		list = list[:0]
		return accounts.List(tx, "", 0, func(a *accounts.Account) error {
			v, err := s.accountView(tx, a)
			if err == nil {
				list = append(list, v)
			}
			return err
		})
	})
	if err != nil {
		s.accountsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": list})
}

func (s *Server) handleGetAccount(w http.ResponseWriter, r *http.Request) {
	id, ok := accountIDParam(w, r)
	if !ok {
		return
	}
	var v *accountView
	err := s.opts.Store.Read(r.Context(), func(tx store.Tx) error {
		a, err := accounts.Get(tx, id)
		if err != nil {
			return err
		}
		v, err = s.accountView(tx, a)
		return err
	})
	if err != nil {
		s.accountsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request) {
	id, ok := accountIDParam(w, r)
	if !ok {
		return
	}
	var out keyResponse
	err := s.opts.Store.Write(r.Context(), func(tx store.Tx) error {
		c, err := accounts.NewRootKey(tx, id, s.opts.Clock.Now())
		if err != nil {
			return err
		}
		out = keyResponse{AccountID: id, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
		return nil
	})
	if err != nil {
		s.accountsError(w, r, err)
		return
	}
	s.log.Info("access key created", "account", id, "access_key_id", out.AccessKeyID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleDeleteKey(w http.ResponseWriter, r *http.Request) {
	id, ok := accountIDParam(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	err := s.opts.Store.Write(r.Context(), func(tx store.Tx) error {
		if _, err := accounts.Get(tx, id); err != nil {
			return err
		}
		return accounts.DeleteKey(tx, id, key)
	})
	if err != nil {
		s.accountsError(w, r, err)
		return
	}
	s.log.Info("access key deleted", "account", id, "access_key_id", key)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSetStandalone(w http.ResponseWriter, r *http.Request) {
	id, ok := accountIDParam(w, r)
	if !ok {
		return
	}
	var patch accounts.StandalonePatch
	if err := decodeAdmin(r, &patch); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	var v *accountView
	err := s.opts.Store.Write(r.Context(), func(tx store.Tx) error {
		a, err := accounts.SetStandalone(tx, id, patch)
		if err != nil {
			return err
		}
		v, err = s.accountView(tx, a)
		return err
	})
	if err != nil {
		s.accountsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

type putRoleRequest struct {
	RoleName                  string `json:"roleName"`
	TrustedAccountID          string `json:"trustedAccountId"`
	MaxSessionDurationSeconds int    `json:"maxSessionDurationSeconds"`
}

type roleView struct {
	AccountID                 string `json:"accountId"`
	RoleName                  string `json:"roleName"`
	Arn                       string `json:"arn"`
	RoleID                    string `json:"roleId"`
	TrustedAccountID          string `json:"trustedAccountId"`
	MaxSessionDurationSeconds int    `json:"maxSessionDurationSeconds"`
}

// handlePutRole creates or replaces a role that principals of another
// account may assume. Organizations' CreateAccount writes the same record.
func (s *Server) handlePutRole(w http.ResponseWriter, r *http.Request) {
	id, ok := accountIDParam(w, r)
	if !ok {
		return
	}
	var req putRoleRequest
	if err := decodeAdmin(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.RoleName == "" {
		req.RoleName = "OrganizationAccountAccessRole"
	}
	if !accounts.ValidRoleName(req.RoleName) {
		writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("roleName %q is not an IAM role name (1-64 of letters, digits and +=,.@_-)", req.RoleName))
		return
	}
	if !accounts.ValidID(req.TrustedAccountID) {
		writeAdminError(w, http.StatusBadRequest, "trustedAccountId must be a 12-digit account id")
		return
	}
	if d := req.MaxSessionDurationSeconds; d != 0 && (d < 3600 || d > 43200) {
		writeAdminError(w, http.StatusBadRequest, "maxSessionDurationSeconds must be between 3600 and 43200")
		return
	}
	role := &accounts.Role{
		AccountID: id, Name: req.RoleName, TrustedAccountID: req.TrustedAccountID,
		MaxSessionDuration: time.Duration(req.MaxSessionDurationSeconds) * time.Second,
	}
	err := s.opts.Store.Write(r.Context(), func(tx store.Tx) error {
		if _, err := accounts.Get(tx, id); err != nil {
			return err
		}
		role.CreatedAt = s.opts.Clock.Now()
		return accounts.PutRole(tx, role)
	})
	if err != nil {
		s.accountsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleView{
		AccountID: id, RoleName: role.Name, Arn: role.ARN(), RoleID: role.ID(), TrustedAccountID: role.TrustedAccountID,
		MaxSessionDurationSeconds: int(role.MaxSession() / time.Second),
	})
}

// accountIDParam reads {id}, answering 400 when it is not an account id.
func accountIDParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !accounts.ValidID(id) {
		writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a 12-digit account id", id))
		return "", false
	}
	return id, true
}

// accountsError answers the accounts package's errors with their status.
func (s *Server) accountsError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, accounts.ErrInvalid):
		writeAdminError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, accounts.ErrNotFound):
		writeAdminError(w, http.StatusNotFound, "no such account: "+r.PathValue("id"))
	case errors.Is(err, accounts.ErrNoKey):
		writeAdminError(w, http.StatusNotFound, "the account has no access key "+r.PathValue("key"))
	case errors.Is(err, accounts.ErrExists):
		writeAdminError(w, http.StatusConflict, "an account with that id already exists")
	case errors.Is(err, accounts.ErrEmailTaken):
		writeAdminError(w, http.StatusConflict, "an account with that email address already exists")
	default:
		s.adminError(w, r, err)
	}
}

// decodeAdminOptional is decodeAdmin for endpoints whose every field is
// optional: an empty body is an empty object.
func decodeAdminOptional(r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decodeAdmin(r, v)
}
