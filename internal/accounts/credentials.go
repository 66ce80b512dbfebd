package accounts

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

const (
	keyBucket      = "accounts.keys"         // access key id -> Credential
	keyIndexBucket = "accounts.account-keys" // account id + "/" + access key id -> ""
	// Temporary credentials by expiry, so that ended sessions can be
	// dropped oldest first: expiration (RFC 3339, UTC, fixed width) + "/" +
	// access key id -> "".
	expiryBucket = "accounts.session-expiry"

	// AWS access key ids are a four-letter prefix and 16 characters of the
	// RFC 4648 base32 alphabet; AKIA marks long-term keys, ASIA temporary
	// ones. Clients and secret scanners recognise them by that shape.
	prefixLongTerm  = "AKIA"
	prefixTemporary = "ASIA"
	keyAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	// Secret access keys are 40 characters of base64's alphabet.
	secretAlphabet = idgen.Alnum + "+/"
)

// ErrNoKey is returned for an access key id that is not registered (or not
// registered to the account named).
var ErrNoKey = errors.New("accounts: no such access key")

// Credential is a registered access key. The secret is kept because a
// SigV4 signature can only be checked by recomputing it; it must never
// reach a log, which LogValue and String make sure of.
type Credential struct {
	AccessKeyID     string    `json:"accessKeyId"`
	SecretAccessKey string    `json:"secretAccessKey"`
	AccountID       string    `json:"accountId"`
	CreatedAt       time.Time `json:"createdAt"`
	// Session is set for temporary credentials issued by STS.
	Session *Session `json:"session,omitempty"`
}

// Session is what temporary credentials act as: a role of an account,
// until Expiration on the orgstack clock.
type Session struct {
	// TokenHash is the hex SHA-256 of the session token. The token itself
	// is not stored: a request proves it knows the token, and a copy of
	// the store should not be enough to impersonate the session.
	TokenHash   string    `json:"tokenHash"`
	Expiration  time.Time `json:"expiration"`
	RoleName    string    `json:"roleName"`
	RoleID      string    `json:"roleId"`
	SessionName string    `json:"sessionName"`
	// SourceAccountID is the account whose principal assumed the role.
	SourceAccountID string `json:"sourceAccountId"`
	// Chained is true when the session was obtained with temporary
	// credentials (role chaining), which AWS limits to one hour.
	Chained bool `json:"chained,omitempty"`
}

// Temporary reports whether the credential was issued by STS.
func (c *Credential) Temporary() bool { return c.Session != nil }

// LogValue keeps the secret out of structured logs.
func (c *Credential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", c.AccessKeyID), slog.String("account", c.AccountID))
}

// String keeps the secret out of fmt output.
func (c *Credential) String() string {
	return "credential " + c.AccessKeyID + " of " + c.AccountID
}

// TokenMatches reports, in constant time, whether token is the session's.
func (s *Session) TokenMatches(token string) bool {
	return subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(s.TokenHash)) == 1
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewRootKey registers a new long-term access key pair for the root user
// of an existing account.
func NewRootKey(tx store.Tx, accountID string, now time.Time) (*Credential, error) {
	if _, err := Get(tx, accountID); err != nil {
		return nil, err
	}
	c := &Credential{AccountID: accountID, CreatedAt: now, SecretAccessKey: idgen.String(secretAlphabet, 40)}
	return c, createKey(tx, prefixLongTerm, c)
}

// NewSessionKey registers temporary credentials acting in accountID and
// returns them with their session token, which only the caller ever sees.
func NewSessionKey(tx store.Tx, accountID string, s Session, now time.Time) (*Credential, string, error) {
	// 96 random bytes: as opaque as AWS's tokens and about as long as the
	// shorter ones, so clients that size buffers for them are fine.
	token := base64.StdEncoding.EncodeToString([]byte(idgen.String(idgen.Alnum, 96)))
	s.TokenHash = hashToken(token)
	c := &Credential{AccountID: accountID, CreatedAt: now, SecretAccessKey: idgen.String(secretAlphabet, 40), Session: &s}
	if err := createKey(tx, prefixTemporary, c); err != nil {
		return nil, "", err
	}
	return c, token, tx.Put(expiryBucket, expiryKey(c), nil)
}

const expiryFormat = "2006-01-02T15:04:05.000000000Z" // sorts as time does

func expiryKey(c *Credential) string {
	return c.Session.Expiration.UTC().Format(expiryFormat) + "/" + c.AccessKeyID
}

// PurgeExpiredSessions deletes up to limit temporary credentials that
// expired before now, oldest first, and says how many. Expired sessions are
// refused anyway; this only keeps them from piling up in the store.
func PurgeExpiredSessions(tx store.Tx, now time.Time, limit int) (int, error) {
	cutoff := now.UTC().Format(expiryFormat)
	var done []string
	err := tx.Scan(expiryBucket, "", "", limit, func(key string, _ []byte) error {
		if key >= cutoff {
			return store.ErrStop
		}
		done = append(done, key)
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, key := range done {
		akid := key[strings.LastIndexByte(key, '/')+1:]
		c, err := LookupKey(tx, akid)
		if err == nil {
			err = DeleteKey(tx, c.AccountID, akid)
		}
		if errors.Is(err, ErrNoKey) {
			err = tx.Delete(expiryBucket, key) // deleted through the admin API meanwhile
		}
		if err != nil {
			return 0, err
		}
	}
	return len(done), nil
}

// createKey gives c a fresh access key id with the prefix and stores it.
func createKey(tx store.Tx, prefix string, c *Credential) error {
	for range 5 { // 80 random bits: a collision is already unheard of
		c.AccessKeyID = prefix + idgen.String(keyAlphabet, 16)
		err := store.CreateJSON(tx, keyBucket, c.AccessKeyID, c)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("accounts: store access key: %w", err)
		}
		return tx.Put(keyIndexBucket, c.AccountID+"/"+c.AccessKeyID, nil)
	}
	return errors.New("accounts: could not draw an unused access key id")
}

// LookupKey returns the registered credential with the access key id.
func LookupKey(tx store.Tx, accessKeyID string) (*Credential, error) {
	c, err := store.GetJSON[Credential](tx, keyBucket, accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoKey
	}
	return c, err
}

// DeleteKey removes an access key of the account.
func DeleteKey(tx store.Tx, accountID, accessKeyID string) error {
	c, err := LookupKey(tx, accessKeyID)
	if err != nil {
		return err
	}
	if c.AccountID != accountID {
		return ErrNoKey
	}
	if err := tx.Delete(keyBucket, accessKeyID); err != nil {
		return err
	}
	if c.Temporary() {
		if err := tx.Delete(expiryBucket, expiryKey(c)); err != nil {
			return err
		}
	}
	return tx.Delete(keyIndexBucket, accountID+"/"+accessKeyID)
}

// KeyIDs returns the access key ids registered to the account, long-term
// and temporary, in id order.
func KeyIDs(tx store.Tx, accountID string) ([]string, error) {
	prefix := accountID + "/"
	ids := []string{}
	err := tx.Scan(keyIndexBucket, prefix, "", 0, func(key string, _ []byte) error {
		ids = append(ids, key[len(prefix):])
		return nil
	})
	return ids, err
}

// IsAccessKeyID reports whether s has the shape of an access key id that
// orgstack issues, so that open mode only looks up keys that may be ours.
func IsAccessKeyID(s string) bool {
	if len(s) != 20 || (s[:4] != prefixLongTerm && s[:4] != prefixTemporary) {
		return false
	}
	for i := 4; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
