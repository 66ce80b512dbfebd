package organizations

import (
	"errors"
	"fmt"
	"time"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// Responsibility transfers are kept by id and indexed under the management
// account of each party, so that a party's inbound and outbound transfers
// are each one range scan. Parties are indexed by account rather than by
// organization because the invited party's organization is known only
// once it accepts.
const (
	bucketTransfers         = "org.transfers"          // transfer id -> transfer
	bucketTransfersInbound  = "org.transfers-inbound"  // manager account id + "/" + transfer id -> ""
	bucketTransfersOutbound = "org.transfers-outbound" // source account id + "/" + transfer id -> ""
)

// transfer is an arrangement by which one management account (the
// target, who sent the invitation) manages a responsibility, billing, for
// another organization (the source, who accepted it).
type transfer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	// TargetAccountID and TargetOrgID are the inviting party, who manages.
	TargetAccountID string `json:"targetAccountId"`
	TargetOrgID     string `json:"targetOrgId"`
	// SourceAccountID is the invited management account; SourceOrgID is
	// its organization, recorded when it accepts.
	SourceAccountID string     `json:"sourceAccountId"`
	SourceOrgID     string     `json:"sourceOrgId,omitempty"`
	HandshakeID     string     `json:"handshakeId"`
	Start           time.Time  `json:"start"`
	End             *time.Time `json:"end,omitempty"`
	// Withdrawn is set when either party terminates an accepted transfer.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

func (r repo) transfer(id string) (*transfer, error) {
	t, err := store.GetJSON[transfer](r.tx, bucketTransfers, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return t, err
}

func (r repo) createTransfer(t *transfer) error {
	if err := store.CreateJSON(r.tx, bucketTransfers, t.ID, t); err != nil {
		return err
	}
	if err := r.tx.Put(bucketTransfersInbound, t.TargetAccountID+"/"+t.ID, nil); err != nil {
		return err
	}
	return r.tx.Put(bucketTransfersOutbound, t.SourceAccountID+"/"+t.ID, nil)
}

func (r repo) putTransfer(t *transfer) error {
	return store.PutJSON(r.tx, bucketTransfers, t.ID, t)
}

// status is the transfer's status at now. Until the invitation is
// answered it follows the handshake (REQUESTED, then ACCEPTED, DECLINED,
// CANCELED or EXPIRED); a terminated transfer is WITHDRAWN.
func (r repo) transferStatus(t *transfer, now time.Time) (api.ResponsibilityTransferStatus, error) {
	if t.Withdrawn {
		return api.ResponsibilityTransferStatusWithdrawn, nil
	}
	h, err := r.handshake(t.HandshakeID)
	if errors.Is(err, store.ErrNotFound) {
		// The handshake went with its organization; the invitation was never answered.
		return api.ResponsibilityTransferStatusCanceled, nil
	}
	if err != nil {
		return "", err
	}
	switch api.HandshakeState(h.effectiveState(now)) {
	case api.HandshakeStateAccepted:
		return api.ResponsibilityTransferStatusAccepted, nil
	case api.HandshakeStateDeclined:
		return api.ResponsibilityTransferStatusDeclined, nil
	case api.HandshakeStateCanceled:
		return api.ResponsibilityTransferStatusCanceled, nil
	case api.HandshakeStateExpired:
		return api.ResponsibilityTransferStatusExpired, nil
	}
	return api.ResponsibilityTransferStatusRequested, nil
}

// checkNoOpenTransfers refuses to delete an organization while a transfer
// it is party to is pending or in force (ACTIVE_RESPONSIBILITY_TRANSFER_PROCESS).
func (r repo) checkNoOpenTransfers(managementID string, now time.Time) error {
	for _, b := range []string{bucketTransfersInbound, bucketTransfersOutbound} {
		ts, err := r.transfersOf(b, managementID)
		if err != nil {
			return err
		}
		for _, t := range ts {
			st, err := r.transferStatus(t, now)
			if err != nil {
				return err
			}
			if st == api.ResponsibilityTransferStatusRequested || st == api.ResponsibilityTransferStatusAccepted {
				return errConstraint(api.ConstraintViolationExceptionReasonActiveResponsibilityTransferProcess,
					fmt.Sprintf("The transfer %s is pending or in force; resolve it before deleting the organization.", t.ID))
			}
		}
	}
	return nil
}
