package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/storetest"
)

// testURL is the database of the PostgreSQL tests, from
// ORGSTACK_TEST_POSTGRES; without it they skip.
func testURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("ORGSTACK_TEST_POSTGRES")
	if u == "" {
		t.Skip("ORGSTACK_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping the PostgreSQL engine")
	}
	return u
}

// openSchema opens a store in a schema of its own, dropped when t ends.
func openSchema(t *testing.T, url string) *Store {
	t.Helper()
	schema := fmt.Sprintf("orgstack_test_%d", rand.Uint64())
	s, err := Open(context.Background(), Options{URL: url, Schema: schema, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		conn, err := pgx.Connect(context.Background(), url)
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			conn.Close(context.Background())
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	url := testURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openSchema(t, url) })
}

func TestSchemaTooNew(t *testing.T) {
	url := testURL(t)
	s := openSchema(t, url)
	if _, err := s.pool.Exec(context.Background(), "UPDATE orgstack_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	schema := s.pool.Config().ConnConfig.RuntimeParams["search_path"]
	_, err := Open(context.Background(), Options{URL: url, Schema: schema})
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open on a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

func TestUnreachableDatabase(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), Options{URL: "postgres://nobody:secret@127.0.0.1:1/none?connect_timeout=1"})
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
	if want := "cannot reach the database"; !contains(err.Error(), want) || contains(err.Error(), "secret") {
		t.Errorf("error = %v; want %q and no password", err, want)
	}
}

// TestSerializableAcrossStores runs two stores (as two orgstack instances
// would) on one schema, each moving the same counter: every increment
// lands exactly once, thanks to SERIALIZABLE and the retries.
func TestSerializableAcrossStores(t *testing.T) {
	url := testURL(t)
	a := openSchema(t, url)
	schema := a.pool.Config().ConnConfig.RuntimeParams["search_path"]
	b, err := Open(context.Background(), Options{URL: url, Schema: schema, WriteAttempts: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.attempts = 50
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := s.Write(context.Background(), func(tx store.Tx) error {
					v, err := tx.Get("c", "n")
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
					return tx.Put("c", "n", fmt.Appendf(nil, "%d", atoi(string(v))+1))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var got []byte
	a.Read(context.Background(), func(tx store.Tx) error { got, _ = tx.Get("c", "n"); return nil })
	if atoi(string(got)) != workers*each {
		t.Fatalf("counter = %s, want %d", got, workers*each)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}
