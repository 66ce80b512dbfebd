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

	// turns orders the Writes; batch is the transaction the holder of the
	// turn works in, nil between batches. batching is whether a batch may
	// outlive its first member's turn: pointless for Memory, which has no
	// fsync to share and whose one connection the Reads need.
	turns    turns
	batch    *batch
	batching bool
	commits  int64 // COMMITs so far, for tests; the turn's holder counts

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

		batching: !memory,
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
// nil. Writes run one at a time, and those that queue meanwhile share one
// commit (group.go). If SQLite reports the database busy (another process
// writing), the whole transaction, fn included, is retried a few times
// before Write fails with an error wrapping store.ErrBusy.
func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	busy, lost := 0, 0
	for {
		err := s.writeOnce(ctx, fn)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errBatchLost):
			// Another Write's failure took this one's work with it: run
			// again, at once, in a new batch.
			if lost++; lost == writeAttempts {
				return fmt.Errorf("sqlite: write: %w", err)
			}
			continue
		case !isBusy(err):
			return err
		}
		if busy++; busy == writeAttempts {
			return fmt.Errorf("sqlite: write: %w after %d attempts: %w", store.ErrBusy, busy, err)
		}
		// Back off a little so the other process can finish.
		select {
		case <-time.After(time.Duration(busy) * 10 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("sqlite: write: %w", ctx.Err())
		}
	}
}

// writeOnce runs fn as a member of the open batch, starting one if there
// is none, and waits for the batch's commit. The batch's transaction began
// with BEGIN IMMEDIATE, which takes the write lock up front so that it
// never fails half-way on lock upgrade. fn runs inside a savepoint: when it
// fails, panics (the panic then continues on its way to the server's
// recover middleware, stack intact) or its ctx ends, only its own changes
// are rolled back.
func (s *Store) writeOnce(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.turns.acquire(ctx, s.closing); err != nil {
		return fmt.Errorf("sqlite: write: %w", err)
	}
	// This Write holds the turn now, and every path must end it.
	if err := s.usable(ctx); err != nil {
		s.endTurn()
		return fmt.Errorf("sqlite: write: %w", err)
	}
	if s.batch == nil {
		if err := s.begin(ctx); err != nil {
			s.turns.release()
			return err
		}
	}
	b := s.batch
	// Statements run without ctx's cancellation: interrupting one would
	// make SQLite roll back the whole transaction, the other members'
	// work included. ctx is checked between statements instead (tx.check).
	bg := context.WithoutCancel(ctx)
	if _, err := b.c.exec(bg, stmtSavepoint); err != nil {
		s.abort(b, err)
		s.turns.release()
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	t := &tx{ctx: bg, caller: ctx, s: s, c: b.c, write: true, begun: true, batch: b}
	joined := false
	defer func() {
		t.done = true
		if !joined {
			s.rollbackMember(b)
			s.endTurn()
		}
	}()

	if err := fn(t); err != nil {
		return err
	}
	if t.failed != nil {
		// fn carried on after a database error: its changes are lost.
		return t.failed
	}
	t.done = true
	// A caller that has gone away gets no commit it cannot learn about.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if _, err := b.c.exec(bg, stmtRelease); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	// With the decision made, the commit runs to completion even if ctx
	// ends meanwhile, so that success is never reported for a rolled-back
	// write nor the reverse.
	joined = true
	b.ws.merge(&t.ws)
	b.members++
	s.endTurn()
	<-b.done
	return b.err
}

// usable says why a Write that has just been given the turn must not run
// its fn after all.
func (s *Store) usable(ctx context.Context) error {
	select {
	case <-s.closing:
		return errClosed
	default:
		return ctx.Err()
	}
}

// begin opens a new batch on the writer connection.
func (s *Store) begin(ctx context.Context) error {
	c, err := s.writer.get(ctx, s.closing)
	if err != nil {
		return fmt.Errorf("sqlite: write: %w", err)
	}
	if _, err := c.exec(context.WithoutCancel(ctx), stmtBeginImmediate); err != nil {
		s.writer.put(c)
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	s.batch = &batch{c: c, done: make(chan struct{})}
	return nil
}

// rollbackMember undoes the changes of a member that is not joining its
// batch. If SQLite has already rolled back the whole transaction the
// savepoint is gone too, and so is the batch.
func (s *Store) rollbackMember(b *batch) {
	ctx := context.Background()
	if _, err := b.c.exec(ctx, stmtRollbackTo); err != nil {
		s.abort(b, err)
		return
	}
	// ROLLBACK TO keeps the savepoint open; RELEASE pops it.
	if _, err := b.c.exec(ctx, stmtRelease); err != nil {
		s.abort(b, err)
	}
}

// abort ends a batch whose transaction cannot go on: it is rolled back and
// its members are told to run again.
func (s *Store) abort(b *batch, cause error) {
	// After a failure SQLite may already have rolled back, so a rollback
	// error is not the one to report.
	_, _ = b.c.exec(context.Background(), stmtRollback)
	b.err = fmt.Errorf("%w: %w", errBatchLost, cause)
	s.finish(b)
}

// endTurn is how the holder of the turn gives it up. An open batch goes
// to the next waiting Write, which will add to it, or, when nobody waits
// or it is full, is committed here for all its members.
func (s *Store) endTurn() {
	b := s.batch
	if b == nil {
		s.turns.release()
		return
	}
	if s.batching && b.members < maxBatch && s.turns.handOn() {
		return
	}
	s.commit(b)
	s.turns.release()
}

// commit ends the open batch: COMMIT when it holds any member's work. The
// fence keeps Reads from seeing the cache and the database at different
// commits.
func (s *Store) commit(b *batch) {
	ctx := context.Background()
	if b.members == 0 {
		_, _ = b.c.exec(ctx, stmtRollback)
		s.finish(b)
		return
	}
	s.cache.fence.Lock()
	if _, err := b.c.exec(ctx, stmtCommit); err != nil {
		// The connection must leave outside any transaction.
		_, _ = b.c.exec(ctx, stmtRollback)
		b.err = fmt.Errorf("sqlite: commit: %w", err)
	} else {
		s.cache.apply(&b.ws)
		s.commits++
	}
	s.cache.fence.Unlock()
	s.finish(b)
}

// finish closes the batch after its transaction has ended and tells its
// members the outcome.
func (s *Store) finish(b *batch) {
	s.batch = nil
	s.writer.put(b.c)
	close(b.done)
}

// isBusy reports whether err comes from SQLITE_BUSY or one of its extended
// codes: another connection holds a lock we need.
func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
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

// Ping reports whether the database answers a query on one of the read
// connections, for health checks. The cache is not consulted.
func (s *Store) Ping(ctx context.Context) error {
	c, err := s.readers.get(ctx, s.closing)
	if err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	defer s.readers.put(c)
	var n int
	if err := c.sc.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close waits for transactions in progress, checkpoints the WAL into the
// database file (so the file alone is a complete copy) and closes every
// connection. Read and Write fail once Close has begun.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		// Wait for the Write holding the turn; it may hand this Close an
		// open batch, whose members wait for its commit.
		_ = s.turns.acquire(context.Background(), nil)
		if s.batch != nil {
			s.commit(s.batch)
		}
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
