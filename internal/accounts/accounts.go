// Package accounts is the universe of AWS accounts that orgstack knows.
// As in AWS, an account exists on its own: organizations come and go around
// it, and an account removed from one stays here as a standalone account
// that can be invited again. Membership is the Organizations domain's
// business; this package keeps identity and standalone readiness only.
package accounts

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orgstack/orgstack/internal/store"
)

const (
	bucket      = "accounts"
	emailBucket = "accounts.email" // lower-cased email -> account id
)

var (
	ErrNotFound   = errors.New("accounts: no such account")
	ErrExists     = errors.New("accounts: account id already exists")
	ErrEmailTaken = errors.New("accounts: email address already in use")
)

// Origin records how an account came to exist.
type Origin string

const (
	// OriginFirstUse: an access key naming a 12-digit account was used
	// for the first time with --auth open.
	OriginFirstUse Origin = "first-use"
	// OriginAdmin: created through the admin API.
	OriginAdmin Origin = "admin"
	// OriginCreateAccount: created by Organizations' CreateAccount.
	OriginCreateAccount Origin = "create-account"
)

// Standalone is what an account needs before it can live outside an
// organization. Accounts made by CreateAccount lack all of it.
type Standalone struct {
	ContactInfo   bool `json:"contactInfo"`
	PaymentMethod bool `json:"paymentMethod"`
	PhoneVerified bool `json:"phoneVerified"`
	EULA          bool `json:"eula"`
}

// Complete reports whether the account may stand alone.
func (s Standalone) Complete() bool {
	return s.ContactInfo && s.PaymentMethod && s.PhoneVerified && s.EULA
}

// FullStandalone is the information of an account that was signed up on its own.
var FullStandalone = Standalone{ContactInfo: true, PaymentMethod: true, PhoneVerified: true, EULA: true}

// Account is one AWS account.
type Account struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"createdAt"`
	Origin     Origin     `json:"origin"`
	Standalone Standalone `json:"standalone"`
}

// Get returns the account with the given id.
func Get(tx store.Tx, id string) (*Account, error) {
	a, err := store.GetJSON[Account](tx, bucket, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return a, err
}

// Create adds an account; its id and its email must both be new.
func Create(tx store.Tx, a *Account) error {
	if err := tx.Create(emailBucket, emailKey(a.Email), []byte(a.ID)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return ErrEmailTaken
		}
		return err
	}
	if err := store.CreateJSON(tx, bucket, a.ID, a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: %s", ErrExists, a.ID)
		}
		return err
	}
	return nil
}

// Update stores a changed account. The email cannot change.
func Update(tx store.Tx, a *Account) error {
	return store.PutJSON(tx, bucket, a.ID, a)
}

// EmailInUse reports whether any account of the universe has the email.
func EmailInUse(tx store.Tx, email string) (bool, error) {
	_, err := tx.Get(emailBucket, emailKey(email))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Ensure returns the account with the given id, creating it as a standalone
// account on first use. That is what --auth open promises: any 12-digit
// access key id is an account that exists.
func Ensure(tx store.Tx, id string, now time.Time) (*Account, error) {
	a, err := Get(tx, id)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return a, err
	}
	a = &Account{
		ID:         id,
		Email:      "account-" + id + "@example.com",
		Name:       "account-" + id,
		CreatedAt:  now,
		Origin:     OriginFirstUse,
		Standalone: FullStandalone,
	}
	return a, Create(tx, a)
}

// List calls fn for every account in id order, starting after `after`.
func List(tx store.Tx, after string, limit int, fn func(*Account) error) error {
	return store.ScanJSON(tx, bucket, "", after, limit, func(_ string, a *Account) error { return fn(a) })
}

// AWS treats email addresses case-insensitively for uniqueness.
func emailKey(email string) string { return strings.ToLower(email) }
