package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/postgres"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// shutdownGrace bounds how long in-flight requests may take to finish
// after SIGINT or SIGTERM.
const shutdownGrace = 15 * time.Second

func serveCommand(ctx context.Context, args []string) int {
	cfg, err := parseConfig(args, os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flagHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "orgstack:", err)
		return 2
	}
	log := cfg.logger(os.Stderr)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, nil); err != nil {
		log.Error("orgstack stopped", "error", err)
		return 1
	}
	return 0
}

// serve runs the server until ctx is done, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish, and closes the store.
// ready, when not nil, receives the listening address.
func serve(ctx context.Context, cfg *config, log *slog.Logger, ready chan<- string) error {
	token, err := adminToken(cfg, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the store", "error", err)
		}
	}()

	a, err := app.New(ctx, st, app.Config{
		Logger:         log,
		Version:        version,
		Auth:           cfg.Auth,
		DefaultAccount: cfg.DefaultAccount,
		ClockMode:      cfg.Clock,
		AdminToken:     token,
		OrgQuotas:      &cfg.Quotas,
		Throttle:       cfg.Throttle,
	})
	if err != nil {
		return err
	}
	defer a.Close() // stops background work before the store closes

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	info := st.Info()
	log.Info("orgstack listening", "addr", ln.Addr().String(), "version", version,
		"store", info.Engine, "location", info.Location, "auth", cfg.Auth, "clock", cfg.Clock, "throttle", cfg.Throttle.String())
	warnIfExposed(log, cfg, ln.Addr())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	if cfg.PprofListen != "" {
		stopProfiler, err := serveProfiler(cfg.PprofListen, log)
		if err != nil {
			return err
		}
		defer stopProfiler()
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// openStore opens the store the configuration names: PostgreSQL when
// --store gives a URL, else SQLite in --data-dir. Opening applies pending
// migrations and refuses a schema newer than this binary.
func openStore(ctx context.Context, cfg *config) (store.Store, error) {
	if cfg.Store != "" {
		return postgres.Open(ctx, postgres.Options{URL: cfg.Store, MaxConns: int32(cfg.StoreMaxConns)})
	}
	path := cfg.DataDir
	if path != ":memory:" {
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		path = filepath.Join(path, "orgstack.db")
	}
	st, err := sqlite.Open(ctx, sqlite.Options{Path: path, Sync: cfg.Sync})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// serveProfiler serves Go's profiler on its own listener, apart from the
// API and the admin API: it exposes the process's internals, so it is off
// unless asked for, and usually bound to loopback.
func serveProfiler(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // the named profiles: heap, allocs, goroutine...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("profiler listening", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close() }, nil
}
