package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// guarded reports whether a request reaches the admin API (orgstack's own,
// or the moto and LocalStack aliases that also reset state). Health checks
// stay open: orchestrators poll them without credentials.
func guarded(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/_orgstack/health" && r.Method == http.MethodGet,
		p == "/_localstack/health" && r.Method == http.MethodGet:
		return false
	case strings.HasPrefix(p, "/_orgstack/"), strings.HasPrefix(p, "/moto-api/"), strings.HasPrefix(p, "/_localstack/"):
		return true
	}
	return false
}

// adminAuthorized checks "Authorization: Bearer <token>" in constant time.
// Both sides are hashed first so that the comparison does not even leak
// the token's length.
func (s *Server) adminAuthorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.opts.AdminToken == "" {
		return false
	}
	a := sha256.Sum256([]byte(strings.TrimSpace(got)))
	b := sha256.Sum256([]byte(s.opts.AdminToken))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// refuseAdmin answers 401 to an admin call without the right token; the
// request is not served, so nothing changes.
func (s *Server) refuseAdmin(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("admin request refused: missing or wrong bearer token", "method", r.Method, "path", r.URL.Path,
		"remote", r.RemoteAddr)
	w.Header().Set("WWW-Authenticate", `Bearer realm="orgstack admin"`)
	writeAdminError(w, http.StatusUnauthorized,
		"the admin API needs \"Authorization: Bearer <token>\" with the token from --admin-token, ORGSTACK_ADMIN_TOKEN or the data dir's admin-token file")
}
