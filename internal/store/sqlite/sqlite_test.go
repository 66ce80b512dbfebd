package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/storetest"
)

func openT(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opts, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func tempDB(t testing.TB) string { return filepath.Join(t.TempDir(), "orgstack.db") }

func TestConformance(t *testing.T) {
	engines := []struct {
		name string
		opts func(t *testing.T) Options
	}{
		{"file", func(t *testing.T) Options { return Options{Path: tempDB(t)} }},
		{"file-sync-normal", func(t *testing.T) Options { return Options{Path: tempDB(t), Sync: SyncNormal} }},
		{"memory", func(*testing.T) Options { return Options{Path: Memory} }},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) store.Store { return openT(t, e.opts(t)) })
		})
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		prefix, end string
		ok          bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"acct/", "acct0", true},
		{"a\x00", "a\x01", true},
		{"a\xfe", "a\xff", true},
		{"a\xff", "b", true},
		{"a\xff\xff", "b", true},
		{"\u00e9", "\xc3\xaa", true},
		{"\xff", "", false},
		{"\xff\xff\xff", "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.prefix), func(t *testing.T) {
			end, ok := store.PrefixEnd(tt.prefix)
			if end != tt.end || ok != tt.ok {
				t.Errorf("PrefixEnd(%q) = %q, %v; want %q, %v", tt.prefix, end, ok, tt.end, tt.ok)
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("embedded migrations = %+v; want 1, 2, …", ms)
	}

	bad := []struct {
		name  string
		files []string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}},
		{"no number", []string{"init.sql"}},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}},
		{"starts at 2", []string{"0002_a.sql"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			if _, err := loadMigrations(fsys); err == nil {
				t.Errorf("loadMigrations(%q) succeeded; want an error", tt.files)
			}
		})
	}
}

// TestMigrate applies migrations of several statements each, in order, and
// checks that a failing one leaves the database as it was before Open.
func TestMigrate(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0001_a.sql":   {Data: []byte("CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);")},
		"migrations/0002_b.sql":   {Data: []byte("CREATE TABLE b (y INTEGER);\nINSERT INTO b SELECT x + 1 FROM a;")},
		"migrations/0003_bad.sql": {Data: []byte("CREATE TABLE c (z INTEGER);\nINSERT INTO nosuchtable VALUES (1);")},
	}
	all, err := loadMigrations(fsys)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	schema := func() (version int, tables string) {
		t.Helper()
		if err := conn.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&version); err != nil {
			t.Fatal(err)
		}
		err := conn.QueryRowContext(t.Context(),
			"SELECT coalesce(group_concat(name, ' '), '') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)").Scan(&tables)
		if err != nil {
			t.Fatal(err)
		}
		return version, tables
	}

	if v, err := migrate(t.Context(), conn, "test", all[:1]); err != nil || v != 1 {
		t.Fatalf("migrate to 1 = %d, %v", v, err)
	}
	if v, err := migrate(t.Context(), conn, "test", all[:2]); err != nil || v != 2 {
		t.Fatalf("migrate to 2 = %d, %v", v, err)
	}
	var y int
	if err := conn.QueryRowContext(t.Context(), "SELECT y FROM b").Scan(&y); err != nil || y != 2 {
		t.Errorf("migration 2 ran before 1 or partly: y = %d, %v", y, err)
	}
	if _, err := migrate(t.Context(), conn, "test", all); err == nil {
		t.Fatal("a failing migration succeeded")
	}
	if v, tables := schema(); v != 2 || tables != "a b" {
		t.Errorf("after a failed migration: version %d, tables %q; want 2, \"a b\"", v, tables)
	}
	if _, err := migrate(t.Context(), conn, "test", all[:1]); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("migrate with fewer migrations than applied: err = %v; want ErrSchemaTooNew", err)
	}
}

func TestOpenOptions(t *testing.T) {
	bad := []struct {
		name string
		opts Options
	}{
		{"empty path", Options{}},
		{"unknown sync", Options{Path: Memory, Sync: "off"}},
		{"missing directory", Options{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := Open(t.Context(), tt.opts); err == nil {
				s.Close()
				t.Errorf("Open(%+v) succeeded; want an error", tt.opts)
			}
		})
	}

	// A path that would be misread as a URI if it were not escaped.
	path := filepath.Join(t.TempDir(), "odd ?name#%20.db")
	s := openT(t, Options{Path: path})
	if got := s.Info(); got.Engine != "sqlite" || got.Location != path || got.SchemaVersion != 1 {
		t.Errorf("Info() = %+v", got)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at its path: %v", err)
	}
}

func TestReopen(t *testing.T) {
	path := tempDB(t)
	s, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Put("b", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close checkpointed the WAL: the database file alone holds the data.
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL has %d bytes after Close; want it checkpointed", fi.Size())
	}
	if err := s.Write(t.Context(), func(store.Tx) error { return nil }); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	s = openT(t, Options{Path: path})
	err = s.Read(t.Context(), func(tx store.Tx) error {
		v, err := tx.Get("b", "k")
		if err == nil && string(v) != "v" {
			err = fmt.Errorf("got %q, want v", v)
		}
		return err
	})
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

func setUserVersion(t *testing.T, path string, v int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA user_version = " + strconv.Itoa(v)); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := tempDB(t)
	s, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	latest := s.Info().SchemaVersion
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	setUserVersion(t, path, latest+41)

	s, err = Open(t.Context(), Options{Path: path})
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("err = %v; want it to wrap store.ErrSchemaTooNew", err)
	}
	for _, want := range []string{path, strconv.Itoa(latest + 41), strconv.Itoa(latest), "upgrade orgstack"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestReadsDoNotWaitForWrites holds a write transaction open and checks that
// a Read completes meanwhile, seeing the state before the write.
func TestReadsDoNotWaitForWrites(t *testing.T) {
	s := openT(t, Options{Path: tempDB(t)})
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Put("b", "k", []byte("old")) }); err != nil {
		t.Fatal(err)
	}
	inWrite, readDone := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		err := s.Write(t.Context(), func(tx store.Tx) error {
			if err := tx.Put("b", "k", []byte("new")); err != nil {
				return err
			}
			close(inWrite)
			select {
			case <-readDone:
				return nil
			case <-time.After(10 * time.Second):
				return errors.New("the Read never finished: it waited for the Write")
			}
		})
		if err != nil {
			t.Error(err)
		}
	})
	<-inWrite
	err := s.Read(t.Context(), func(tx store.Tx) error {
		v, err := tx.Get("b", "k")
		if err == nil && string(v) != "old" {
			err = fmt.Errorf("Read during Write saw %q; want old", v)
		}
		return err
	})
	close(readDone)
	if err != nil {
		t.Error(err)
	}
	wg.Wait()
}

// TestBusy locks the database from another connection, as another process
// would, and checks that Write gives up with store.ErrBusy while Reads go on.
func TestBusy(t *testing.T) {
	path := tempDB(t)
	s := openT(t, Options{Path: path, BusyTimeout: 20 * time.Millisecond})
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Put("b", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	calls := 0
	err = s.Write(t.Context(), func(tx store.Tx) error { calls++; return tx.Put("b", "k", []byte("w")) })
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("Write while locked: err = %v; want store.ErrBusy", err)
	}
	if calls != 0 {
		t.Errorf("fn ran %d times; BEGIN IMMEDIATE should fail before it", calls)
	}
	if err := s.Read(t.Context(), func(tx store.Tx) error { _, err := tx.Get("b", "k"); return err }); err != nil {
		t.Errorf("Read while another process writes: %v", err)
	}

	if _, err := lock.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Put("b", "k", []byte("w")) }); err != nil {
		t.Errorf("Write after the lock was released: %v", err)
	}
}

// TestFailedTxCannotCommit checks that a transaction whose fn ignores a
// database error commits nothing. The error comes from a trigger doing
// RAISE(ROLLBACK), after which SQLite has rolled the transaction back by
// itself and a later Put would otherwise commit on its own.
func TestFailedTxCannotCommit(t *testing.T) {
	path := tempDB(t)
	s := openT(t, Options{Path: path})
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.Exec(`CREATE TRIGGER fail BEFORE INSERT ON kv WHEN NEW.key = 'bad'
		BEGIN SELECT RAISE(ROLLBACK, 'injected failure'); END`)
	if err != nil {
		t.Fatal(err)
	}

	err = s.Write(t.Context(), func(tx store.Tx) error {
		if err := tx.Put("b", "first", []byte("x")); err != nil {
			return err
		}
		if err := tx.Put("b", "bad", []byte("x")); err == nil {
			t.Error("Put through the failing trigger succeeded")
		}
		if err := tx.Put("b", "after", []byte("x")); err == nil {
			t.Error("Put after a failed statement succeeded")
		}
		return nil // ignoring the errors
	})
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Errorf("Write whose fn ignored a database error: err = %v; want that error", err)
	}
	err = s.Read(t.Context(), func(tx store.Tx) error {
		if n, err := tx.Count("b", ""); err != nil || n != 0 {
			t.Errorf("after the failed Write, Count = %d, %v; want 0", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMemoryStoresAreSeparate(t *testing.T) {
	a, b := openT(t, Options{Path: Memory}), openT(t, Options{Path: Memory})
	if err := a.Write(t.Context(), func(tx store.Tx) error { return tx.Put("b", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	err := b.Read(t.Context(), func(tx store.Tx) error { _, err := tx.Get("b", "k"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second memory store: Get = %v; want ErrNotFound", err)
	}
}

// The durability test re-executes the test binary as a child process that
// writes keys and reports each acknowledged one on stdout; the parent kills
// it with SIGKILL in the middle of the load and then checks that every
// acknowledged key is in the database.
const (
	envDurabilityDB   = "ORGSTACK_SQLITE_DURABILITY_DB"
	envDurabilitySync = "ORGSTACK_SQLITE_DURABILITY_SYNC"
)

func TestDurability(t *testing.T) {
	if path := os.Getenv(envDurabilityDB); path != "" {
		durabilityChild(t, path, os.Getenv(envDurabilitySync))
		return
	}
	if testing.Short() {
		t.Skip("kills a child process mid-load; skipped with -short")
	}
	for _, mode := range []string{SyncFull, SyncNormal} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			path := tempDB(t)
			acked := runAndKill(t, path, mode, 300)
			s := openT(t, Options{Path: path})
			err := s.Read(t.Context(), func(tx store.Tx) error {
				for _, k := range acked {
					v, err := tx.Get("durability", k)
					if err != nil {
						return fmt.Errorf("acknowledged key %s: %w", k, err)
					}
					if string(v) != k {
						return fmt.Errorf("acknowledged key %s has value %q", k, v)
					}
				}
				n, err := tx.Count("durability", "")
				t.Logf("sync %s: %d keys acknowledged before SIGKILL, %d in the database", mode, len(acked), n)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// runAndKill starts the child, kills it once it has acknowledged at least
// min keys, and returns every key it acknowledged.
func runAndKill(t *testing.T, path, mode string, min int) []string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), envDurabilityDB+"="+path, envDurabilitySync+"="+mode)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	r := bufio.NewReader(stdout)
	killed := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			// EOF after the kill; a last line without its newline was cut
			// short and was never a complete acknowledgement.
			if err != io.EOF {
				t.Error(err)
			}
			break
		}
		if k, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "ack "); ok {
			acked = append(acked, k)
		}
		if !killed && len(acked) >= min {
			// Process.Kill is SIGKILL: no deferred function, no Close.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child exited before it was killed (%v) after %d keys", err, len(acked))
	}
	return acked
}

// durabilityChild writes keys from a few goroutines until it is killed,
// printing each one after its Write returned nil.
func durabilityChild(t *testing.T, path, mode string) {
	s, err := Open(context.Background(), Options{Path: path, Sync: mode})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Minute) // in case the parent dies
	for w := range 4 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				k := fmt.Sprintf("w%d/%07d", w, i)
				err := s.Write(context.Background(), func(tx store.Tx) error { return tx.Put("durability", k, []byte(k)) })
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				// os.Stdout is unbuffered: the line is in the pipe at once.
				fmt.Fprintf(os.Stdout, "ack %s\n", k)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestSecondProcessIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), Options{Path: path}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatalf("Open after Close = %v", err)
	}
	s2.Close()
}

// TestCacheFollowsCommits checks the read cache against the database: a
// value read (and so cached) and then changed, deleted, deleted by prefix
// or reset reads back as committed, and a rolled-back change never shows.
func TestCacheFollowsCommits(t *testing.T) {
	for _, path := range []string{Memory, filepath.Join(t.TempDir(), "db")} {
		s, err := Open(context.Background(), Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		get := func(key string) string {
			t.Helper()
			var v []byte
			err := s.Read(ctx, func(tx store.Tx) error {
				var err error
				v, err = tx.Get("b", key)
				return err
			})
			if errors.Is(err, store.ErrNotFound) {
				return "<none>"
			}
			if err != nil {
				t.Fatal(err)
			}
			return string(v)
		}
		write := func(fn func(store.Tx) error) error { return s.Write(ctx, fn) }

		if got := get("k"); got != "<none>" { // caches the absence
			t.Fatalf("fresh: %q", got)
		}
		write(func(tx store.Tx) error { return tx.Put("b", "k", []byte("v1")) })
		if got := get("k"); got != "v1" {
			t.Fatalf("after put: %q", got)
		}
		errRollback := errors.New("roll back")
		write(func(tx store.Tx) error {
			tx.Put("b", "k", []byte("v2"))
			if v, _ := tx.Get("b", "k"); string(v) != "v2" {
				t.Errorf("a write transaction does not see its own put: %q", v)
			}
			return errRollback
		})
		if got := get("k"); got != "v1" {
			t.Fatalf("after a rolled-back put: %q", got)
		}
		write(func(tx store.Tx) error {
			tx.Put("b", "k2", []byte("x"))
			_, err := tx.DeletePrefix("b", "k")
			if _, err := tx.Get("b", "k"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a write transaction sees a key it deleted by prefix: %v", err)
			}
			return err
		})
		if got, got2 := get("k"), get("k2"); got != "<none>" || got2 != "<none>" {
			t.Fatalf("after delete prefix: %q %q", got, got2)
		}
		write(func(tx store.Tx) error { return tx.Put("b", "k", []byte("v3")) })
		write(func(tx store.Tx) error { return tx.Delete("b", "k") })
		if got := get("k"); got != "<none>" {
			t.Fatalf("after delete: %q", got)
		}
		write(func(tx store.Tx) error { return tx.Put("b", "k", []byte("v4")) })
		get("k")
		if err := s.Reset(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if got := get("k"); got != "<none>" {
			t.Fatalf("after reset: %q", got)
		}
		s.Close()
	}
}

func TestCacheEvictsOverBudget(t *testing.T) {
	c := newCache(2000)
	for i := range 100 {
		c.put(cacheKey("b", strconv.Itoa(i)), cached{value: make([]byte, 50), found: true})
	}
	if c.bytes > 2000 {
		t.Fatalf("cache holds %d bytes, budget 2000", c.bytes)
	}
	n := 0
	for k, e := range c.entries {
		n += entrySize(k, e)
	}
	if n != c.bytes {
		t.Fatalf("accounted %d bytes, holds %d", c.bytes, n)
	}
}

// TestCacheBulkWrite checks that a commit of many keys updates the entries
// the cache has but adds none, and that every key reads back as written.
func TestCacheBulkWrite(t *testing.T) {
	s := openT(t, Options{Path: tempDB(t)})
	ctx := t.Context()
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put("b", "k0000", []byte("old")) }); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.cache.get(cacheKey("b", "k0000")); !ok {
		t.Fatal("a small write's key is not in the cache")
	}
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := range bulkWrite + 10 {
			if err := tx.Put("b", fmt.Sprintf("k%04d", i), fmt.Appendf(nil, "new%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := s.cache.get(cacheKey("b", "k0000")); !ok || string(e.value) != "new0" {
		t.Errorf("the cached key after a bulk write: %q, %v; want new0", e.value, ok)
	}
	if _, ok := s.cache.get(cacheKey("b", "k0001")); ok {
		t.Error("a bulk write added a key the cache did not have")
	}
	err = s.Read(ctx, func(tx store.Tx) error {
		for i := range bulkWrite + 10 {
			v, err := tx.Get("b", fmt.Sprintf("k%04d", i))
			if err != nil || string(v) != fmt.Sprintf("new%d", i) {
				return fmt.Errorf("k%04d = %q, %v", i, v, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
