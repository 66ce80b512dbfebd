package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgstack/orgstack/internal/server"
)

func TestAdminTokenGeneratedOnceAndKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := &config{Auth: "sigv4", DataDir: filepath.Join(dir, "data")}
	var log bytes.Buffer
	first, err := adminToken(cfg, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 64 || !strings.Contains(log.String(), first) {
		t.Fatalf("token %q; log %q", first, log.String())
	}
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}

	// A restart reads the same token and does not print it again.
	log.Reset()
	again, err := adminToken(cfg, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil || again != first {
		t.Fatalf("second start: %q, %v; want %q", again, err, first)
	}
	if strings.Contains(log.String(), first) {
		t.Errorf("the token was logged again: %q", log.String())
	}
}

func TestAdminTokenConfigured(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGSTACK_ADMIN_TOKEN": "from-env", "ORGSTACK_AUTH": "sigv4"}
	var help bytes.Buffer
	cfg, err := parseConfig([]string{"--data-dir", t.TempDir()}, func(k string) string { return env[k] }, &help)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	got, err := adminToken(cfg, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil || got != "from-env" {
		t.Fatalf("token %q, %v", got, err)
	}
	if strings.Contains(log.String(), "from-env") {
		t.Errorf("a configured token was logged: %q", log.String())
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, adminTokenFile)); !os.IsNotExist(err) {
		t.Errorf("a configured token was written to the data dir: %v", err)
	}
	cfg, err = parseConfig([]string{"--admin-token", "from-flag"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || cfg.AdminToken != "from-flag" {
		t.Fatalf("flag: %+v, %v", cfg, err)
	}
	// -h lists the flag but never the secret from the environment.
	parseConfig([]string{"-h"}, func(k string) string { return env[k] }, &help)
	if !strings.Contains(help.String(), "admin-token") || strings.Contains(help.String(), "from-env") {
		t.Errorf("help: %s", help.String())
	}
}

func TestSharedStoreNeedsConfiguredToken(t *testing.T) {
	t.Parallel()
	cfg := &config{Auth: "sigv4", DataDir: t.TempDir(), Store: "postgres://db/orgstack"}
	if _, err := adminToken(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "--admin-token") {
		t.Fatalf("generated a token for a shared store: %v", err)
	}
	cfg.AdminToken = "shared"
	if got, err := adminToken(cfg, slog.New(slog.DiscardHandler)); err != nil || got != "shared" {
		t.Fatalf("configured token: %q %v", got, err)
	}
}

func TestOpenModeNeedsNoToken(t *testing.T) {
	t.Parallel()
	got, err := adminToken(&config{Auth: "open", DataDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil || got != "" {
		t.Fatalf("open mode token %q, %v", got, err)
	}
}

func TestWarnIfExposed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		auth string
		ip   string
		warn bool
	}{
		{"open", "127.0.0.1", false},
		{"open", "::1", false},
		{"open", "0.0.0.0", true},
		{"open", "192.0.2.10", true},
		{"sigv4", "0.0.0.0", false},
	} {
		var log bytes.Buffer
		warnIfExposed(slog.New(slog.NewTextHandler(&log, nil)), &config{Auth: server.AuthMode(tc.auth)}, &net.TCPAddr{IP: net.ParseIP(tc.ip), Port: 4566})
		if got := strings.Contains(log.String(), "level=WARN"); got != tc.warn {
			t.Errorf("%s on %s: warned %v, want %v (%q)", tc.auth, tc.ip, got, tc.warn, log.String())
		}
	}
}

// TestSigV4ServerGuardsAdmin starts the real binary with --auth sigv4 and
// checks that the admin API wants the token it printed.
func TestSigV4ServerGuardsAdmin(t *testing.T) {
	c := startChild(t, "--data-dir", ":memory:", "--auth", "sigv4", "--admin-token", "tok-123")
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/_orgstack/health", "", 200},
		{"POST", "/_orgstack/accounts", "", 401},
		{"POST", "/_orgstack/accounts", "nope", 401},
		{"POST", "/_orgstack/accounts", "tok-123", 201},
	} {
		req, _ := http.NewRequest(tc.method, c.url+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s with %q = %d, want %d", tc.method, tc.path, tc.token, resp.StatusCode, tc.want)
		}
	}
	// Unsigned API requests are refused as AWS refuses them.
	status, body, err := orgCall(http.DefaultClient, c.url, "DescribeOrganization", "111111111111")
	if err != nil || status != 400 || body["__type"] != "UnrecognizedClientException" {
		t.Errorf("unregistered key: %d %v %v", status, body, err)
	}
}
