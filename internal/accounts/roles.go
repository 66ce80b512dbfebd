package accounts

import (
	"errors"
	"fmt"
	"time"

	"github.com/orgstack/orgstack/internal/store"
)

const roleBucket = "accounts.roles" // account id + "/" + role name -> role

// ErrNoRole is returned by GetRole for a role that does not exist.
var ErrNoRole = errors.New("accounts: no such role")

// Role is an IAM role that another account may assume, such as the
// OrganizationAccountAccessRole that CreateAccount makes in every new
// account for the management account.
type Role struct {
	AccountID string `json:"accountId"`
	Name      string `json:"name"`
	// TrustedAccountID is the account whose principals may assume the role.
	TrustedAccountID string    `json:"trustedAccountId"`
	CreatedAt        time.Time `json:"createdAt"`
}

// ARN is the role's ARN.
func (r *Role) ARN() string { return "arn:aws:iam::" + r.AccountID + ":role/" + r.Name }

// PutRole creates or replaces a role.
func PutRole(tx store.Tx, r *Role) error {
	return store.PutJSON(tx, roleBucket, r.AccountID+"/"+r.Name, r)
}

// GetRole returns the named role of an account.
func GetRole(tx store.Tx, accountID, name string) (*Role, error) {
	r, err := store.GetJSON[Role](tx, roleBucket, accountID+"/"+name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s in %s", ErrNoRole, name, accountID)
	}
	return r, err
}
