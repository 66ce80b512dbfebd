package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgstack/orgstack/internal/store"
)

var (
	errReadOnly = errors.New("sqlite: write in a read-only transaction")
	errTxDone   = errors.New("sqlite: transaction used after its function returned")
)

// scanBatch is how many rows Scan reads before calling fn. Reading a batch
// and closing the statement before fn runs lets fn use the transaction
// freely (Get, Put, even a nested Scan of the same shape, which would reset
// a prepared statement still being stepped) while keeping memory bounded for
// an unlimited Scan of a large bucket.
const scanBatch = 256

// tx implements store.Tx on one connection inside BEGIN … COMMIT. It is not
// safe for concurrent use, like the fn it is handed to.
type tx struct {
	// ctx is for the statements. A write transaction's cannot be
	// canceled (see Store.writeOnce); caller is the Write's own context,
	// whose end stops the transaction between statements.
	ctx    context.Context
	caller context.Context
	s      *Store
	c      *conn // nil for a Read until it needs SQLite
	write  bool
	done   bool
	// begun says whether a SQLite transaction is open on c; ownConn that
	// the Read took c from the readers and must give it back.
	begun, ownConn bool
	// ws is what a write transaction changed, for the cache; batch holds
	// what the earlier members of its batch changed.
	ws    writeSet
	batch *batch
	// failed is the first error from the database. SQLite rolls a
	// transaction back by itself after some errors (I/O, disk full,
	// interruption); if fn ignored the error and went on, its later
	// statements would each commit on their own. So, as in PostgreSQL, one
	// failure fails the rest of the transaction and its commit.
	failed error
}

var _ store.Tx = (*tx)(nil)

func (t *tx) check(write bool) error {
	if t.done {
		return errTxDone
	}
	if t.failed != nil {
		return fmt.Errorf("sqlite: transaction aborted by an earlier error: %w", t.failed)
	}
	if write && !t.write {
		return errReadOnly
	}
	if t.caller != nil {
		if err := t.caller.Err(); err != nil {
			return fmt.Errorf("sqlite: write: %w", err)
		}
	}
	return nil
}

// conn returns the connection with a SQLite transaction open on it. A Read
// opens its snapshot only here, at its first cache miss or range query.
func (t *tx) conn() (*conn, error) {
	if t.c == nil {
		c, err := t.s.readers.get(t.ctx, t.s.closing)
		if err != nil {
			return nil, t.fail(fmt.Errorf("sqlite: read: %w", err))
		}
		t.c, t.ownConn = c, true
	}
	if !t.begun {
		if _, err := t.c.exec(t.ctx, stmtBegin); err != nil {
			return nil, t.fail(fmt.Errorf("sqlite: begin: %w", err))
		}
		t.begun = true
	}
	return t.c, nil
}

// end finishes a Read: it ends the snapshot and returns the connection.
func (t *tx) end() error {
	t.done = true
	var err error
	if t.begun {
		// Roll back even when ctx is done: the connection must leave here
		// outside any transaction.
		if _, rerr := t.c.exec(context.WithoutCancel(t.ctx), stmtRollback); rerr != nil {
			err = fmt.Errorf("sqlite: rollback: %w", rerr)
		}
	}
	if t.ownConn {
		t.s.readers.put(t.c)
	}
	return err
}

// fail records err as the transaction's failure and returns it.
func (t *tx) fail(err error) error {
	if t.failed == nil {
		t.failed = err
	}
	return err
}

func (t *tx) Get(bucket, key string) ([]byte, error) {
	if err := t.check(false); err != nil {
		return nil, err
	}
	k := cacheKey(bucket, key)
	if t.write {
		if e, known := t.ws.lookup(k); known {
			return e.copy()
		}
		if e, known := t.batch.ws.lookup(k); known {
			return e.copy()
		}
	}
	if e, ok := t.s.cache.get(k); ok {
		return e.copy()
	}
	v, err := t.get(bucket, key)
	switch {
	case err == nil:
		t.s.cache.put(k, cached{value: v, found: true})
		return append([]byte{}, v...), nil
	case errors.Is(err, store.ErrNotFound):
		t.s.cache.put(k, cached{})
	}
	return nil, err
}

// copy returns the value for a caller to keep, or ErrNotFound.
func (e cached) copy() ([]byte, error) {
	if !e.found {
		return nil, store.ErrNotFound
	}
	return append([]byte{}, e.value...), nil
}

// get reads key from SQLite. In a write transaction it is called only for
// keys neither the transaction nor its batch has touched, so what it
// returns is committed state and may go into the cache.
func (t *tx) get(bucket, key string) ([]byte, error) {
	c, err := t.conn()
	if err != nil {
		return nil, err
	}
	rows, err := c.query(t.ctx, stmtGet, bucket, key)
	if err != nil {
		return nil, t.fail(fmt.Errorf("sqlite: get %s/%s: %w", bucket, key, err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, t.fail(fmt.Errorf("sqlite: get %s/%s: %w", bucket, key, err))
		}
		return nil, store.ErrNotFound
	}
	// Scanning into *[]byte copies the driver's bytes.
	var v []byte
	if err := rows.Scan(&v); err != nil {
		return nil, t.fail(fmt.Errorf("sqlite: get %s/%s: %w", bucket, key, err))
	}
	if v == nil {
		v = []byte{} // an empty BLOB scans as nil; a stored value is never nil
	}
	return v, nil
}

// blob makes a nil value an empty BLOB: the driver binds nil as NULL, which
// the NOT NULL column rightly refuses.
func blob(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

func (t *tx) Put(bucket, key string, value []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	if _, err := t.c.exec(t.ctx, stmtPut, bucket, key, blob(value)); err != nil {
		return t.fail(fmt.Errorf("sqlite: put %s/%s: %w", bucket, key, err))
	}
	t.ws.set(cacheKey(bucket, key), cached{value: append([]byte{}, value...), found: true})
	return nil
}

func (t *tx) Create(bucket, key string, value []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	// ON CONFLICT DO NOTHING reports a duplicate as zero rows affected, so
	// no driver error code has to be decoded.
	res, err := t.c.exec(t.ctx, stmtCreate, bucket, key, blob(value))
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: create %s/%s: %w", bucket, key, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: create %s/%s: %w", bucket, key, err))
	}
	if n == 0 {
		return store.ErrConflict
	}
	t.ws.set(cacheKey(bucket, key), cached{value: append([]byte{}, value...), found: true})
	return nil
}

func (t *tx) Delete(bucket, key string) error {
	if err := t.check(true); err != nil {
		return err
	}
	if _, err := t.c.exec(t.ctx, stmtDelete, bucket, key); err != nil {
		return t.fail(fmt.Errorf("sqlite: delete %s/%s: %w", bucket, key, err))
	}
	t.ws.set(cacheKey(bucket, key), cached{})
	return nil
}

func (t *tx) Scan(bucket, prefix, after string, limit int, fn func(key string, value []byte) error) error {
	if err := t.check(false); err != nil {
		return err
	}
	upper, bounded := store.PrefixEnd(prefix)
	// The range starts at the prefix, or just past `after` when that is
	// further on. An `after` before the prefix does not narrow anything.
	lower, exclusive := prefix, false
	if after != "" && after >= prefix {
		lower, exclusive = after, true
	}

	batch := make([]entry, 0, min(scanBatch, max(limit, 1)))
	for {
		n := scanBatch
		if limit > 0 {
			n = min(n, limit)
		}
		var err error
		batch, err = t.fetch(batch[:0], bucket, lower, exclusive, upper, bounded, n)
		if err != nil {
			return t.fail(fmt.Errorf("sqlite: scan %s/%s*: %w", bucket, prefix, err))
		}
		for _, e := range batch {
			if err := fn(e.key, e.value); err != nil {
				if errors.Is(err, store.ErrStop) {
					return nil
				}
				return err
			}
		}
		if len(batch) < n {
			return nil // the range is exhausted
		}
		if limit > 0 {
			if limit -= len(batch); limit == 0 {
				return nil
			}
		}
		lower, exclusive = batch[len(batch)-1].key, true
	}
}

type entry struct {
	key   string
	value []byte
}

// fetch appends up to n entries of the range to dst, in key order.
func (t *tx) fetch(dst []entry, bucket, lower string, exclusive bool, upper string, bounded bool, n int) ([]entry, error) {
	id := stmtScanFrom
	if exclusive {
		id = stmtScanAfter
	}
	var args []any
	if bounded {
		id = withUpper(id)
		args = []any{bucket, lower, upper, n}
	} else {
		args = []any{bucket, lower, n}
	}
	c, err := t.conn()
	if err != nil {
		return dst, err
	}
	rows, err := c.query(t.ctx, id, args...)
	if err != nil {
		return dst, err
	}
	defer rows.Close()
	for rows.Next() {
		var e entry
		// *[]byte receives a copy, safe to hand to fn and for fn to keep.
		if err := rows.Scan(&e.key, &e.value); err != nil {
			return dst, err
		}
		e.value = blob(e.value)
		dst = append(dst, e)
	}
	return dst, rows.Err()
}

func (t *tx) Count(bucket, prefix string) (int, error) {
	if err := t.check(false); err != nil {
		return 0, err
	}
	id, args := prefixRange(stmtCountFrom, bucket, prefix)
	c, err := t.conn()
	if err != nil {
		return 0, err
	}
	rows, err := c.query(t.ctx, id, args...)
	if err != nil {
		return 0, t.fail(fmt.Errorf("sqlite: count %s/%s*: %w", bucket, prefix, err))
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		err = rows.Scan(&n)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return 0, t.fail(fmt.Errorf("sqlite: count %s/%s*: %w", bucket, prefix, err))
	}
	return n, nil
}

func (t *tx) DeletePrefix(bucket, prefix string) (int, error) {
	if err := t.check(true); err != nil {
		return 0, err
	}
	id, args := prefixRange(stmtDeleteFrom, bucket, prefix)
	res, err := t.c.exec(t.ctx, id, args...)
	if err != nil {
		return 0, t.fail(fmt.Errorf("sqlite: delete %s/%s*: %w", bucket, prefix, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.fail(fmt.Errorf("sqlite: delete %s/%s*: %w", bucket, prefix, err))
	}
	t.ws.deletePrefix(cacheKey(bucket, prefix))
	return int(n), nil
}

// prefixRange picks the variant of the open-ended range statement id that
// selects the keys of bucket with the given prefix, and its arguments.
func prefixRange(id stmtID, bucket, prefix string) (stmtID, []any) {
	if upper, ok := store.PrefixEnd(prefix); ok {
		return withUpper(id), []any{bucket, prefix, upper}
	}
	return id, []any{bucket, prefix}
}

// deleteAll empties every bucket, for Store.Reset.
func (t *tx) deleteAll() error {
	if err := t.check(true); err != nil {
		return err
	}
	if _, err := t.c.exec(t.ctx, stmtDeleteAll); err != nil {
		return t.fail(fmt.Errorf("sqlite: reset: %w", err))
	}
	t.ws.clear()
	return nil
}
