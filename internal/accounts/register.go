package accounts

import (
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// ErrInvalid wraps every rejection of a malformed id, email or name.
var ErrInvalid = errors.New("accounts: invalid")

var (
	idPattern = regexp.MustCompile(`^[0-9]{12}$`)
	// The shape Organizations' CreateAccount accepts for an email, anchored.
	emailPattern = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
)

// ValidID reports whether s is a 12-digit account id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// CheckEmail applies CreateAccount's rules for an account's email: 6 to 64
// characters of the form local@domain.tld.
func CheckEmail(email string) error {
	if n := utf8.RuneCountInString(email); n < 6 || n > 64 || !emailPattern.MatchString(email) {
		return fmt.Errorf("%w: %q is not an email address of 6 to 64 characters", ErrInvalid, email)
	}
	return nil
}

// CheckName applies CreateAccount's rules for an account name: 1 to 50
// printable characters.
func CheckName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 50 {
		return fmt.Errorf("%w: an account name has 1 to 50 characters", ErrInvalid)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: an account name has no control characters", ErrInvalid)
		}
	}
	return nil
}

// Registration is an account to sign up on its own, as through the admin
// API; empty fields are generated.
type Registration struct {
	ID         string
	Email      string
	Name       string
	Standalone Standalone
}

// Register creates a standalone account and the first access key of its
// root user. Failures are ErrInvalid, ErrExists or ErrEmailTaken.
func Register(tx store.Tx, reg Registration, now time.Time) (*Account, *Credential, error) {
	id := reg.ID
	switch {
	case id == "":
		var err error
		if id, err = unusedID(tx); err != nil {
			return nil, nil, err
		}
	case !ValidID(id):
		return nil, nil, fmt.Errorf("%w: account id %q is not 12 digits", ErrInvalid, id)
	default:
		// Checked first: a taken id would otherwise show as its default
		// email being taken.
		if _, err := Get(tx, id); err == nil {
			return nil, nil, fmt.Errorf("%w: %s", ErrExists, id)
		} else if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
	}
	a := &Account{
		ID:         id,
		Email:      reg.Email,
		Name:       reg.Name,
		CreatedAt:  now,
		Origin:     OriginAdmin,
		Standalone: reg.Standalone,
	}
	if a.Email == "" {
		a.Email = "account-" + id + "@example.com"
	}
	if a.Name == "" {
		a.Name = "account-" + id
	}
	if err := CheckEmail(a.Email); err != nil {
		return nil, nil, err
	}
	if err := CheckName(a.Name); err != nil {
		return nil, nil, err
	}
	if err := Create(tx, a); err != nil {
		return nil, nil, err
	}
	c, err := NewRootKey(tx, id, now)
	if err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

func unusedID(tx store.Tx) (string, error) {
	for range 10 {
		id := idgen.AccountID()
		if _, err := Get(tx, id); errors.Is(err, ErrNotFound) {
			return id, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", errors.New("accounts: could not draw an unused account id")
}

// StandalonePatch sets the standalone flags that are not nil.
type StandalonePatch struct {
	ContactInfo   *bool `json:"contactInfo"`
	PaymentMethod *bool `json:"paymentMethod"`
	PhoneVerified *bool `json:"phoneVerified"`
	EULA          *bool `json:"eula"`
}

// SetStandalone records standalone information of an account.
func SetStandalone(tx store.Tx, id string, p StandalonePatch) (*Account, error) {
	a, err := Get(tx, id)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		v   *bool
		dst *bool
	}{
		{p.ContactInfo, &a.Standalone.ContactInfo},
		{p.PaymentMethod, &a.Standalone.PaymentMethod},
		{p.PhoneVerified, &a.Standalone.PhoneVerified},
		{p.EULA, &a.Standalone.EULA},
	} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return a, Update(tx, a)
}
