package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmtID names one of the statements every connection prepares (lazily) and
// keeps for its lifetime, so that a Get or Put never parses SQL.
type stmtID int

const (
	stmtBegin stmtID = iota
	stmtBeginImmediate
	stmtCommit
	stmtRollback
	// A Write's fn runs inside this savepoint of its batch's transaction
	// (group.go); one name will do, as members run one after the other.
	stmtSavepoint
	stmtRelease
	stmtRollbackTo
	stmtGet
	stmtPut
	stmtCreate
	stmtDelete
	stmtDeleteAll
	// Range statements come in variants: the lower bound is inclusive
	// (the prefix) or exclusive (the `after` key), and the upper bound is
	// present unless the prefix has no successor ("" or all 0xff bytes).
	// Each …To variant immediately follows its open-ended form (withUpper).
	stmtScanFrom
	stmtScanFromTo
	stmtScanAfter
	stmtScanAfterTo
	stmtCountFrom
	stmtCountFromTo
	stmtDeleteFrom
	stmtDeleteFromTo
	numStmts
)

var stmtSQL = [numStmts]string{
	stmtBegin:          "BEGIN",
	stmtBeginImmediate: "BEGIN IMMEDIATE",
	stmtCommit:         "COMMIT",
	stmtRollback:       "ROLLBACK",
	stmtSavepoint:      "SAVEPOINT member",
	stmtRelease:        "RELEASE member",
	stmtRollbackTo:     "ROLLBACK TO member",
	stmtGet:            "SELECT value FROM kv WHERE bucket = ?1 AND key = ?2",
	stmtPut:            "INSERT INTO kv (bucket, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value",
	stmtCreate:         "INSERT INTO kv (bucket, key, value) VALUES (?1, ?2, ?3) ON CONFLICT (bucket, key) DO NOTHING",
	stmtDelete:         "DELETE FROM kv WHERE bucket = ?1 AND key = ?2",
	stmtDeleteAll:      "DELETE FROM kv",
	stmtScanFrom:       "SELECT key, value FROM kv WHERE bucket = ?1 AND key >= ?2 ORDER BY key LIMIT ?3",
	stmtScanFromTo:     "SELECT key, value FROM kv WHERE bucket = ?1 AND key >= ?2 AND key < ?3 ORDER BY key LIMIT ?4",
	stmtScanAfter:      "SELECT key, value FROM kv WHERE bucket = ?1 AND key > ?2 ORDER BY key LIMIT ?3",
	stmtScanAfterTo:    "SELECT key, value FROM kv WHERE bucket = ?1 AND key > ?2 AND key < ?3 ORDER BY key LIMIT ?4",
	stmtCountFrom:      "SELECT count(*) FROM kv WHERE bucket = ?1 AND key >= ?2",
	stmtCountFromTo:    "SELECT count(*) FROM kv WHERE bucket = ?1 AND key >= ?2 AND key < ?3",
	stmtDeleteFrom:     "DELETE FROM kv WHERE bucket = ?1 AND key >= ?2",
	stmtDeleteFromTo:   "DELETE FROM kv WHERE bucket = ?1 AND key >= ?2 AND key < ?3",
}

// withUpper returns the variant of an open-ended range statement that also
// takes an exclusive upper bound.
func withUpper(id stmtID) stmtID { return id + 1 }

// conn is one SQLite connection pinned out of database/sql's pool for the
// life of the Store, with its prepared statements. Pinning lets us choose
// which connection writes and which read, keeps a ":memory:" database alive
// (it dies with its connection), and lets us run BEGIN/COMMIT ourselves as
// prepared statements instead of paying for sql.Tx and per-transaction
// statement copies. A conn is used by one goroutine at a time (see pool).
type conn struct {
	sc    *sql.Conn
	stmts [numStmts]*sql.Stmt
}

func newConn(ctx context.Context, db *sql.DB, pragmas []string) (*conn, error) {
	sc, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pragmas {
		if _, err := sc.ExecContext(ctx, "PRAGMA "+p); err != nil {
			_ = sc.Close()
			return nil, fmt.Errorf("PRAGMA %s: %w", p, err)
		}
	}
	return &conn{sc: sc}, nil
}

// stmt returns the prepared statement id, preparing it on first use. Lazy
// preparation matters because the kv table does not exist until migrations
// have run, and read connections never need the write statements.
func (c *conn) stmt(ctx context.Context, id stmtID) (*sql.Stmt, error) {
	if s := c.stmts[id]; s != nil {
		return s, nil
	}
	s, err := c.sc.PrepareContext(ctx, stmtSQL[id])
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", stmtSQL[id], err)
	}
	c.stmts[id] = s
	return s, nil
}

func (c *conn) exec(ctx context.Context, id stmtID, args ...any) (sql.Result, error) {
	s, err := c.stmt(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (c *conn) query(ctx context.Context, id stmtID, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (c *conn) close() error {
	var errs []error
	for _, s := range c.stmts {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	errs = append(errs, c.sc.Close())
	return errors.Join(errs...)
}

// pool hands out a fixed set of connections, each to one goroutine at a
// time. Unlike sync.Mutex, waiting for a connection honours the caller's
// context and the Store closing.
type pool struct {
	conns chan *conn
	size  int
}

func newPool(conns ...*conn) *pool {
	p := &pool{conns: make(chan *conn, len(conns)), size: len(conns)}
	for _, c := range conns {
		p.conns <- c
	}
	return p
}

func (p *pool) get(ctx context.Context, closing <-chan struct{}) (*conn, error) {
	// Check first: select picks at random among ready cases, and a caller
	// whose context is already done must not start a transaction.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-closing:
		return nil, errClosed
	default:
	}
	select {
	case c := <-p.conns:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-closing:
		return nil, errClosed
	}
}

func (p *pool) put(c *conn) { p.conns <- c }

// drain takes every connection back, waiting for those in use.
func (p *pool) drain() []*conn {
	cs := make([]*conn, 0, p.size)
	for range p.size {
		cs = append(cs, <-p.conns)
	}
	return cs
}
