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
	"encoding/binary"
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

// A token is base64url(body) "." base64url(mac), the MAC being the first
// 16 bytes of HMAC-SHA256(key, body). The body is the list's scope,
// length-prefixed, followed by the position: raw bytes rather than JSON,
// whose encoder replaces invalid UTF-8, so that every position comes back
// exactly as it was given.

// Encode returns the token that resumes the list named scope after the
// position after.
func (s *Signer) Encode(scope, after string) string {
	body := make([]byte, 0, binary.MaxVarintLen64+len(scope)+len(after))
	body = binary.AppendUvarint(body, uint64(len(scope)))
	body = append(append(body, scope...), after...)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(body) + "." + enc.EncodeToString(s.mac(body))
}

// Decode verifies a token for the list named scope and returns its position.
func (s *Signer) Decode(scope, tok string) (string, error) {
	b64body, b64mac, ok := strings.Cut(tok, ".")
	if !ok || !isBase64URL(b64body) || !isBase64URL(b64mac) {
		return "", ErrInvalidToken
	}
	// Strict: a token differs from the one we made only if its bytes do,
	// never by unused trailing bits.
	enc := base64.RawURLEncoding.Strict()
	body, err1 := enc.DecodeString(b64body)
	sum, err2 := enc.DecodeString(b64mac)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, s.mac(body)) {
		return "", ErrInvalidToken
	}
	n, k := binary.Uvarint(body)
	if k <= 0 || n > uint64(len(body)-k) || string(body[k:k+int(n)]) != scope {
		return "", ErrInvalidToken
	}
	return string(body[k+int(n):]), nil
}

func (s *Signer) mac(body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(body)
	return m.Sum(nil)[:16]
}

// isBase64URL reports whether s holds only the base64url alphabet. The
// decoder itself skips \r and \n, which would let one token be written in
// many ways.
func isBase64URL(s string) bool {
	for i := range len(s) {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
