// Package sqlite is the default store engine: one SQLite database file in
// WAL mode, through the pure-Go driver modernc.org/sqlite (no cgo).
//
// SQLite allows one writer at a time, so the Store keeps one dedicated
// writer connection and a pool of read-only connections. In WAL mode each
// reader sees a consistent snapshot and never waits for the writer, and
// writers are serialised in the process before they reach SQLite, so
// SQLITE_BUSY only arises when another process holds the lock.
//
// Durability: with Sync "full" (the default) every committed Write is in
// the WAL on stable storage before Write returns, so it survives both a
// killed process and a power loss. With Sync "normal" the WAL is synced only
// at checkpoints: a committed Write survives the process being killed (the
// data is in the operating system's cache) but the last transactions may be
// lost if the machine itself goes down.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/orgstack/orgstack/internal/store"
)

// Memory is the Path of a throwaway database that lives as long as its Store.
const Memory = ":memory:"

// Values of Options.Sync.
const (
	SyncFull   = "full"
	SyncNormal = "normal"
)

// Options configures Open.
type Options struct {
	// Path is the database file, created if missing (its directory must
	// exist), or Memory.
	Path string
	// Sync is SyncFull (the default) or SyncNormal; see the package doc.
	Sync string
	// ReadConns is the number of read connections: how many Reads run at
	// once. Zero means GOMAXPROCS, at least 4. A Memory store has a single
	// connection shared by reads and writes.
	ReadConns int
	// BusyTimeout is how long a statement waits for a lock held by another
	// process before failing with SQLITE_BUSY. Zero means 5 seconds.
	BusyTimeout time.Duration
}

// writeAttempts bounds how often Write runs a transaction that failed with
// SQLITE_BUSY; each attempt has already waited BusyTimeout inside SQLite.
const writeAttempts = 3

var errClosed = errors.New("sqlite: store is closed")

// Store is a store.Store backed by SQLite. Its methods are safe for
// concurrent use. The fn given to Read or Write must not call Read or Write
// on the same Store: with one writer connection (and, for Memory, one
// connection in all) the inner call would wait for the outer forever.
type Store struct {
	db      *sql.DB
	lock    *os.File // held while open; nil for Memory
	cache   *cache
	writer  *pool // one connection
	readers *pool // read-only connections; the writer's pool for Memory
	info    store.Info

	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the database, applies pending migrations and
// returns a Store ready for use. It fails with an error wrapping
// store.ErrSchemaTooNew if the database was written by a newer orgstack.
func Open(ctx context.Context, opts Options) (_ *Store, err error) {
	if opts.Path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	var syncMode string
	switch strings.ToLower(opts.Sync) {
	case "", SyncFull:
		syncMode = "FULL"
	case SyncNormal:
		syncMode = "NORMAL"
	default:
		return nil, fmt.Errorf("sqlite: open %s: sync %q: want %q or %q", opts.Path, opts.Sync, SyncFull, SyncNormal)
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	memory := opts.Path == Memory

	dsn := Memory
	nconns := 1
	var lock *os.File
	if !memory {
		if dsn, err = fileURI(opts.Path); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", opts.Path, err)
		}
		nconns += opts.ReadConns
		if lock, err = lockFile(opts.Path); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				lock.Close()
			}
		}()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", opts.Path, err)
	}
	// Every connection is pinned for the Store's life (see conn), so the
	// pool must never retire one: that would also drop a Memory database.
	db.SetMaxOpenConns(nconns)
	db.SetMaxIdleConns(nconns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	var conns []*conn
	defer func() {
		if err != nil {
			for _, c := range conns {
				_ = c.close()
			}
			_ = db.Close()
		}
	}()

	busy := "busy_timeout = " + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	writer, err := newConn(ctx, db, []string{busy, "synchronous = " + syncMode})
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", opts.Path, err)
	}
	conns = append(conns, writer)
	if !memory {
		// journal_mode is a property of the file: set once, every later
		// connection finds it. SQLite answers with the mode it is in, which
		// stays the old one where WAL is impossible (some network file
		// systems); better to refuse than to run with other guarantees.
		var mode string
		if err := writer.sc.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: PRAGMA journal_mode: %w", opts.Path, err)
		}
		if !strings.EqualFold(mode, "wal") {
			return nil, fmt.Errorf("sqlite: open %s: cannot use WAL mode (journal_mode is %s)", opts.Path, mode)
		}
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return nil, err
	}
	version, err := migrate(ctx, writer.sc, opts.Path, ms)
	if err != nil {
		return nil, err
	}

	s := &Store{
		db:      db,
		lock:    lock,
		cache:   newCache(defaultCacheBudget),
		writer:  newPool(writer),
		closing: make(chan struct{}),
		info:    store.Info{Engine: "sqlite", Location: opts.Path, SchemaVersion: version},
	}
	if memory {
		// One connection is the whole database: reads and writes take
		// turns on it, which also makes every transaction serializable.
		s.readers = s.writer
		return s, nil
	}
	readers := make([]*conn, 0, opts.ReadConns)
	for range opts.ReadConns {
		// query_only turns an accidental write into an error rather than
		// a lock fight with the writer connection.
		r, err := newConn(ctx, db, []string{busy, "query_only = 1"})
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: reader: %w", opts.Path, err)
		}
		conns = append(conns, r)
		readers = append(readers, r)
	}
	s.readers = newPool(readers...)
	return s, nil
}

// fileURI turns a path into a SQLite URI filename. The URI form is needed so
// that a '?' or '#' in the path is taken literally rather than as the start
// of parameters, hence the escaping.
func fileURI(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:/C:/…
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath(), nil
}

// Read runs fn in a read-only transaction on a consistent snapshot. It does
// not wait for Writes in progress, only, briefly, for one that is
// committing. Point reads are answered from the cache where possible; a
// SQLite snapshot is opened only for the first miss or Scan.
func (s *Store) Read(ctx context.Context, fn func(store.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: read: %w", err)
	}
	t := &tx{ctx: ctx, s: s}
	if s.readers == s.writer {
		// Memory: the one connection is taken before the fence, never
		// after, or a Read holding the fence would wait for a Write that
		// holds the connection and waits for the fence.
		if t.c, err = s.readers.get(ctx, s.closing); err != nil {
			return fmt.Errorf("sqlite: read: %w", err)
		}
		t.ownConn = true
	}
	s.cache.fence.RLock()
	defer s.cache.fence.RUnlock()
	select {
	case <-s.closing:
		if t.ownConn {
			s.readers.put(t.c)
		}
		return fmt.Errorf("sqlite: read: %w", errClosed)
	default:
	}
	defer func() {
		if rerr := t.end(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	return t.failed
}

// Write runs fn in a read-write transaction and commits it if fn returns
// nil. Writes run one at a time. If SQLite reports the database busy
// (another process writing), the whole transaction, fn included, is retried
// a few times before Write fails with an error wrapping store.ErrBusy.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || !isBusy(err) {
			return err
		}
		if attempt == writeAttempts {
			return fmt.Errorf("sqlite: write: %w after %d attempts: %w", store.ErrBusy, attempt, err)
		}
		// Back off a little so the other process can finish.
		select {
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("sqlite: write: %w", ctx.Err())
		}
	}
}

// writeOnce runs fn in a transaction on the writer connection: BEGIN
// IMMEDIATE takes the write lock up front so that a transaction never fails
// half-way on lock upgrade. It commits when fn returns nil; anything else,
// including a panic in fn, rolls back (the panic then continues on its way
// to the server's recover middleware, stack intact).
func (s *Store) writeOnce(ctx context.Context, fn func(store.Tx) error) (err error) {
	c, err := s.writer.get(ctx, s.closing)
	if err != nil {
		return fmt.Errorf("sqlite: write: %w", err)
	}
	defer s.writer.put(c)
	if _, err := c.exec(ctx, stmtBeginImmediate); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	t := &tx{ctx: ctx, s: s, c: c, write: true, begun: true}
	committed := false
	defer func() {
		t.done = true
		if committed {
			return
		}
		// Roll back even when ctx is done: the connection must leave here
		// outside any transaction. After a failure SQLite may already have
		// rolled back, so a rollback error is not the one to report.
		_, _ = c.exec(context.WithoutCancel(ctx), stmtRollback)
	}()

	if err := fn(t); err != nil {
		return err
	}
	if t.failed != nil {
		// fn carried on after a database error: the transaction is lost.
		return t.failed
	}
	t.done = true
	// A caller that has gone away gets no commit it cannot learn about.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	// With the decision made, COMMIT runs to completion even if ctx ends
	// meanwhile, so that success is never reported for a rolled-back write
	// nor the reverse. The fence keeps Reads from seeing the cache and the
	// database at different commits.
	s.cache.fence.Lock()
	defer s.cache.fence.Unlock()
	if _, err := c.exec(context.WithoutCancel(ctx), stmtCommit); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	s.cache.apply(&t.ws)
	return nil
}

// isBusy reports whether err comes from SQLITE_BUSY or one of its extended
// codes: another connection holds a lock we need.
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Reset deletes every key of every bucket in one transaction.
func (s *Store) Reset(ctx context.Context) error {
	return s.Write(ctx, func(t store.Tx) error { return t.(*tx).deleteAll() })
}

// Info describes the store for health reporting.
func (s *Store) Info() store.Info { return s.info }

// Close waits for transactions in progress, checkpoints the WAL into the
// database file (so the file alone is a complete copy) and closes every
// connection. Read and Write fail once Close has begun.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		// Wait for Reads in progress, cache-only ones included.
		s.cache.fence.Lock()
		defer s.cache.fence.Unlock()
		conns := s.writer.drain()
		if s.readers != s.writer {
			conns = append(conns, s.readers.drain()...)
		}
		var errs []error
		if s.info.Location != Memory {
			// TRUNCATE also shrinks the -wal file to zero bytes.
			if _, err := conns[0].sc.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				errs = append(errs, fmt.Errorf("checkpoint: %w", err))
			}
		}
		for _, c := range conns {
			errs = append(errs, c.close())
		}
		errs = append(errs, s.db.Close())
		if s.lock != nil {
			errs = append(errs, s.lock.Close()) // closing releases the flock
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close %s: %w", s.info.Location, err)
		}
	})
	return s.closeErr
}
