package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orgstack/orgstack/internal/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the advisory lock key under which instances starting
// at once apply migrations one after the other ("orgstack" in ASCII).
const migrationLock = 0x6f7267737461636b

type migration struct {
	version int
	sql     string
}

// loadMigrations reads NNNN_name.sql files, which must be numbered 1, 2, 3…
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var ms []migration
	for i, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("postgres: migration %s is out of sequence (want number %d)", base, i+1)
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, sql: string(b)})
	}
	return ms, nil
}

// migrate applies pending migrations in one transaction under an advisory
// lock and returns the schema version. A database newer than this binary is
// refused, never downgraded.
func migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	latest := len(ms)
	var version int
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS orgstack_schema (version integer NOT NULL)"); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM orgstack_schema").Scan(&version)
		if err != nil {
			return err
		}
		if version > latest {
			return fmt.Errorf("%w: the database has schema version %d but this orgstack knows only up to version %d; upgrade orgstack",
				store.ErrSchemaTooNew, version, latest)
		}
		for _, m := range ms[version:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %d: %w", m.version, err)
			}
		}
		if version < latest {
			if _, err := tx.Exec(ctx, "DELETE FROM orgstack_schema"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO orgstack_schema (version) VALUES ($1)", latest); err != nil {
				return err
			}
			version = latest
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate: %w", err)
	}
	return version, nil
}
