package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/store"
)

// authenticate names the caller of a request signed for one of services.
//
// In open mode the signature is parsed, not verified: a 12-digit access key
// id is that account, a key the admin API or STS issued is its account (or
// role session), and any other key is the default account. An unsigned
// request (curl, a quick script) is the default account too; a malformed
// signature is refused as AWS refuses it, because it means a client is
// misconfigured.
//
// In sigv4 mode only registered keys are accepted and every signature is
// verified against the real wall clock.
func (s *Server) authenticate(r *http.Request, body []byte, services []string) (auth.Principal, error) {
	sig, err := auth.ParseRequest(r)
	if s.opts.Auth == AuthSigV4 {
		if err != nil {
			return auth.Principal{}, err
		}
		return s.verify(r, body, sig, services)
	}
	if err != nil {
		if auth.HasCode(err, auth.CodeMissingAuthenticationToken) {
			p := auth.AnonymousPrincipal(s.opts.DefaultAccount)
			return p, s.ensureAccount(r.Context(), p.AccountID)
		}
		return auth.Principal{}, err
	}
	if accounts.IsAccessKeyID(sig.AccessKeyID) {
		// Only keys of the shape orgstack issues cost a store read.
		c, err := s.lookupKey(r.Context(), sig.AccessKeyID)
		if err == nil {
			if c.Temporary() && !s.opts.Clock.Now().Before(c.Session.Expiration) {
				return refused(sig, auth.ExpiredTokenError())
			}
			return principalOf(c, sig), nil
		}
		if !errors.Is(err, accounts.ErrNoKey) {
			return auth.Principal{}, err
		}
	}
	p := auth.RootPrincipal(auth.AccountFromAccessKey(sig.AccessKeyID, s.opts.DefaultAccount), sig)
	return p, s.ensureAccount(r.Context(), p.AccountID)
}

// refused is what authenticate answers with a failure: no account, but
// the key that was tried, for the access log.
func refused(sig *auth.Signature, err error) (auth.Principal, error) {
	return auth.Principal{AccessKeyID: sig.AccessKeyID}, err
}

// verify is sigv4 mode: the key must be registered, the signature must be
// the one its secret makes, and temporary credentials must come with their
// session token and be unexpired on the orgstack clock.
//
// The signature is checked before anything about the session, so that a
// caller without the secret learns nothing about a key but that it exists.
func (s *Server) verify(r *http.Request, body []byte, sig *auth.Signature, services []string) (auth.Principal, error) {
	c, err := s.lookupKey(r.Context(), sig.AccessKeyID)
	if errors.Is(err, accounts.ErrNoKey) {
		return refused(sig, auth.UnrecognizedClientError())
	}
	if err != nil {
		return refused(sig, err)
	}
	// Request timestamps follow the real clock: a test that moves virtual
	// time by days must still be able to sign requests.
	if err := auth.Verify(r, body, sig, c.SecretAccessKey, time.Now(), auth.VerifyOptions{Services: services}); err != nil {
		return refused(sig, err)
	}
	switch {
	case c.Temporary() && (sig.SecurityToken == "" || !c.Session.TokenMatches(sig.SecurityToken)):
		return refused(sig, auth.UnrecognizedClientError())
	case !c.Temporary() && sig.SecurityToken != "":
		// A long-term key has no session token; AWS refuses one.
		return refused(sig, auth.UnrecognizedClientError())
	case c.Temporary() && !s.opts.Clock.Now().Before(c.Session.Expiration):
		// Sessions end on the orgstack clock, so tests can expire them.
		return refused(sig, auth.ExpiredTokenError())
	}
	return principalOf(c, sig), nil
}

func (s *Server) lookupKey(ctx context.Context, akid string) (*accounts.Credential, error) {
	var c *accounts.Credential
	err := s.opts.Store.Read(ctx, func(tx store.Tx) error {
		var err error
		c, err = accounts.LookupKey(tx, akid)
		return err
	})
	if err != nil && !errors.Is(err, accounts.ErrNoKey) {
		return nil, fmt.Errorf("server: look up access key: %w", err)
	}
	return c, err
}

// principalOf is the caller that a registered credential stands for.
func principalOf(c *accounts.Credential, sig *auth.Signature) auth.Principal {
	if c.Temporary() && c.Session.RoleName != "" {
		return auth.SessionPrincipal(c.AccountID, c.Session.RoleName, c.Session.RoleID, c.Session.SessionName, sig)
	}
	// Long-term keys, and GetSessionToken's sessions, which act as the
	// root user that asked for them.
	p := auth.RootPrincipal(c.AccountID, sig)
	p.Temporary = c.Temporary()
	return p
}

// ensureAccount keeps open mode's promise that any account a key names
// exists, from its first request on. After the first time it costs a map
// lookup.
func (s *Server) ensureAccount(ctx context.Context, id string) error {
	gen := s.shared.Generation()
	if s.known.has(gen, id) {
		return nil
	}
	err := s.opts.Store.Write(ctx, func(tx store.Tx) error {
		_, err := accounts.Ensure(tx, id, s.opts.Clock.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("server: ensure account %s: %w", id, err)
	}
	s.known.add(gen, id)
	return nil
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
