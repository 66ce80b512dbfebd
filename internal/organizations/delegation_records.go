package organizations

import (
	"errors"
	"strings"
	"time"

	"github.com/orgstack/orgstack/internal/store"
)

// Delegated administrators are kept twice, so that both questions are one
// range scan: which accounts administer a service for an organization, and
// which services an account administers.
const (
	bucketDelegates       = "org.delegates"         // org id + "/" + service principal + "/" + account id -> delegate
	bucketDelegateByAcct  = "org.delegates-by-acct" // account id + "/" + service principal -> ""
	bucketTrustedServices = "org.trusted-services"  // org id + "/" + service principal -> trustedService
)

// delegate is an account registered as delegated administrator of a service.
type delegate struct {
	OrgID            string    `json:"orgId"`
	AccountID        string    `json:"accountId"`
	ServicePrincipal string    `json:"servicePrincipal"`
	Since            time.Time `json:"since"`
}

// trustedService is a service principal with trusted access to an organization.
type trustedService struct {
	OrgID            string    `json:"orgId"`
	ServicePrincipal string    `json:"servicePrincipal"`
	Enabled          time.Time `json:"enabled"`
}

func (r repo) putDelegate(d *delegate) error {
	if err := store.PutJSON(r.tx, bucketDelegates, d.OrgID+"/"+d.ServicePrincipal+"/"+d.AccountID, d); err != nil {
		return err
	}
	return r.tx.Put(bucketDelegateByAcct, d.AccountID+"/"+d.ServicePrincipal, nil)
}

func (r repo) deleteDelegate(d *delegate) error {
	if err := r.tx.Delete(bucketDelegates, d.OrgID+"/"+d.ServicePrincipal+"/"+d.AccountID); err != nil {
		return err
	}
	return r.tx.Delete(bucketDelegateByAcct, d.AccountID+"/"+d.ServicePrincipal)
}

// delegatedServices returns the service principals the account is a
// delegated administrator for, in order.
func (r repo) delegatedServices(accountID string) ([]string, error) {
	var out []string
	err := r.tx.Scan(bucketDelegateByAcct, accountID+"/", "", 0, func(key string, _ []byte) error {
		out = append(out, strings.TrimPrefix(key, accountID+"/"))
		return nil
	})
	return out, err
}

// delegatesOf returns the delegated administrators of a service in an
// organization, in account order.
func (r repo) delegatesOf(orgID, servicePrincipal string) ([]*delegate, error) {
	var out []*delegate
	err := store.ScanJSON(r.tx, bucketDelegates, orgID+"/"+servicePrincipal+"/", "", 0, func(_ string, d *delegate) error {
		out = append(out, d)
		return nil
	})
	return out, err
}

// trustedAccess reports whether the service principal has trusted access.
func (r repo) trustedAccess(orgID, servicePrincipal string) (bool, error) {
	_, err := r.tx.Get(bucketTrustedServices, orgID+"/"+servicePrincipal)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return false, err
}
