// Package pagination makes the NextToken of List operations: opaque to the
// client, tamper-evident, and verifiable by any orgstack instance that
// shares the store, because the signing key lives in the store.
//
// A token carries the position to resume after (usually the last key a
// page returned) and what the list was over, so that a token handed to a
// different list, or edited by hand, is refused instead of silently
// listing the wrong thing.
package pagination

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/orgstack/orgstack/internal/store"
)

// ErrInvalidToken is returned for a token that was not made by this
// orgstack for this list; each service words it as its own error.
var ErrInvalidToken = errors.New("pagination: invalid next token")

const (
	bucket = "meta"
	keyKey = "pagination-key"
)

// Signer signs and verifies tokens with one key.
type Signer struct{ key []byte }

// Load returns the signer of the store, creating its key on first use.
func Load(tx store.Tx) (*Signer, error) {
	k, err := tx.Get(bucket, keyKey)
	if err == nil {
		return &Signer{key: k}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("pagination: load key: %w", err)
	}
	k = make([]byte, 32)
	rand.Read(k)
	if err := tx.Create(bucket, keyKey, k); err != nil {
		return nil, fmt.Errorf("pagination: create key: %w", err)
	}
	return &Signer{key: k}, nil
}

// Ensure makes the store's signing key exist. The server calls it at start
// (and Seed at every reset), so that List operations, which run in
// read-only transactions, always find it.
func Ensure(ctx context.Context, st store.Store) error {
	return st.Write(ctx, func(tx store.Tx) error {
		_, err := Load(tx)
		return err
	})
}

// Seed creates the signing key inside a transaction that resets the store.
func Seed(tx store.Tx) error {
	_, err := Load(tx)
	return err
}

// New returns a signer with the given key, for tests.
func New(key []byte) *Signer { return &Signer{key: key} }

// token is what a NextToken carries.
type token struct {
	Scope string `json:"s"` // what is listed, e.g. "ListAccounts/o-abc"
	After string `json:"a"` // resume after this position
}

// Encode returns the token that resumes the list named scope after the
// position after.
func (s *Signer) Encode(scope, after string) string {
	body, _ := json.Marshal(token{Scope: scope, After: after}) // cannot fail
	mac := hmac.New(sha256.New, s.key)
	mac.Write(body)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(body) + "." + enc.EncodeToString(mac.Sum(nil)[:16])
}

// Decode verifies a token for the list named scope and returns its position.
func (s *Signer) Decode(scope, tok string) (string, error) {
	b64body, b64mac, ok := strings.Cut(tok, ".")
	if !ok {
		return "", ErrInvalidToken
	}
	// Strict: a token differs from the one we made only if its bytes do,
	// never by unused trailing bits.
	enc := base64.RawURLEncoding.Strict()
	body, err1 := enc.DecodeString(b64body)
	sum, err2 := enc.DecodeString(b64mac)
	if err1 != nil || err2 != nil {
		return "", ErrInvalidToken
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(body)
	if !hmac.Equal(sum, mac.Sum(nil)[:16]) {
		return "", ErrInvalidToken
	}
	var t token
	if err := json.Unmarshal(body, &t); err != nil || t.Scope != scope {
		return "", ErrInvalidToken
	}
	return t.After, nil
}
