// Package store is orgstack's persistence: an ordered, transactional
// key-value space divided into buckets, behind one interface that each
// database engine implements with its own SQL and migrations.
//
// Domains keep typed repositories on top of Tx (records encoded as JSON,
// secondary indexes as their own keys) so that no engine's SQL leaks into
// them and every engine offers exactly the same semantics: each API call is
// one transaction, all or nothing, serializable.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned by Get when the key does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned by Create when the key already exists.
	ErrConflict = errors.New("store: key already exists")
	// ErrSchemaTooNew is returned by Open when the database was written by a
	// newer orgstack than this binary.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
	// ErrBusy is returned by Write when a transaction could not commit after
	// its retries because of concurrent writers.
	ErrBusy = errors.New("store: too many concurrent writers")
)

// Store is a transactional bucketed key-value store.
type Store interface {
	// Read runs fn in a read-only transaction with a consistent snapshot.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in a read-write transaction and commits it when fn
	// returns nil. fn may run more than once if the engine retries a
	// serialization conflict, so it must not have side effects outside tx.
	Write(ctx context.Context, fn func(Tx) error) error
	// Reset deletes every key of every bucket and then, in the same
	// transaction, runs seed (when not nil) to put back what must always
	// exist, so that no other transaction ever sees the store half reset.
	// Like Write, it may run seed more than once.
	Reset(ctx context.Context, seed func(Tx) error) error
	// Info describes the engine, for health reporting.
	Info() Info
	Close() error
}

// Info describes an open store.
type Info struct {
	Engine        string `json:"engine"`   // "sqlite" or "postgres"
	Location      string `json:"location"` // file path, ":memory:" or a redacted URL
	SchemaVersion int    `json:"schemaVersion"`
	// Shared says that other processes may commit to the store at any
	// moment (PostgreSQL), so that what an instance holds in memory about
	// the store's state must be refreshed from it. It is false when this
	// process is the store's only user (SQLite locks its file).
	Shared bool `json:"shared"`
}

// Tx is one transaction. Keys are ordered bytewise within a bucket and may
// hold any byte. Bucket names are fixed identifiers of the code: non-empty
// and without NUL bytes (engines rely on that to join bucket and key).
type Tx interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(bucket, key string) ([]byte, error)
	// Put stores value under key, replacing any previous value.
	Put(bucket, key string, value []byte) error
	// Create stores value under key, or fails with ErrConflict if it exists.
	Create(bucket, key string, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(bucket, key string) error
	// Scan calls fn for each key with the given prefix that sorts strictly
	// after `after` (all of them when after is ""), in key order, stopping
	// after limit keys (no limit when limit <= 0) or when fn returns
	// ErrStop or any other error. Only ErrStop is swallowed.
	Scan(bucket, prefix, after string, limit int, fn func(key string, value []byte) error) error
	// Count returns the number of keys with the given prefix.
	Count(bucket, prefix string) (int, error)
	// DeletePrefix removes every key with the given prefix and says how many.
	DeletePrefix(bucket, prefix string) (int, error)
}

// ErrStop ends a Scan early without an error.
var ErrStop = errors.New("store: stop scan")

// GetJSON reads the record under key into a new T (see decode.go for how
// repeated reads of the same record are answered).
func GetJSON[T any](tx Tx, bucket, key string) (*T, error) {
	b, err := tx.Get(bucket, key)
	if err != nil {
		return nil, err
	}
	v, err := decode[T](b, true)
	if err != nil {
		return nil, fmt.Errorf("store: decode %s/%s: %w", bucket, key, err)
	}
	return v, nil
}

// PutJSON stores v under key as JSON.
func PutJSON(tx Tx, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s/%s: %w", bucket, key, err)
	}
	return tx.Put(bucket, key, b)
}

// CreateJSON stores v under key as JSON, or fails with ErrConflict.
func CreateJSON(tx Tx, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s/%s: %w", bucket, key, err)
	}
	return tx.Create(bucket, key, b)
}

// ScanJSON decodes each record of a Scan into a T and passes it to fn.
func ScanJSON[T any](tx Tx, bucket, prefix, after string, limit int, fn func(key string, v *T) error) error {
	return tx.Scan(bucket, prefix, after, limit, func(key string, b []byte) error {
		v, err := decode[T](b, false)
		if err != nil {
			return fmt.Errorf("store: decode %s/%s: %w", bucket, key, err)
		}
		return fn(key, v)
	})
}

// PrefixEnd returns the smallest string greater than every string that
// starts with prefix, so that "has prefix p" is the range p <= key < end.
// That is the prefix with its last byte incremented, after dropping
// trailing 0xff bytes, which cannot be incremented: the keys starting with
// "a\xff" end before "b". When the prefix is "" or only 0xff bytes no such
// string exists and ok is false: the range is unbounded above. Engines
// use it to turn a prefix into a key range their indexes can serve.
func PrefixEnd(prefix string) (end string, ok bool) {
	for i := len(prefix) - 1; i >= 0; i-- {
		if c := prefix[i]; c != 0xff {
			b := []byte(prefix[:i+1])
			b[i] = c + 1
			return string(b), true
		}
	}
	return "", false
}
