package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/orgstack/orgstack/internal/store"
)

// The schema is versioned by migrations/NNNN_name.sql, applied in order.
// A migration is never edited once released: change the schema by adding the
// next file. The version reached is kept in PRAGMA user_version, which lives
// in the database header and so changes atomically with the migration that
// sets it.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations, sorted by version, and checks
// that they number 1, 2, 3, … with no gap or duplicate, so that a bad file
// name fails every test rather than silently skipping a step.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	// fs.Glob returns names in lexical order, which with zero-padded
	// prefixes is version order.
	ms := make([]migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		prefix, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("sqlite: migration %s: want a name starting with %04d_", base, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("sqlite: migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// migrate brings the database on conn up to the newest of ms (as returned
// by loadMigrations) and returns that version. It runs in one IMMEDIATE
// transaction so that two processes opening the same new file cannot both
// apply migration 1, and a failed migration leaves the database as it was.
func migrate(ctx context.Context, conn *sql.Conn, location string, ms []migration) (version int, err error) {
	latest := len(ms)

	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, fmt.Errorf("sqlite: migrate %s: begin: %w", location, err)
	}
	defer func() {
		if err != nil {
			// The transaction may already be gone (SQLite rolls back on
			// some errors); the migration error is the one that matters.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()

	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("sqlite: migrate %s: read schema version: %w", location, err)
	}
	if version > latest {
		return 0, fmt.Errorf("sqlite: open %s: the database has schema version %d but this orgstack knows only up to version %d; upgrade orgstack to a release that supports it (or use a different data directory): %w",
			location, version, latest, store.ErrSchemaTooNew)
	}
	for _, m := range ms[version:] {
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return 0, fmt.Errorf("sqlite: migrate %s: %s: %w", location, m.name, err)
		}
		// PRAGMA takes no bound parameters; m.version is an int we parsed.
		if _, err := conn.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version)); err != nil {
			return 0, fmt.Errorf("sqlite: migrate %s: %s: set version: %w", location, m.name, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("sqlite: migrate %s: commit: %w", location, err)
	}
	return latest, nil
}
