package accounts

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
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
	// MaxSessionDuration bounds the DurationSeconds of AssumeRole; zero
	// means IAM's default of one hour.
	MaxSessionDuration time.Duration `json:"maxSessionDuration,omitempty"`
}

// DefaultMaxSessionDuration is IAM's default for a role's maximum session.
const DefaultMaxSessionDuration = time.Hour

// MaxSession is the longest session AssumeRole may grant for the role.
func (r *Role) MaxSession() time.Duration {
	if r.MaxSessionDuration <= 0 {
		return DefaultMaxSessionDuration
	}
	return r.MaxSessionDuration
}

// ID is the role's unique id (AROA…), as it appears in an assumed-role
// session's user id. It is derived from the account and name, so that a
// role record written by any domain has one without storing it.
func (r *Role) ID() string {
	sum := sha256.Sum256([]byte(r.AccountID + "/" + r.Name))
	return "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
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

var roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// ValidRoleName reports whether s is a valid IAM role name.
func ValidRoleName(s string) bool { return roleNamePattern.MatchString(s) }
