// Package postgres is the store engine for several orgstack instances that
// share one state: PostgreSQL (or a database speaking its protocol) through
// pgx. Every Write is a SERIALIZABLE transaction, retried a bounded number
// of times when PostgreSQL reports a serialization conflict, so that the
// invariants the domains keep (an account in exactly one parent, unique
// emails, quotas, idempotency records) hold across instances. Reads run in
// REPEATABLE READ, READ ONLY: one consistent snapshot.
//
// Unlike the SQLite engine it keeps no cache: another instance may commit
// at any moment.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgstack/orgstack/internal/store"
)

// Options configures Open.
type Options struct {
	// URL is a PostgreSQL connection URL, postgres://user@host:port/db?...
	URL string
	// Schema, when set, is the schema orgstack's tables live in (created if
	// missing); tests use one schema each.
	Schema string
	// MaxConns bounds the connection pool; zero means pgxpool's default.
	MaxConns int32
	// WriteAttempts bounds how often a Write runs after serialization
	// conflicts before it fails with store.ErrBusy; zero means 30.
	WriteAttempts int
}

// Store is a store.Store on PostgreSQL. It is safe for concurrent use, by
// this process and by other processes sharing the database.
type Store struct {
	pool     *pgxpool.Pool
	info     store.Info
	attempts int
}

var _ store.Store = (*Store)(nil)

// Open connects, applies pending migrations and returns the store. It
// fails clearly when the database cannot be reached or holds a schema
// newer than this binary knows (wrapping store.ErrSchemaTooNew).
func Open(ctx context.Context, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse %s: %w", redact(opts.URL), err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect %s: %w", redact(opts.URL), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database at %s: %w", redact(opts.URL), err)
	}
	if opts.Schema != "" {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{opts.Schema}.Sanitize()); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: create schema %s: %w", opts.Schema, err)
		}
	}
	version, err := migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	attempts := opts.WriteAttempts
	if attempts <= 0 {
		attempts = 30
	}
	return &Store{
		pool:     pool,
		attempts: attempts,
		info:     store.Info{Engine: "postgres", Location: redact(opts.URL), SchemaVersion: version, Shared: true},
	}, nil
}

// redact drops the password from a connection URL for logs and health.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

// Read runs fn on one consistent, read-only snapshot.
func (s *Store) Read(ctx context.Context, fn func(store.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin read: %w", err)
	}
	t := &tx{ctx: ctx, ptx: ptx}
	defer func() {
		t.done = true
		// Rolling back a read only ends its snapshot; use a context that
		// outlives a cancelled request so the connection goes back clean.
		_ = ptx.Rollback(context.WithoutCancel(ctx))
	}()
	if err := fn(t); err != nil {
		return err
	}
	return t.failed
}

// Write runs fn in a SERIALIZABLE transaction and commits it. When
// PostgreSQL reports a serialization failure or a deadlock, the whole
// transaction, fn included, runs again after a short random pause, up to
// the configured attempts; then Write fails with an error wrapping
// store.ErrBusy, which the services answer as AWS answers a concurrent
// modification.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt == s.attempts {
			return fmt.Errorf("postgres: write: %w after %d attempts: %w", store.ErrBusy, attempt, err)
		}
		// Exponential backoff with full jitter, capped, so that writers
		// contending for one key spread out instead of colliding again.
		pause := time.Duration(rand.Int64N(int64(min(time.Millisecond<<min(attempt, 7), 100*time.Millisecond))))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return fmt.Errorf("postgres: write: %w", ctx.Err())
		}
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(store.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	t := &tx{ctx: ctx, ptx: ptx, write: true}
	committed := false
	defer func() {
		t.done = true
		if !committed {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if t.failed != nil {
		return t.failed
	}
	t.done = true
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	// As in the SQLite engine, once the decision is made COMMIT runs to
	// completion even if the request's context ends meanwhile.
	if err := ptx.Commit(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	committed = true
	return nil
}

// retryable reports a failure that running the transaction again may cure.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	return false
}

// Reset deletes every key of every bucket and runs seed, in one
// transaction.
func (s *Store) Reset(ctx context.Context, seed func(store.Tx) error) error {
	return s.Write(ctx, func(t store.Tx) error {
		if err := t.(*tx).deleteAll(); err != nil {
			return err
		}
		if seed == nil {
			return nil
		}
		return seed(t)
	})
}

// Info describes the store for health reporting.
func (s *Store) Info() store.Info { return s.info }

// Get reads one key in a statement of its own, outside any transaction:
// one round trip to the database instead of the three of a Read (begin,
// select, rollback), for callers that read a single key often (the shared
// state every request refreshes). It returns store.ErrNotFound when the
// key does not exist.
func (s *Store) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, "SELECT value FROM kv WHERE bucket = $1 AND key = $2", bucket, []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get %s/%s: %w", bucket, key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Ping reports whether the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool, waiting for connections in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
