package organizations

import (
	"errors"
	"time"

	"github.com/orgstack/orgstack/internal/store"
)

// Buckets of the Organizations domain. Records are JSON; listing indexes
// are keys with empty values so that a page is one range scan.
const (
	bucketOrgs    = "org.organizations" // org id -> organization
	bucketRoots   = "org.roots"         // root id -> root
	bucketMembers = "org.members"       // account id -> membership
	bucketOrgAccs = "org.org-accounts"  // org id + "/" + account id -> ""
	// bucketChildren indexes the tree: parent id + "/" + child type + "/" +
	// child id -> "". Child types are ACCOUNT and ORGANIZATIONAL_UNIT, so a
	// parent's accounts, or its OUs, are one range scan in id order.
	bucketChildren = "org.children"
)

// childKey is the key of a child under its parent in bucketChildren.
func childKey(parentID, childType, childID string) string {
	return parentID + "/" + childType + "/" + childID
}

type organization struct {
	ID           string    `json:"id"`
	FeatureSet   string    `json:"featureSet"`
	ManagementID string    `json:"managementAccountId"`
	RootID       string    `json:"rootId"`
	CreatedAt    time.Time `json:"createdAt"`
}

func (o *organization) arn() string {
	return "arn:aws:organizations::" + o.ManagementID + ":organization/" + o.ID
}

func (o *organization) accountARN(accountID string) string {
	return "arn:aws:organizations::" + o.ManagementID + ":account/" + o.ID + "/" + accountID
}

func (o *organization) rootARN(rootID string) string {
	return "arn:aws:organizations::" + o.ManagementID + ":root/" + o.ID + "/" + rootID
}

type policyTypeState struct {
	Type   string `json:"type"`
	Status string `json:"status"`
}

type root struct {
	ID          string            `json:"id"`
	OrgID       string            `json:"orgId"`
	Name        string            `json:"name"`
	PolicyTypes []policyTypeState `json:"policyTypes"`
}

// member is an account's membership of an organization.
type member struct {
	AccountID    string    `json:"accountId"`
	OrgID        string    `json:"orgId"`
	ParentID     string    `json:"parentId"`
	Status       string    `json:"status"`       // ACTIVE, SUSPENDED, PENDING_CLOSURE
	JoinedMethod string    `json:"joinedMethod"` // INVITED, CREATED
	JoinedAt     time.Time `json:"joinedAt"`
}

// repo is the domain's typed view of one transaction.
type repo struct{ tx store.Tx }

func (r repo) org(id string) (*organization, error) {
	return store.GetJSON[organization](r.tx, bucketOrgs, id)
}

func (r repo) root(id string) (*root, error) {
	return store.GetJSON[root](r.tx, bucketRoots, id)
}

// membership returns the account's membership, or nil when it belongs to
// no organization.
func (r repo) membership(accountID string) (*member, error) {
	m, err := store.GetJSON[member](r.tx, bucketMembers, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return m, err
}

// callerOrg returns the organization of the account and its membership,
// or nils when it belongs to none.
func (r repo) callerOrg(accountID string) (*organization, *member, error) {
	m, err := r.membership(accountID)
	if err != nil || m == nil {
		return nil, nil, err
	}
	o, err := r.org(m.OrgID)
	if err != nil {
		return nil, nil, err
	}
	return o, m, nil
}

func (r repo) putOrg(o *organization) error    { return store.PutJSON(r.tx, bucketOrgs, o.ID, o) }
func (r repo) putRoot(rt *root) error          { return store.PutJSON(r.tx, bucketRoots, rt.ID, rt) }
func (r repo) createOrg(o *organization) error { return store.CreateJSON(r.tx, bucketOrgs, o.ID, o) }

// addMember records a new membership and indexes the account under its
// organization and its parent.
func (r repo) addMember(m *member) error {
	if err := store.CreateJSON(r.tx, bucketMembers, m.AccountID, m); err != nil {
		return err
	}
	if err := r.tx.Put(bucketOrgAccs, m.OrgID+"/"+m.AccountID, nil); err != nil {
		return err
	}
	return r.tx.Put(bucketChildren, childKey(m.ParentID, childAccount, m.AccountID), nil)
}

// removeMember deletes a membership and its index entries.
func (r repo) removeMember(m *member) error {
	if err := r.tx.Delete(bucketMembers, m.AccountID); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketChildren, childKey(m.ParentID, childAccount, m.AccountID)); err != nil {
		return err
	}
	return r.tx.Delete(bucketOrgAccs, m.OrgID+"/"+m.AccountID)
}

// Child types as the API names them.
const (
	childAccount = "ACCOUNT"
	childOU      = "ORGANIZATIONAL_UNIT"
)

// memberCount counts the organization's accounts, the management account included.
func (r repo) memberCount(orgID string) (int, error) {
	return r.tx.Count(bucketOrgAccs, orgID+"/")
}
