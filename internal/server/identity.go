package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/orgstack/orgstack/internal/accounts"
	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/store"
)

// authenticate names the caller of a request. In open mode the signature
// is parsed, not verified: a 12-digit access key id is that account and any
// other key is the default account. An unsigned request (curl, a quick
// script) is the default account too; a malformed signature is refused as
// AWS refuses it, because it means a client is misconfigured.
func (s *Server) authenticate(r *http.Request, body []byte) (auth.Principal, error) {
	sig, err := auth.ParseRequest(r)
	if err != nil {
		var ae *auth.Error
		if errors.As(err, &ae) && ae.Code == auth.CodeMissingAuthenticationToken {
			p := auth.AnonymousPrincipal(s.opts.DefaultAccount)
			return p, s.ensureAccount(r.Context(), p.AccountID)
		}
		return auth.Principal{}, err
	}
	p := auth.RootPrincipal(auth.AccountFromAccessKey(sig.AccessKeyID, s.opts.DefaultAccount), sig)
	return p, s.ensureAccount(r.Context(), p.AccountID)
}

// ensureAccount keeps open mode's promise that any account a key names
// exists, from its first request on. After the first time it costs a map
// lookup.
func (s *Server) ensureAccount(ctx context.Context, id string) error {
	if s.known.has(id) {
		return nil
	}
	err := s.opts.Store.Write(ctx, func(tx store.Tx) error {
		_, err := accounts.Ensure(tx, id, s.opts.Clock.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("server: ensure account %s: %w", id, err)
	}
	s.known.add(id)
	return nil
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
