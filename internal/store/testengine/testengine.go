// Package testengine opens throwaway stores for tests, on the engine the
// environment picks, so that one test suite runs on SQLite and on
// PostgreSQL alike:
//
//	ORGSTACK_TEST_ENGINE    sqlite (the default) or postgres
//	ORGSTACK_TEST_POSTGRES  the PostgreSQL database to use, e.g.
//	                        postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//
// Each PostgreSQL store gets a schema of its own, dropped when the test
// ends, so that tests (and other test processes) sharing the database do
// not see each other's state.
package testengine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/postgres"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// Environment variables that choose the engine.
const (
	EngineVar   = "ORGSTACK_TEST_ENGINE"
	PostgresVar = "ORGSTACK_TEST_POSTGRES"
)

// maxConns keeps each test store's pool small: many tests run at once on
// one database whose connections are shared with other test processes.
const maxConns = 4

// Engine is the engine ORGSTACK_TEST_ENGINE names: "sqlite" or "postgres".
func Engine(t testing.TB) string {
	t.Helper()
	switch e := os.Getenv(EngineVar); e {
	case "", "sqlite":
		return "sqlite"
	case "postgres":
		return e
	default:
		t.Fatalf("%s=%q: want sqlite or postgres", EngineVar, e)
		return ""
	}
}

// Open returns an empty store on the chosen engine (SQLite in memory by
// default), closed when the test ends. Register what must stop before the
// store closes (an app's runner) after calling Open: cleanups run last in,
// first out.
func Open(t testing.TB) store.Store {
	t.Helper()
	if Engine(t) == "postgres" {
		return Postgres(t)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:"})
	if err != nil {
		t.Fatalf("testengine: open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// PostgresURL is the database of ORGSTACK_TEST_POSTGRES. Without it the
// test skips, unless ORGSTACK_TEST_ENGINE=postgres asked for PostgreSQL,
// in which case it fails.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresVar)
	if u == "" {
		if os.Getenv(EngineVar) == "postgres" {
			t.Fatalf("%s=postgres needs %s (a postgres:// URL)", EngineVar, PostgresVar)
		}
		t.Skipf("%s is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping what needs PostgreSQL", PostgresVar)
	}
	return u
}

// Postgres returns a store in a fresh schema of the test database, closed
// and dropped when the test ends.
func Postgres(t testing.TB) *postgres.Store {
	t.Helper()
	u := PostgresURL(t)
	return OpenSchema(t, u, Schema(t, u))
}

// OpenSchema opens one more store on the given schema of the database at
// u, closed when the test ends: several stores on one schema are several
// orgstack instances sharing one state.
func OpenSchema(t testing.TB, u, schema string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), postgres.Options{URL: u, Schema: schema, MaxConns: maxConns})
	if err != nil {
		t.Fatalf("testengine: open postgres: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Schema creates a schema with a new random name in the database at u and
// drops it, with everything in it, when the test ends (after the stores
// opened later have closed).
func Schema(t testing.TB, u string) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	schema := "orgstack_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("testengine: connect to %s: %v", redact(u), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("testengine: create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Logf("testengine: schema %s left behind: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("testengine: schema %s left behind: %v", schema, err)
		}
	})
	return schema
}

// SchemaURL is u with the schema as the connections' search path, for a
// process that is given only a URL (orgstack serve --store).
func SchemaURL(t testing.TB, u, schema string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("testengine: parse %s: %v", redact(u), err)
	}
	q := p.Query()
	q.Set("search_path", schema)
	p.RawQuery = q.Encode()
	return p.String()
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}
