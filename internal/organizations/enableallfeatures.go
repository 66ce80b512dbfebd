package organizations

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// allFeaturesMigrationMaxAccounts: the standard migration to all features is
// open only to organizations with fewer accounts (model doc of reason
// ALL_FEATURES_MIGRATION_ORGANIZATION_SIZE_LIMIT_EXCEEDED). A fixed service
// limit, not an adjustable quota.
const allFeaturesMigrationMaxAccounts = 5000

// EnableAllFeatures starts moving an organization created with only
// consolidated billing to all features. It returns the organization-wide
// ENABLE_ALL_FEATURES request and sends one ENABLE_ALL_FEATURES handshake to
// every invited member (created accounts agreed when they were created).
// When all of them have accepted, the request opens and the management
// account gets an APPROVE_ALL_FEATURES handshake; accepting that one (or
// the open request itself) completes the change.
func (s *Service) EnableAllFeatures(ctx context.Context, _ *api.EnableAllFeaturesInput) (*api.EnableAllFeaturesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Handshake
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		org, err := r.managerOrg(p.AccountID, "EnableAllFeatures")
		if err != nil {
			return err
		}
		if org.FeatureSet == string(api.OrganizationFeatureSetAll) {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonOrganizationAlreadyHasAllFeatures,
				"The organization already has all features enabled.")
		}
		if pending, err := r.pendingAllFeatures(org.ID, now); err != nil {
			return err
		} else if pending != nil {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonOrganizationIsAlreadyPendingAllFeaturesMigration,
				"The organization is already enabling all features; complete or cancel that request first.")
		}
		n, err := r.memberCount(org.ID)
		if err != nil {
			return err
		}
		if n >= allFeaturesMigrationMaxAccounts {
			return errConstraint(api.ConstraintViolationExceptionReasonAllFeaturesMigrationOrganizationSizeLimitExceeded,
				fmt.Sprintf("Only organizations with fewer than %d accounts can enable all features this way.", allFeaturesMigrationMaxAccounts))
		}
		req := &handshake{
			ID:           newHandshakeID(),
			OrgID:        org.ID,
			ManagementID: org.ManagementID,
			Action:       string(api.ActionTypeEnableAllFeatures),
			State:        string(api.HandshakeStateRequested),
			FeatureSet:   org.FeatureSet,
			RequestedAt:  now,
			ExpiresAt:    now.Add(allFeaturesLifetime),
		}
		invited, err := r.invitedMembers(org)
		if err != nil {
			return err
		}
		if len(invited) == 0 {
			if err := r.openForApproval(req); err != nil {
				return err
			}
		} else if err := r.createHandshake(req); err != nil {
			return err
		}
		for _, id := range invited {
			child := *req
			child.ID = newHandshakeID()
			child.State = string(api.HandshakeStateOpen)
			child.TargetType = string(api.HandshakePartyTypeAccount)
			child.TargetID = id
			child.AccountID = id
			child.ParentID = req.ID
			if err := r.createHandshake(&child); err != nil {
				return err
			}
		}
		out, err = newRenderer(tx).handshake(req, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.EnableAllFeaturesOutput{Handshake: out}, nil
}

// pendingAllFeatures returns the organization's open request to enable all
// features, or nil.
func (r repo) pendingAllFeatures(orgID string, now time.Time) (*handshake, error) {
	hs, err := r.orgHandshakes(orgID)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		if h.Action == string(api.ActionTypeEnableAllFeatures) && h.AccountID == "" && h.open(now) {
			return h, nil
		}
	}
	return nil, nil
}

// invitedMembers lists the members that joined by invitation, apart from
// the management account (which AWS also records as invited).
func (r repo) invitedMembers(org *organization) ([]string, error) {
	var ids []string
	prefix := org.ID + "/"
	err := r.tx.Scan(bucketOrgAccs, prefix, "", 0, func(key string, _ []byte) error {
		id := strings.TrimPrefix(key, prefix)
		if id == org.ManagementID {
			return nil
		}
		m, err := r.membership(id)
		if err != nil {
			return err
		}
		if m != nil && m.JoinedMethod == string(api.AccountJoinedMethodInvited) {
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// openForApproval opens the request (storing it, new or not) and sends the
// management account the APPROVE_ALL_FEATURES handshake that completes it.
func (r repo) openForApproval(req *handshake) error {
	req.State = string(api.HandshakeStateOpen)
	if err := r.putHandshake(req); err != nil {
		return err
	}
	if err := r.tx.Put(bucketHandshakesByOrg, req.OrgID+"/"+req.ID, nil); err != nil {
		return err
	}
	approve := &handshake{
		ID:           newHandshakeID(),
		OrgID:        req.OrgID,
		ManagementID: req.ManagementID,
		Action:       string(api.ActionTypeApproveAllFeatures),
		State:        string(api.HandshakeStateOpen),
		TargetType:   string(api.HandshakePartyTypeAccount),
		TargetID:     req.ManagementID,
		AccountID:    req.ManagementID,
		FeatureSet:   req.FeatureSet,
		RequestedAt:  req.RequestedAt,
		ExpiresAt:    req.ExpiresAt,
		ParentID:     req.ID,
	}
	return r.createHandshake(approve)
}

// approveAllFeatures records a member's approval and, once every invited
// member approved, opens the request for the management account.
func (s *Service) approveAllFeatures(r repo, h *handshake, now time.Time) error {
	if err := r.closeHandshake(h, api.HandshakeStateAccepted, now); err != nil {
		return err
	}
	req, err := r.handshake(h.ParentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || !req.open(now) {
		return err
	}
	return r.openIfAllApproved(req.ID)
}

// openIfAllApproved opens a request that still waits for members once
// every remaining member's step is accepted. Stored states are compared:
// an expired request opened here stays expired, and so does its final
// approval, which expires with it.
func (r repo) openIfAllApproved(reqID string) error {
	req, err := r.handshake(reqID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || req.State != string(api.HandshakeStateRequested) {
		return err
	}
	steps, err := r.allFeaturesSteps(req.OrgID, req.ID)
	if err != nil {
		return err
	}
	for _, c := range steps {
		if c.Action == string(api.ActionTypeEnableAllFeatures) && c.State != string(api.HandshakeStateAccepted) {
			return nil // still waiting for this member
		}
	}
	return r.openForApproval(req)
}

// finishAllFeatures completes the change: the organization gets all
// features and, as CreateOrganization does for such organizations, service
// control policies are enabled in its root.
func (s *Service) finishAllFeatures(r repo, h *handshake, now time.Time) error {
	reqID := h.ID
	if h.Action == string(api.ActionTypeApproveAllFeatures) {
		reqID = h.ParentID
	}
	org, err := r.org(h.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return errHandshakeNotFound(h.ID)
	}
	if err != nil {
		return err
	}
	org.FeatureSet = string(api.OrganizationFeatureSetAll)
	if err := r.putOrg(org); err != nil {
		return err
	}
	rt, err := r.root(org.RootID)
	if err != nil {
		return fmt.Errorf("root of %s: %w", org.ID, err)
	}
	// SCPs come enabled with all features, FullAWSAccess attached everywhere.
	if !rt.typeEnabled(api.PolicyTypeServiceControlPolicy) {
		if err := s.enableType(r, org, rt, api.PolicyTypeServiceControlPolicy); err != nil {
			return err
		}
	}
	if err := r.closeIfOpen(reqID, api.HandshakeStateAccepted, now); err != nil {
		return err
	}
	steps, err := r.allFeaturesSteps(org.ID, reqID)
	if err != nil {
		return err
	}
	for _, c := range steps {
		if c.Action == string(api.ActionTypeApproveAllFeatures) && c.open(now) {
			if err := r.closeHandshake(c, api.HandshakeStateAccepted, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// cancelAllFeatures cancels the request and every one of its steps still open.
func (r repo) cancelAllFeatures(orgID, reqID string, now time.Time) error {
	if err := r.closeIfOpen(reqID, api.HandshakeStateCanceled, now); err != nil {
		return err
	}
	steps, err := r.allFeaturesSteps(orgID, reqID)
	if err != nil {
		return err
	}
	for _, c := range steps {
		if c.open(now) {
			if err := r.closeHandshake(c, api.HandshakeStateCanceled, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// allFeaturesSteps returns the handshakes that belong to a request to
// enable all features: the members' approvals and the final one.
func (r repo) allFeaturesSteps(orgID, reqID string) ([]*handshake, error) {
	hs, err := r.orgHandshakes(orgID)
	if err != nil {
		return nil, err
	}
	var out []*handshake
	for _, h := range hs {
		if h.ParentID == reqID {
			out = append(out, h)
		}
	}
	return out, nil
}
