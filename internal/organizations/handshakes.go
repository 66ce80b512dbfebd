package organizations

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// reEmail is the model's Email pattern, anchored.
var reEmail = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)

// InviteAccountToOrganization sends an INVITE handshake from the caller's
// organization to another account, named by id or by email address.
func (s *Service) InviteAccountToOrganization(ctx context.Context, in *api.InviteAccountToOrganizationInput) (*api.InviteAccountToOrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Handshake
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		org, err := r.managerOrg(p.AccountID, "InviteAccountToOrganization")
		if err != nil {
			return err
		}
		target, err := resolveInvitee(tx, in.Target, now)
		if err != nil {
			return err
		}
		// Members of other organizations may be invited: accepting moves
		// them directly (AWS's direct transfers), and a management
		// account sees the invitation once its own organization is gone.
		if m, err := r.membership(target.ID); err != nil {
			return err
		} else if m != nil && m.OrgID == org.ID {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonAlreadyInAnOrganization,
				"The account is already a member of this organization.")
		}
		hs, err := r.orgHandshakes(org.ID)
		if err != nil {
			return err
		}
		sentToday := 0
		for _, h := range hs {
			if !h.visible(now) {
				// Long-closed handshakes are gone for AWS; drop them now.
				// Transfer handshakes stay: a transfer reads its status
				// from its handshake for as long as the transfer lasts.
				if h.Action == string(api.ActionTypeTransferResponsibility) {
					continue
				}
				if err := r.deleteHandshake(h); err != nil {
					return err
				}
				continue
			}
			switch h.Action {
			case string(api.ActionTypeEnableAllFeatures):
				if h.AccountID == "" && h.open(now) {
					return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonInviteDisabledDuringEnableAllFeatures,
						"Invitations are suspended while the organization is enabling all features.")
				}
			case string(api.ActionTypeInvite):
				if h.AccountID == target.ID && h.open(now) {
					return api.NewDuplicateHandshakeException("An open invitation from this organization to that account already exists; cancel it before sending another.")
				}
				// Accepted invitations do not count against the daily quota.
				if now.Sub(h.RequestedAt) < 24*time.Hour && h.effectiveState(now) != string(api.HandshakeStateAccepted) {
					sentToday++
				}
			}
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		if err := validateTags(in.Tags, nil, q.TagsPerResource); err != nil {
			return err
		}
		members, err := r.memberCount(org.ID)
		if err != nil {
			return err
		}
		pending, err := r.pendingInvitations(org.ID, now)
		if err != nil {
			return err
		}
		// The account quota is checked first: with a quota below the daily
		// invitation quota AWS reports the account limit (FACTS §1).
		if members+pending >= q.AccountsPerOrganization {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonAccountNumberLimitExceeded,
				fmt.Sprintf("The organization's members and open invitations already reach its limit of %d accounts.", q.AccountsPerOrganization))
		}
		if sentToday >= q.InvitationsAllowed() {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonHandshakeRateLimitExceeded,
				fmt.Sprintf("The organization has already sent %d invitations in the last 24 hours.", sentToday))
		}
		h := &handshake{
			ID:           newHandshakeID(),
			OrgID:        org.ID,
			ManagementID: org.ManagementID,
			Action:       string(api.ActionTypeInvite),
			State:        string(api.HandshakeStateOpen),
			TargetType:   string(*in.Target.Type),
			TargetID:     *in.Target.Id,
			AccountID:    target.ID,
			Notes:        in.Notes,
			FeatureSet:   org.FeatureSet,
			RequestedAt:  now,
			ExpiresAt:    now.Add(inviteLifetime),
		}
		for _, t := range in.Tags {
			h.Tags = append(h.Tags, tag{Key: *t.Key, Value: *t.Value})
		}
		if err := r.createHandshake(h); err != nil {
			return err
		}
		out, err = newRenderer(tx).handshake(h, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.InviteAccountToOrganizationOutput{Handshake: out}, nil
}

// resolveInvitee finds the account an invitation is for. An account id
// that orgstack has not seen yet is an account that exists, as everywhere
// in open mode; an email address must belong to an account of the
// universe, since only existing accounts can be invited.
func resolveInvitee(tx store.Tx, party *api.HandshakeParty, now time.Time) (*accounts.Account, error) {
	id := *party.Id
	switch *party.Type {
	case api.HandshakePartyTypeAccount:
		if !reAccountID.MatchString(id) {
			return nil, invalidInput(api.InvalidInputExceptionReasonInvalidPartyTypeTarget,
				"A target of type ACCOUNT must be a 12-digit account id.")
		}
		return accounts.Ensure(tx, id, now)
	case api.HandshakePartyTypeEmail:
		if !reEmail.MatchString(id) {
			return nil, invalidInput(api.InvalidInputExceptionReasonInvalidEmailAddressTarget,
				"The target is not a valid email address.")
		}
		a, err := accounts.ByEmail(tx, id)
		if errors.Is(err, accounts.ErrNotFound) {
			return nil, invalidInput(api.InvalidInputExceptionReasonInvalidEmailAddressTarget,
				"No AWS account uses that email address.")
		}
		return a, err
	}
	return nil, invalidInput(api.InvalidInputExceptionReasonInvalidPartyTypeTarget,
		"An invitation can only target an ACCOUNT or an EMAIL.")
}

// AcceptHandshake answers a handshake on behalf of its recipient: an
// invited account joins the organization, a member approves enabling all
// features, the management account completes that change.
func (s *Service) AcceptHandshake(ctx context.Context, in *api.AcceptHandshakeInput) (*api.AcceptHandshakeOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Handshake
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		h, err := r.visibleHandshake(*in.HandshakeId, now)
		if err != nil {
			return err
		}
		// The organization-wide enable-all-features request is finalized
		// by its management account, like the APPROVE_ALL_FEATURES one.
		orgRequest := h.Action == string(api.ActionTypeEnableAllFeatures) && h.AccountID == ""
		if orgRequest {
			if p.AccountID != h.ManagementID {
				return errNotRecipient("accept")
			}
		} else if p.AccountID != h.AccountID {
			return errNotRecipient("accept")
		}
		if err := checkTransition(h, api.HandshakeStateAccepted, now); err != nil {
			return err
		}
		switch {
		case h.Action == string(api.ActionTypeInvite):
			err = s.join(r, h, now)
		case orgRequest || h.Action == string(api.ActionTypeApproveAllFeatures):
			err = s.finishAllFeatures(r, h, now)
		case h.Action == string(api.ActionTypeEnableAllFeatures):
			err = s.approveAllFeatures(r, h, now)
		case h.Action == string(api.ActionTypeTransferResponsibility):
			err = s.acceptTransfer(r, h, now)
		default:
			err = fmt.Errorf("handshake %s has unknown action %q", h.ID, h.Action)
		}
		if err != nil {
			return err
		}
		if h, err = r.handshake(h.ID); err != nil {
			return err
		}
		out, err = newRenderer(tx).handshake(h, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.AcceptHandshakeOutput{Handshake: out}, nil
}

// join makes the invited account a member in the root. A member of
// another organization moves directly, as AWS's direct transfers between
// organizations do: it must be free to leave (not the management account,
// no delegated administrator, past a created account's waiting period) but
// needs no standalone information, since it never stands alone; it
// departs its old organization (LEFT) in the same transaction.
func (s *Service) join(r repo, h *handshake, now time.Time) error {
	org, err := r.org(h.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return errHandshakeNotFound(h.ID)
	}
	if err != nil {
		return err
	}
	old, m, err := r.callerOrg(h.AccountID)
	if err != nil {
		return err
	}
	if m != nil {
		if m.OrgID == org.ID {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonAlreadyInAnOrganization,
				"The account is already a member of this organization.")
		}
		if err := s.checkLeaveRules(r, old, m); err != nil {
			return err
		}
	} else {
		acct, err := accounts.Get(r.tx, h.AccountID)
		if err != nil {
			return err
		}
		if !acct.Standalone.PaymentMethod {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonPaymentInstrumentRequired,
				"The account has no payment method; add one before joining an organization.")
		}
	}
	q, err := s.quotas(r.tx)
	if err != nil {
		return err
	}
	// Open invitations already hold their place, so this only trips when
	// the quota was lowered after the invitation was sent.
	members, err := r.memberCount(org.ID)
	if err != nil {
		return err
	}
	if members >= q.AccountsPerOrganization {
		return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonAccountNumberLimitExceeded,
			fmt.Sprintf("The organization already has its limit of %d accounts.", q.AccountsPerOrganization))
	}
	if m != nil {
		if err := s.depart(r, old, m, DepartureLeft); err != nil {
			return fmt.Errorf("%s leaves %s: %w", h.AccountID, old.ID, err)
		}
	}
	if err := r.addMember(&member{
		AccountID:    h.AccountID,
		OrgID:        org.ID,
		ParentID:     org.RootID,
		Status:       string(api.AccountStatusActive),
		JoinedMethod: string(api.AccountJoinedMethodInvited),
		JoinedAt:     now,
	}); err != nil {
		return fmt.Errorf("add %s to %s: %w", h.AccountID, org.ID, err)
	}
	if err := s.attachDefaultPolicies(r, org.ID, h.AccountID); err != nil {
		return err
	}
	for _, t := range h.Tags {
		if err := r.putTag(h.AccountID, t); err != nil {
			return err
		}
	}
	return r.closeHandshake(h, api.HandshakeStateAccepted, now)
}

// DeclineHandshake refuses a handshake on behalf of its recipient.
func (s *Service) DeclineHandshake(ctx context.Context, in *api.DeclineHandshakeInput) (*api.DeclineHandshakeOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Handshake
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		h, err := r.visibleHandshake(*in.HandshakeId, now)
		if err != nil {
			return err
		}
		if h.AccountID == "" || p.AccountID != h.AccountID {
			return errNotRecipient("decline")
		}
		if err := checkTransition(h, api.HandshakeStateDeclined, now); err != nil {
			return err
		}
		if err := r.closeHandshake(h, api.HandshakeStateDeclined, now); err != nil {
			return err
		}
		// Declining the final approval abandons the whole change.
		if h.Action == string(api.ActionTypeApproveAllFeatures) && h.ParentID != "" {
			if err := r.closeIfOpen(h.ParentID, api.HandshakeStateDeclined, now); err != nil {
				return err
			}
		}
		out, err = newRenderer(tx).handshake(h, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DeclineHandshakeOutput{Handshake: out}, nil
}

// CancelHandshake withdraws a handshake on behalf of its sender, the
// management account of the organization that sent it.
func (s *Service) CancelHandshake(ctx context.Context, in *api.CancelHandshakeInput) (*api.CancelHandshakeOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Handshake
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		h, err := r.visibleHandshake(*in.HandshakeId, now)
		if err != nil {
			return err
		}
		if p.AccountID != h.ManagementID {
			return api.NewAccessDeniedException("You don't have permissions to access this resource: only the account that sent a handshake can cancel it.")
		}
		if err := checkTransition(h, api.HandshakeStateCanceled, now); err != nil {
			return err
		}
		if err := r.closeHandshake(h, api.HandshakeStateCanceled, now); err != nil {
			return err
		}
		// Canceling the enable-all-features request, or its final
		// approval, cancels every handshake of that change still open.
		parent := h.ParentID
		if h.Action == string(api.ActionTypeEnableAllFeatures) && h.AccountID == "" {
			parent = h.ID
		}
		if parent != "" && (h.AccountID == "" || h.Action == string(api.ActionTypeApproveAllFeatures)) {
			if err := r.cancelAllFeatures(h.OrgID, parent, now); err != nil {
				return err
			}
		}
		out, err = newRenderer(tx).handshake(h, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CancelHandshakeOutput{Handshake: out}, nil
}

// DescribeHandshake shows a handshake to its parties: the recipient, and
// the sending organization's management account or delegated
// administrators.
func (s *Service) DescribeHandshake(ctx context.Context, in *api.DescribeHandshakeInput) (*api.DescribeHandshakeOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Handshake
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		h, err := r.visibleHandshake(*in.HandshakeId, now)
		if err != nil {
			return err
		}
		if p.AccountID != h.AccountID && p.AccountID != h.ManagementID {
			ok, err := r.delegateOf(p.AccountID, h.OrgID)
			if err != nil {
				return err
			}
			if !ok {
				ok, err = r.delegationGrantsHandshake(p, h.OrgID)
				if err != nil {
					return err
				}
			}
			if !ok {
				return api.NewAccessDeniedException("You don't have permissions to access this resource: only the parties to a handshake can describe it.")
			}
		}
		out, err = newRenderer(tx).handshake(h, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeHandshakeOutput{Handshake: out}, nil
}

// ListHandshakesForAccount lists the handshakes the caller received. Any
// account may call it, a standalone one to see its invitations.
func (s *Service) ListHandshakesForAccount(ctx context.Context, in *api.ListHandshakesForAccountInput) (*api.ListHandshakesForAccountOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListHandshakesForAccountOutput{Handshakes: []api.Handshake{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		// A management account does not see invitations from other
		// organizations until it has deleted its own.
		var hide func(*handshake) bool
		if org, _, err := (repo{tx}).callerOrg(p.AccountID); err != nil {
			return err
		} else if org != nil && org.ManagementID == p.AccountID {
			hide = func(h *handshake) bool { return h.Action == string(api.ActionTypeInvite) && h.OrgID != org.ID }
		}
		out.Handshakes, out.NextToken, err = s.listHandshakes(tx, "ListHandshakesForAccount", bucketHandshakesByAcc, p.AccountID, in.Filter, hide, in.NextToken, in.MaxResults)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListHandshakesForOrganization lists the handshakes the caller's
// organization sent, to its management account and delegated administrators.
func (s *Service) ListHandshakesForOrganization(ctx context.Context, in *api.ListHandshakesForOrganizationInput) (*api.ListHandshakesForOrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListHandshakesForOrganizationOutput{Handshakes: []api.Handshake{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		org, err := repo{tx}.readerOrDelegateOrg(p, "ListHandshakesForOrganization", nil)
		if err != nil {
			return err
		}
		out.Handshakes, out.NextToken, err = s.listHandshakes(tx, "ListHandshakesForOrganization", bucketHandshakesByOrg, org.ID, in.Filter, nil, in.NextToken, in.MaxResults)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listHandshakes pages through one index of handshakes (an account's or an
// organization's), keeping the visible ones that pass the filter.
func (s *Service) listHandshakes(tx store.Tx, op, bucket, owner string, f *api.HandshakeFilter, hide func(*handshake) bool, token *string, max *int32) ([]api.Handshake, *string, error) {
	if f != nil && f.ActionType != nil && f.ParentHandshakeId != nil {
		return nil, nil, invalidInput(api.InvalidInputExceptionReasonMaxLimitExceededFilter,
			"Filter by ActionType or by ParentHandshakeId, not both.")
	}
	scope := op + "/" + owner
	if f != nil && f.ActionType != nil {
		scope += "/action=" + string(*f.ActionType)
	}
	if f != nil && f.ParentHandshakeId != nil {
		scope += "/parent=" + *f.ParentHandshakeId
	}
	pg, err := newPager(tx, scope, token, max)
	if err != nil {
		return nil, nil, err
	}
	r, now, rd := repo{tx}, s.clock.Now(), newRenderer(tx)
	prefix := owner + "/"
	list := []api.Handshake{}
	next, err := pg.scanMatching(tx, bucket, prefix, func(key string, _ []byte, peek bool) (bool, error) {
		h, err := r.handshake(strings.TrimPrefix(key, prefix))
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if !h.visible(now) || (hide != nil && hide(h)) ||
			(f != nil && f.ActionType != nil && h.Action != string(*f.ActionType)) ||
			(f != nil && f.ParentHandshakeId != nil && h.ParentID != *f.ParentHandshakeId) {
			return false, nil
		}
		if peek {
			return true, nil
		}
		v, err := rd.handshake(h, now)
		if err != nil {
			return false, err
		}
		list = append(list, *v)
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return list, next, nil
}

// scanMatching is scan for lists that skip some keys: fn says whether it
// kept a key, only kept keys count toward the page, and the NextToken is
// given only when another kept key follows, so no page comes back empty.
// Past the page fn is called with peek set: it must then only say whether
// it would keep the key.
func (p *pager) scanMatching(tx store.Tx, bucket, prefix string, fn func(key string, value []byte, peek bool) (bool, error)) (*string, error) {
	n, last, more := 0, "", false
	err := tx.Scan(bucket, prefix, p.after, 0, func(key string, value []byte) error {
		if n == p.limit {
			ok, err := fn(key, value, true)
			if err != nil {
				return err
			}
			if ok {
				more = true
				return store.ErrStop
			}
			return nil
		}
		ok, err := fn(key, value, false)
		if err != nil {
			return err
		}
		if ok {
			n++
			last = key
		}
		return nil
	})
	if err != nil || !more {
		return nil, err
	}
	tok := p.signer.Encode(p.scope, last)
	return &tok, nil
}

// visibleHandshake returns the handshake unless it does not exist or has
// been closed for longer than AWS keeps closed handshakes.
func (r repo) visibleHandshake(id string, now time.Time) (*handshake, error) {
	h, err := r.handshake(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errHandshakeNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if !h.visible(now) {
		return nil, errHandshakeNotFound(id)
	}
	return h, nil
}

// checkTransition allows only the moves of an open handshake to a closed
// state; asking for the state it is already in has its own exception.
func checkTransition(h *handshake, to api.HandshakeState, now time.Time) error {
	cur := h.effectiveState(now)
	if cur == string(to) {
		return api.NewHandshakeAlreadyInStateException(fmt.Sprintf("The handshake is already %s.", cur))
	}
	if !h.open(now) {
		return api.NewInvalidHandshakeTransitionException(fmt.Sprintf("A handshake that is %s can no longer be %s.", cur, strings.ToLower(string(to))))
	}
	// The organization-wide request opens only once every member approved.
	if to == api.HandshakeStateAccepted && h.Action == string(api.ActionTypeEnableAllFeatures) &&
		h.AccountID == "" && h.State != string(api.HandshakeStateOpen) {
		return api.NewInvalidHandshakeTransitionException("The request to enable all features can be completed only after every invited member approved it.")
	}
	return nil
}

// closeHandshake records the handshake's final state.
func (r repo) closeHandshake(h *handshake, to api.HandshakeState, now time.Time) error {
	h.State = string(to)
	h.ClosedAt = now
	return r.putHandshake(h)
}

// closeIfOpen closes the handshake with the given id if it is still open.
func (r repo) closeIfOpen(id string, to api.HandshakeState, now time.Time) error {
	h, err := r.handshake(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || !h.open(now) {
		return err
	}
	return r.closeHandshake(h, to, now)
}

// delegateOf reports whether the account is a delegated administrator in
// the organization.
func (r repo) delegateOf(accountID, orgID string) (bool, error) {
	m, err := r.membership(accountID)
	if err != nil || m == nil || m.OrgID != orgID {
		return false, err
	}
	services, err := r.delegatedServices(accountID)
	return len(services) > 0, err
}

// delegationGrantsHandshake reports whether the caller is a member of the
// sending organization whose delegation policy grants it DescribeHandshake.
func (r repo) delegationGrantsHandshake(p principal, orgID string) (bool, error) {
	m, err := r.membership(p.AccountID)
	if err != nil || m == nil || m.OrgID != orgID {
		return false, err
	}
	org, err := r.org(orgID)
	if err != nil {
		return false, err
	}
	return r.delegationAllows(org, p, "DescribeHandshake", nil, "")
}

func newHandshakeID() string { return "h-" + idgen.String(idgen.LowerAlnum, 10) }

func errHandshakeNotFound(id string) error {
	return api.NewHandshakeNotFoundException(fmt.Sprintf("No handshake %s exists.", id))
}

func errNotRecipient(verb string) error {
	return api.NewAccessDeniedException(fmt.Sprintf("You don't have permissions to access this resource: only the recipient of a handshake can %s it.", verb))
}

func errHandshakeConstraint(reason api.HandshakeConstraintViolationExceptionReason, msg string) error {
	e := api.NewHandshakeConstraintViolationException(msg)
	e.Reason = ptr(reason)
	return e
}
