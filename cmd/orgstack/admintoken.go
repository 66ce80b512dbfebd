package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/orgstack/orgstack/internal/server"
)

// adminTokenFile is where a generated admin token is kept in the data dir.
// It lives beside the database rather than in it, so that POST
// /_orgstack/reset, which wipes the store, does not lock the admin out.
const adminTokenFile = "admin-token"

// adminToken returns the bearer token that guards the admin API in sigv4
// mode: the configured one, else the one kept in the data dir, else a new
// one that is saved there (mode 0600) and printed once. With a shared
// PostgreSQL store it must be configured. Open mode needs none.
func adminToken(cfg *config, log *slog.Logger) (string, error) {
	if cfg.Auth != server.AuthSigV4 {
		return "", nil
	}
	if cfg.AdminToken != "" {
		log.Info("admin API guarded by the configured bearer token")
		return cfg.AdminToken, nil
	}
	if cfg.Store != "" {
		// Instances sharing a database must agree on the token, and a token
		// kept in the database would be wiped by POST /_orgstack/reset.
		return "", errors.New("--auth sigv4 with --store needs --admin-token (or ORGSTACK_ADMIN_TOKEN), the same for every instance")
	}
	if cfg.DataDir == ":memory:" {
		t := newAdminToken()
		log.Warn("admin API bearer token generated for this run (nothing is kept with --data-dir :memory:)", "admin_token", t)
		return t, nil
	}
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", fmt.Errorf("admin token: %s is empty; delete it to have a new token generated", path)
		}
		log.Info("admin API guarded by the bearer token kept in the data dir", "file", path)
		return t, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("admin token: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	t := newAdminToken()
	// O_EXCL: two processes starting on one data dir must not each write
	// their own token.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return adminToken(cfg, log)
	}
	if err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	if _, err := f.WriteString(t + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("admin token: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	// Printed this once; later starts only name the file.
	log.Warn("admin API bearer token generated and saved (shown only now)", "admin_token", t, "file", path)
	return t, nil
}

func newAdminToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// warnIfExposed warns when open mode, which lets anyone act as any account
// and use the admin API, listens beyond the loopback interface.
func warnIfExposed(log *slog.Logger, cfg *config, addr net.Addr) {
	if cfg.Auth != server.AuthOpen {
		return
	}
	tcp, ok := addr.(*net.TCPAddr)
	if ok && tcp.IP.IsLoopback() {
		return
	}
	log.Warn("listening beyond loopback with --auth open: anyone who can reach this address can act as any account and use the admin API (reset, clock); use --auth sigv4 on shared networks",
		"addr", addr.String())
}
