package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orgstack/orgstack/internal/store"
)

var (
	errReadOnly = errors.New("postgres: write in a read-only transaction")
	errTxDone   = errors.New("postgres: transaction used after its function returned")
)

// scanBatch is how many rows Scan reads before calling fn: the rows are
// read and closed first, so that fn may use the transaction (pgx cannot run
// a statement on a connection while another's rows are open).
const scanBatch = 256

// tx implements store.Tx on one pgx transaction.
type tx struct {
	ctx   context.Context
	ptx   pgx.Tx
	write bool
	done  bool
	// failed is the first database error: PostgreSQL aborts the rest of a
	// transaction after one, so it also fails the commit.
	failed error
}

var _ store.Tx = (*tx)(nil)

func (t *tx) check(write bool) error {
	if t.done {
		return errTxDone
	}
	if t.failed != nil {
		return fmt.Errorf("postgres: transaction aborted by an earlier error: %w", t.failed)
	}
	if write && !t.write {
		return errReadOnly
	}
	return nil
}

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
	var v []byte
	err := t.ptx.QueryRow(t.ctx, "SELECT value FROM kv WHERE bucket = $1 AND key = $2", bucket, []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, t.fail(fmt.Errorf("postgres: get %s/%s: %w", bucket, key, err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

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
	_, err := t.ptx.Exec(t.ctx, `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value`, bucket, []byte(key), blob(value))
	if err != nil {
		return t.fail(fmt.Errorf("postgres: put %s/%s: %w", bucket, key, err))
	}
	return nil
}

func (t *tx) Create(bucket, key string, value []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	tag, err := t.ptx.Exec(t.ctx, `INSERT INTO kv (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO NOTHING`, bucket, []byte(key), blob(value))
	if err != nil {
		return t.fail(fmt.Errorf("postgres: create %s/%s: %w", bucket, key, err))
	}
	if tag.RowsAffected() == 0 {
		return store.ErrConflict
	}
	return nil
}

func (t *tx) Delete(bucket, key string) error {
	if err := t.check(true); err != nil {
		return err
	}
	if _, err := t.ptx.Exec(t.ctx, "DELETE FROM kv WHERE bucket = $1 AND key = $2", bucket, []byte(key)); err != nil {
		return t.fail(fmt.Errorf("postgres: delete %s/%s: %w", bucket, key, err))
	}
	return nil
}

// keyRange is the range of keys with a prefix, as SQL conditions on key.
func keyRange(prefix, after string) (cond string, args []any) {
	lower, op := prefix, ">="
	if after != "" && after >= prefix {
		lower, op = after, ">"
	}
	cond, args = "key "+op+" $2", []any{[]byte(lower)}
	if upper, ok := store.PrefixEnd(prefix); ok {
		cond += " AND key < $3"
		args = append(args, []byte(upper))
	}
	return cond, args
}

func (t *tx) Scan(bucket, prefix, after string, limit int, fn func(key string, value []byte) error) error {
	if err := t.check(false); err != nil {
		return err
	}
	type entry struct {
		key   string
		value []byte
	}
	for {
		n := scanBatch
		if limit > 0 {
			n = min(n, limit)
		}
		cond, rangeArgs := keyRange(prefix, after)
		args := append([]any{bucket}, rangeArgs...)
		q := fmt.Sprintf("SELECT key, value FROM kv WHERE bucket = $1 AND %s ORDER BY key LIMIT %d", cond, n)
		rows, err := t.ptx.Query(t.ctx, q, args...)
		if err != nil {
			return t.fail(fmt.Errorf("postgres: scan %s/%s*: %w", bucket, prefix, err))
		}
		batch := make([]entry, 0, n)
		for rows.Next() {
			var k, v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return t.fail(fmt.Errorf("postgres: scan %s/%s*: %w", bucket, prefix, err))
			}
			batch = append(batch, entry{string(k), blob(v)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return t.fail(fmt.Errorf("postgres: scan %s/%s*: %w", bucket, prefix, err))
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
			return nil
		}
		if limit > 0 {
			if limit -= len(batch); limit == 0 {
				return nil
			}
		}
		after = batch[len(batch)-1].key
	}
}

func (t *tx) Count(bucket, prefix string) (int, error) {
	if err := t.check(false); err != nil {
		return 0, err
	}
	cond, rangeArgs := keyRange(prefix, "")
	var n int
	err := t.ptx.QueryRow(t.ctx, "SELECT count(*) FROM kv WHERE bucket = $1 AND "+cond, append([]any{bucket}, rangeArgs...)...).Scan(&n)
	if err != nil {
		return 0, t.fail(fmt.Errorf("postgres: count %s/%s*: %w", bucket, prefix, err))
	}
	return n, nil
}

func (t *tx) DeletePrefix(bucket, prefix string) (int, error) {
	if err := t.check(true); err != nil {
		return 0, err
	}
	cond, rangeArgs := keyRange(prefix, "")
	tag, err := t.ptx.Exec(t.ctx, "DELETE FROM kv WHERE bucket = $1 AND "+cond, append([]any{bucket}, rangeArgs...)...)
	if err != nil {
		return 0, t.fail(fmt.Errorf("postgres: delete %s/%s*: %w", bucket, prefix, err))
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) deleteAll() error {
	if err := t.check(true); err != nil {
		return err
	}
	if _, err := t.ptx.Exec(t.ctx, "DELETE FROM kv"); err != nil {
		return t.fail(fmt.Errorf("postgres: reset: %w", err))
	}
	return nil
}
