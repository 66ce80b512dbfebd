package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/orgstack/orgstack/internal/auth"
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
			return auth.AnonymousPrincipal(s.opts.DefaultAccount), nil
		}
		return auth.Principal{}, err
	}
	return auth.RootPrincipal(auth.AccountFromAccessKey(sig.AccessKeyID, s.opts.DefaultAccount), sig), nil
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
