package accounts

import (
	"errors"
	"fmt"

	"github.com/orgstack/orgstack/internal/store"
)

// ByEmail returns the account whose email matches, ignoring case as AWS
// does, or ErrNotFound. Organizations resolves invitations sent by email
// address with it.
func ByEmail(tx store.Tx, email string) (*Account, error) {
	id, err := tx.Get(emailBucket, emailKey(email))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no account has the email %q", ErrNotFound, email)
	}
	if err != nil {
		return nil, err
	}
	return Get(tx, string(id))
}
