package organizations

import (
	"errors"
	"strings"
	"time"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// Handshakes are kept once by id and indexed twice, so that an
// organization's handshakes and an account's handshakes are each one range
// scan in id order.
const (
	bucketHandshakes      = "org.handshakes"         // handshake id -> handshake
	bucketHandshakesByOrg = "org.handshakes-by-org"  // org id + "/" + handshake id -> ""
	bucketHandshakesByAcc = "org.handshakes-by-acct" // recipient account id + "/" + handshake id -> ""
)

// How long handshakes live, from the Organizations quotas page (FACTS §1):
// an invitation expires after 15 days, an enable-all-features request after
// 90, and a closed handshake stays visible for 30 days before it is deleted.
const (
	inviteLifetime        = 15 * 24 * time.Hour
	allFeaturesLifetime   = 90 * 24 * time.Hour
	closedHandshakeWindow = 30 * 24 * time.Hour
)

// handshake is one two-party agreement: an invitation to join, a request
// to enable all features, or the management account's final approval.
type handshake struct {
	ID           string `json:"id"`
	OrgID        string `json:"orgId"`
	ManagementID string `json:"managementAccountId"` // the sender
	Action       string `json:"action"`              // INVITE, ENABLE_ALL_FEATURES, APPROVE_ALL_FEATURES
	State        string `json:"state"`               // as last written; see effectiveState
	// TargetType and TargetID are the recipient as the request named it
	// (ACCOUNT and an id, or EMAIL and an address); AccountID is the
	// account of the universe that answers it.
	// The organization-wide ENABLE_ALL_FEATURES request has no single
	// recipient: its three fields are empty and it is not indexed by account.
	TargetType string  `json:"targetType,omitempty"`
	TargetID   string  `json:"targetId,omitempty"`
	AccountID  string  `json:"accountId,omitempty"`
	Notes      *string `json:"notes,omitempty"`
	// FeatureSet is the organization's feature set when the handshake was
	// sent, as the recipient was shown it.
	FeatureSet string `json:"featureSet"`
	// Tags go on the invited account when it joins.
	Tags        []tag     `json:"tags,omitempty"`
	RequestedAt time.Time `json:"requestedAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
	// ClosedAt is when the handshake reached ACCEPTED, DECLINED or
	// CANCELED; expired handshakes close at ExpiresAt.
	ClosedAt time.Time `json:"closedAt,omitzero"`
	// ParentID links an ENABLE_ALL_FEATURES request to the
	// APPROVE_ALL_FEATURES handshake it feeds, once that exists.
	ParentID string `json:"parentId,omitempty"`
}

// open reports whether the handshake still waits for an answer at now.
// Expiry is evaluated lazily against the orgstack clock, the same way
// everywhere, so no background work is needed for it.
func (h *handshake) open(now time.Time) bool {
	return (h.State == string(api.HandshakeStateRequested) || h.State == string(api.HandshakeStateOpen)) &&
		now.Before(h.ExpiresAt)
}

// effectiveState is the state the API shows at now.
func (h *handshake) effectiveState(now time.Time) string {
	if (h.State == string(api.HandshakeStateRequested) || h.State == string(api.HandshakeStateOpen)) &&
		!now.Before(h.ExpiresAt) {
		return string(api.HandshakeStateExpired)
	}
	return h.State
}

// closedAt is when the handshake stopped being open, zero while it is.
func (h *handshake) closedAt(now time.Time) time.Time {
	if h.effectiveState(now) == string(api.HandshakeStateExpired) {
		return h.ExpiresAt
	}
	return h.ClosedAt
}

// visible reports whether the handshake still exists at now: closed
// handshakes disappear 30 days after they closed.
func (h *handshake) visible(now time.Time) bool {
	c := h.closedAt(now)
	return c.IsZero() || now.Before(c.Add(closedHandshakeWindow))
}

func (r repo) handshake(id string) (*handshake, error) {
	return store.GetJSON[handshake](r.tx, bucketHandshakes, id)
}

// createHandshake stores a new handshake and its indexes.
func (r repo) createHandshake(h *handshake) error {
	if err := store.CreateJSON(r.tx, bucketHandshakes, h.ID, h); err != nil {
		return err
	}
	if err := r.tx.Put(bucketHandshakesByOrg, h.OrgID+"/"+h.ID, nil); err != nil {
		return err
	}
	if h.AccountID == "" {
		return nil
	}
	return r.tx.Put(bucketHandshakesByAcc, h.AccountID+"/"+h.ID, nil)
}

// putHandshake stores a changed handshake; its parties never change.
func (r repo) putHandshake(h *handshake) error {
	return store.PutJSON(r.tx, bucketHandshakes, h.ID, h)
}

func (r repo) deleteHandshake(h *handshake) error {
	if err := r.tx.Delete(bucketHandshakes, h.ID); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketHandshakesByOrg, h.OrgID+"/"+h.ID); err != nil {
		return err
	}
	if h.AccountID == "" {
		return nil
	}
	return r.tx.Delete(bucketHandshakesByAcc, h.AccountID+"/"+h.ID)
}

// handshakesOf returns the handshakes of an index prefix (an organization's
// or an account's), in id order, whatever their state.
func (r repo) handshakesOf(bucket, prefix string) ([]*handshake, error) {
	var ids []string
	err := r.tx.Scan(bucket, prefix, "", 0, func(key string, _ []byte) error {
		ids = append(ids, strings.TrimPrefix(key, prefix))
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*handshake, 0, len(ids))
	for _, id := range ids {
		h, err := r.handshake(id)
		if errors.Is(err, store.ErrNotFound) {
			continue // an index entry without its record is skipped, not fatal
		}
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// pendingInvitations counts the organization's invitations still open at
// now: they hold a place under the accounts-per-organization quota until
// they are declined, canceled or expire (FACTS §1).
func (r repo) pendingInvitations(orgID string, now time.Time) (int, error) {
	hs, err := r.orgHandshakes(orgID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hs {
		if h.Action == string(api.ActionTypeInvite) && h.open(now) {
			n++
		}
	}
	return n, nil
}

func (r repo) orgHandshakes(orgID string) ([]*handshake, error) {
	return r.handshakesOf(bucketHandshakesByOrg, orgID+"/")
}

func (r repo) accountHandshakes(accountID string) ([]*handshake, error) {
	return r.handshakesOf(bucketHandshakesByAcc, accountID+"/")
}

// deleteHandshakesOfAccount deletes the handshakes that the organization
// sent to the account, as AWS does when the account is removed from or
// leaves it. Invitations from other organizations stay: the documented way
// to change organizations is to leave one and then accept the other's
// invitation. A member that leaves while its approval to enable all
// features is pending no longer holds that change up.
func (r repo) deleteHandshakesOfAccount(orgID, accountID string) error {
	hs, err := r.accountHandshakes(accountID)
	if err != nil {
		return err
	}
	var requests []string
	for _, h := range hs {
		if h.OrgID != orgID {
			continue
		}
		if err := r.deleteHandshake(h); err != nil {
			return err
		}
		if h.Action == string(api.ActionTypeEnableAllFeatures) && h.ParentID != "" {
			requests = append(requests, h.ParentID)
		}
	}
	for _, id := range requests {
		if err := r.openIfAllApproved(id); err != nil {
			return err
		}
	}
	return nil
}

// deleteHandshakesOfOrg deletes every handshake of an organization, as its
// deletion requires.
func (r repo) deleteHandshakesOfOrg(orgID string) error {
	hs, err := r.orgHandshakes(orgID)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if err := r.deleteHandshake(h); err != nil {
			return err
		}
	}
	return nil
}
