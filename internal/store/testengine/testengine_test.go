package testengine

import (
	"context"
	"errors"
	"testing"

	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/postgres"
)

// TestSchemasIsolateAndShare checks the two promises tests rely on: stores
// from Postgres never see each other's keys, and every store opened on
// one schema (through OpenSchema or a URL from SchemaURL) sees the same.
func TestSchemasIsolateAndShare(t *testing.T) {
	u := PostgresURL(t)
	ctx := context.Background()
	a, b := Postgres(t), Postgres(t)
	put := func(s store.Store, v string) {
		t.Helper()
		if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte(v)) }); err != nil {
			t.Fatal(err)
		}
	}
	get := func(s store.Store) string {
		t.Helper()
		var v []byte
		err := s.Read(ctx, func(tx store.Tx) error {
			var err error
			v, err = tx.Get("b", "k")
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return "(none)"
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(v)
	}
	put(a, "a")
	if got := get(b); got != "(none)" {
		t.Fatalf("a fresh schema holds %q", got)
	}

	schema := Schema(t, u)
	first := OpenSchema(t, u, schema)
	byURL, err := postgres.Open(ctx, postgres.Options{URL: SchemaURL(t, u, schema)})
	if err != nil {
		t.Fatal(err)
	}
	defer byURL.Close()
	put(first, "shared")
	if got := get(byURL); got != "shared" {
		t.Fatalf("a store opened by the schema's URL reads %q, want shared", got)
	}
}
