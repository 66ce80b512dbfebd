package organizations

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// bucketTransferByHandshake leads from a TRANSFER_RESPONSIBILITY
// handshake to its transfer.
const bucketTransferByHandshake = "org.transfer-by-handshake" // handshake id -> transfer id

// reTransferID is the model's ResponsibilityTransferId pattern, anchored.
var reTransferID = regexp.MustCompile(`^rt-[0-9a-z]{8,32}$`)

// transferStartHorizon is how far ahead a transfer may start. AWS documents
// START_DATE_TOO_LATE without the bound; orgstack allows a year.
const transferStartHorizon = 12 // months

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// checkTransferStart validates a start date as the InvalidInputException
// reasons describe it: the first day of a month at 00:00:00.000 UTC, not
// before the current month and not more than a year ahead.
func checkTransferStart(start, now time.Time) error {
	start = start.UTC()
	switch {
	case start.Hour() != 0 || start.Minute() != 0 || start.Second() != 0 || start.Nanosecond() != 0:
		return invalidTransferDate(api.InvalidInputExceptionReasonStartDateNotBeginningOfDay, "A transfer starts at the beginning of a day (00:00:00.000 UTC).")
	case start.Day() != 1:
		return invalidTransferDate(api.InvalidInputExceptionReasonStartDateNotBeginningOfMonth, "A transfer starts on the first day of a month.")
	case start.Before(monthStart(now)):
		return invalidTransferDate(api.InvalidInputExceptionReasonStartDateTooEarly, "A transfer cannot start before the current month.")
	case start.After(monthStart(now).AddDate(0, transferStartHorizon, 0)):
		return invalidTransferDate(api.InvalidInputExceptionReasonStartDateTooLate, fmt.Sprintf("A transfer can start at most %d months ahead.", transferStartHorizon))
	}
	return nil
}

// checkTransferEnd validates an end date: the last millisecond of a month
// (23:59:59.999 UTC on its last day), not before the transfer starts nor
// before the current month ends.
func checkTransferEnd(end, start, now time.Time) error {
	end = end.UTC()
	next := end.Add(time.Millisecond)
	if end.Truncate(time.Millisecond) != end || next.Day() != 1 || next.Hour() != 0 || next.Minute() != 0 || next.Second() != 0 || next.Nanosecond() != 0 {
		return invalidTransferDate(api.InvalidInputExceptionReasonEndDateNotEndOfMonth, "A transfer ends at the end of the last day of a month (23:59:59.999 UTC).")
	}
	if next.Before(monthStart(now).AddDate(0, 1, 0)) || !end.After(start) {
		return invalidTransferDate(api.InvalidInputExceptionReasonEndDateTooEarly, "A transfer cannot end before it starts or before the current month ends.")
	}
	return nil
}

func invalidTransferDate(reason api.InvalidInputExceptionReason, msg string) error {
	e := api.NewInvalidInputException(msg)
	e.Reason = ptr(reason)
	return e
}

// InviteOrganizationToTransferResponsibility invites another
// organization's management account to let the caller's management
// account manage its billing. The invitation is a TRANSFER_RESPONSIBILITY
// handshake; the transfer exists, REQUESTED, from now on.
func (s *Service) InviteOrganizationToTransferResponsibility(ctx context.Context, in *api.InviteOrganizationToTransferResponsibilityInput) (*api.InviteOrganizationToTransferResponsibilityOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.Handshake
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		org, err := r.managedOrg(p.AccountID, "InviteOrganizationToTransferResponsibility")
		if err != nil {
			return err
		}
		if *in.Type != api.ResponsibilityTransferTypeBilling {
			e := api.NewInvalidInputException("Only BILLING responsibility can be transferred.")
			e.Reason = ptr(api.InvalidInputExceptionReasonUnsupportedActionInResponsibilityTransfer)
			return e
		}
		recipient, err := transferRecipient(tx, in.Target, now)
		if err != nil {
			return err
		}
		if recipient.ID == p.AccountID {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonSourceAndTargetCannotMatch,
				"An organization cannot transfer a responsibility to itself.")
		}
		if err := checkTransferStart(*in.StartTimestamp, now); err != nil {
			return err
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		if err := validateTags(in.Tags, nil, q.TagsPerResource); err != nil {
			return err
		}
		if err := r.checkNoLiveTransfer(p.AccountID, recipient.ID, now); err != nil {
			return err
		}
		h := &handshake{
			ID: "h-" + idgen.String(idgen.LowerAlnum, 10), OrgID: org.ID, ManagementID: org.ManagementID,
			Action: string(api.ActionTypeTransferResponsibility), State: string(api.HandshakeStateRequested),
			TargetType: string(*in.Target.Type), TargetID: *in.Target.Id, AccountID: recipient.ID,
			Notes: in.Notes, FeatureSet: org.FeatureSet, RequestedAt: now, ExpiresAt: now.Add(inviteLifetime),
		}
		t := &transfer{
			ID: "rt-" + idgen.String(idgen.LowerAlnum, 10), Name: *in.SourceName, Type: string(*in.Type),
			TargetAccountID: org.ManagementID, TargetOrgID: org.ID, SourceAccountID: recipient.ID,
			HandshakeID: h.ID, Start: in.StartTimestamp.UTC(),
		}
		if err := r.createHandshake(h); err != nil {
			return err
		}
		if err := r.createTransfer(t); err != nil {
			return err
		}
		if err := tx.Put(bucketTransferByHandshake, h.ID, []byte(t.ID)); err != nil {
			return err
		}
		if err := r.putTags(t.ID, in.Tags); err != nil {
			return err
		}
		out, err = newRenderer(tx).handshake(h, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.InviteOrganizationToTransferResponsibilityOutput{Handshake: out}, nil
}

// transferRecipient resolves the invited management account, named by
// account id or by email address.
func transferRecipient(tx store.Tx, party *api.HandshakeParty, now time.Time) (*accounts.Account, error) {
	if party.Type != nil && *party.Type == api.HandshakePartyTypeOrganization {
		e := api.NewInvalidInputException("A transfer invitation names an ACCOUNT or an EMAIL, not an organization.")
		e.Reason = ptr(api.InvalidInputExceptionReasonInvalidPartyTypeTarget)
		return nil, e
	}
	return resolveInvitee(tx, party, now)
}

// checkNoLiveTransfer refuses a second billing transfer between the same
// two accounts while one is pending (DuplicateHandshakeException) or in
// force (RESPONSIBILITY_TRANSFER_ALREADY_EXISTS).
func (r repo) checkNoLiveTransfer(managerID, sourceID string, now time.Time) error {
	ts, err := r.transfersOf(bucketTransfersInbound, managerID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.SourceAccountID != sourceID {
			continue
		}
		st, err := r.transferStatus(t, now)
		if err != nil {
			return err
		}
		switch st {
		case api.ResponsibilityTransferStatusRequested:
			return api.NewDuplicateHandshakeException("An invitation to transfer this responsibility to you is already pending for that account.")
		case api.ResponsibilityTransferStatusAccepted:
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonResponsibilityTransferAlreadyExists,
				"A transfer of this responsibility between these organizations is already in force.")
		}
	}
	return nil
}

// acceptTransfer completes a TRANSFER_RESPONSIBILITY handshake accepted
// by its recipient, which must be the management account of another
// organization whose billing is not already transferred. AcceptHandshake
// calls it inside its transaction.
func (s *Service) acceptTransfer(r repo, h *handshake, now time.Time) error {
	id, err := r.tx.Get(bucketTransferByHandshake, h.ID)
	if err != nil {
		return fmt.Errorf("transfer of handshake %s: %w", h.ID, err)
	}
	t, err := r.transfer(string(id))
	if err != nil {
		return fmt.Errorf("transfer %s: %w", id, err)
	}
	if t == nil {
		return fmt.Errorf("handshake %s names the transfer %s, which does not exist", h.ID, id)
	}
	org, _, err := r.callerOrg(h.AccountID)
	if err != nil {
		return err
	}
	if org == nil {
		return errNotInUse()
	}
	if org.ManagementID != h.AccountID {
		return errManagementOnly("AcceptHandshake")
	}
	if org.ID == t.TargetOrgID {
		return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonSourceAndTargetCannotMatch,
			"An organization cannot take over its own responsibility.")
	}
	outbound, err := r.transfersOf(bucketTransfersOutbound, h.AccountID)
	if err != nil {
		return err
	}
	for _, o := range outbound {
		if o.ID == t.ID || o.Type != t.Type {
			continue
		}
		if st, err := r.transferStatus(o, now); err != nil {
			return err
		} else if st == api.ResponsibilityTransferStatusAccepted {
			return errHandshakeConstraint(api.HandshakeConstraintViolationExceptionReasonResponsibilityTransferAlreadyExists,
				"Your organization's billing is already managed by another organization; end that transfer first.")
		}
	}
	t.SourceOrgID = org.ID
	if err := r.putTransfer(t); err != nil {
		return err
	}
	h.State, h.ClosedAt = string(api.HandshakeStateAccepted), now
	return r.putHandshake(h)
}

// transferHandshakeResources are the resources of a TRANSFER_RESPONSIBILITY
// handshake, as the handshake renderer shows them: the transfer, its type
// and start, the inviting management account, and the notes.
func transferHandshakeResources(tx store.Tx, h *handshake) ([]api.HandshakeResource, error) {
	r := repo{tx}
	id, err := tx.Get(bucketTransferByHandshake, h.ID)
	if err != nil {
		return nil, fmt.Errorf("transfer of handshake %s: %w", h.ID, err)
	}
	t, err := r.transfer(string(id))
	if err != nil {
		return nil, fmt.Errorf("transfer %s: %w", id, err)
	}
	if t == nil {
		return nil, fmt.Errorf("handshake %s names the transfer %s, which does not exist", h.ID, id)
	}
	mgmt, err := accounts.Get(r.tx, t.TargetAccountID)
	if err != nil {
		return nil, fmt.Errorf("manager of transfer %s: %w", t.ID, err)
	}
	res := []api.HandshakeResource{
		{Type: ptr(api.HandshakeResourceTypeResponsibilityTransfer), Value: ptr(t.ID)},
		{Type: ptr(api.HandshakeResourceTypeTransferType), Value: ptr(t.Type)},
		{Type: ptr(api.HandshakeResourceTypeTransferStartTimestamp), Value: ptr(t.Start.Format(time.RFC3339))},
		{Type: ptr(api.HandshakeResourceTypeManagementAccount), Value: ptr(mgmt.ID)},
		{Type: ptr(api.HandshakeResourceTypeManagementEmail), Value: ptr(mgmt.Email)},
		{Type: ptr(api.HandshakeResourceTypeManagementName), Value: ptr(mgmt.Name)},
	}
	if h.Notes != nil {
		res = append(res, api.HandshakeResource{Type: ptr(api.HandshakeResourceTypeNotes), Value: h.Notes})
	}
	return res, nil
}

// transfersOf returns the transfers of an index (inbound or outbound) for
// one management account, in id order.
func (r repo) transfersOf(bucket, accountID string) ([]*transfer, error) {
	var ids []string
	err := r.tx.Scan(bucket, accountID+"/", "", 0, func(key string, _ []byte) error {
		ids = append(ids, strings.TrimPrefix(key, accountID+"/"))
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*transfer, 0, len(ids))
	for _, id := range ids {
		t, err := r.transfer(id)
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// partyTransfer returns a transfer the caller is a party to, or
// ResponsibilityTransferNotFoundException: a transfer of others does not
// exist for the caller.
func (r repo) partyTransfer(accountID, id string) (*transfer, error) {
	if reTransferID.MatchString(id) {
		t, err := r.transfer(id)
		if err != nil {
			return nil, err
		}
		if t != nil && (t.TargetAccountID == accountID || t.SourceAccountID == accountID) {
			return t, nil
		}
	}
	return nil, api.NewResponsibilityTransferNotFoundException(fmt.Sprintf("No transfer %s exists for your organization.", id))
}

// renderTransfer shows a transfer to one of its parties; the ARN is in
// the viewer's organization, inbound for the manager and outbound for
// the source.
func (r repo) renderTransfer(t *transfer, viewer string, viewerOrg *organization, now time.Time) (*api.ResponsibilityTransfer, error) {
	st, err := r.transferStatus(t, now)
	if err != nil {
		return nil, err
	}
	party := func(id string) (*api.TransferParticipant, error) {
		a, err := accounts.Get(r.tx, id)
		if err != nil {
			return nil, fmt.Errorf("party %s of transfer %s: %w", id, t.ID, err)
		}
		return &api.TransferParticipant{ManagementAccountId: ptr(a.ID), ManagementAccountEmail: ptr(a.Email)}, nil
	}
	src, err := party(t.SourceAccountID)
	if err != nil {
		return nil, err
	}
	dst, err := party(t.TargetAccountID)
	if err != nil {
		return nil, err
	}
	dir := "outbound"
	if viewer == t.TargetAccountID {
		dir = "inbound"
	}
	out := &api.ResponsibilityTransfer{
		Arn:            ptr("arn:aws:organizations::" + viewer + ":transfer/" + viewerOrg.ID + "/" + strings.ToLower(t.Type) + "/" + dir + "/" + t.ID),
		Name:           ptr(t.Name),
		Id:             ptr(t.ID),
		Type:           ptr(api.ResponsibilityTransferType(t.Type)),
		Status:         ptr(st),
		Source:         src,
		Target:         dst,
		StartTimestamp: ptr(t.Start),
		EndTimestamp:   t.End,
	}
	if st == api.ResponsibilityTransferStatusRequested {
		out.ActiveHandshakeId = ptr(t.HandshakeID)
	}
	return out, nil
}

// DescribeResponsibilityTransfer shows a transfer to either party.
func (s *Service) DescribeResponsibilityTransfer(ctx context.Context, in *api.DescribeResponsibilityTransferInput) (*api.DescribeResponsibilityTransferOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.ResponsibilityTransfer
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managedOrg(p.AccountID, "DescribeResponsibilityTransfer")
		if err != nil {
			return err
		}
		t, err := r.partyTransfer(p.AccountID, *in.Id)
		if err != nil {
			return err
		}
		out, err = r.renderTransfer(t, p.AccountID, org, s.clock.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeResponsibilityTransferOutput{ResponsibilityTransfer: out}, nil
}

// ListInboundResponsibilityTransfers lists the transfers (and invitations)
// by which the caller manages another organization's responsibility,
// optionally only one of them.
func (s *Service) ListInboundResponsibilityTransfers(ctx context.Context, in *api.ListInboundResponsibilityTransfersInput) (*api.ListInboundResponsibilityTransfersOutput, error) {
	out := &api.ListInboundResponsibilityTransfersOutput{ResponsibilityTransfers: []api.ResponsibilityTransfer{}}
	var err error
	out.ResponsibilityTransfers, out.NextToken, err = s.listTransfers(ctx, "ListInboundResponsibilityTransfers", bucketTransfersInbound, *in.Type, in.Id, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListOutboundResponsibilityTransfers lists the transfers (and
// invitations) by which another account manages the caller's
// organization's responsibility.
func (s *Service) ListOutboundResponsibilityTransfers(ctx context.Context, in *api.ListOutboundResponsibilityTransfersInput) (*api.ListOutboundResponsibilityTransfersOutput, error) {
	out := &api.ListOutboundResponsibilityTransfersOutput{ResponsibilityTransfers: []api.ResponsibilityTransfer{}}
	var err error
	out.ResponsibilityTransfers, out.NextToken, err = s.listTransfers(ctx, "ListOutboundResponsibilityTransfers", bucketTransfersOutbound, *in.Type, nil, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) listTransfers(ctx context.Context, op, bucket string, typ api.ResponsibilityTransferType, id, token *string, max *int32) ([]api.ResponsibilityTransfer, *string, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	list := []api.ResponsibilityTransfer{}
	var next *string
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		org, err := r.managedOrg(p.AccountID, op)
		if err != nil {
			return err
		}
		if id != nil {
			// Asking for one transfer that is not among the caller's inbound ones is an error.
			t, err := r.partyTransfer(p.AccountID, *id)
			if err != nil {
				return err
			}
			if t.TargetAccountID != p.AccountID {
				return api.NewResponsibilityTransferNotFoundException(fmt.Sprintf("No inbound transfer %s exists for your organization.", *id))
			}
		}
		prefix := p.AccountID + "/"
		pg, err := newPager(tx, op+"/"+p.AccountID+"/"+string(typ), token, max)
		if err != nil {
			return err
		}
		next, err = pg.scan(tx, bucket, prefix, func(key string, _ []byte) error {
			t, err := r.transfer(strings.TrimPrefix(key, prefix))
			if err != nil || t == nil || t.Type != string(typ) || (id != nil && t.ID != *id) {
				return err
			}
			rt, err := r.renderTransfer(t, p.AccountID, org, now)
			if err != nil {
				return err
			}
			list = append(list, *rt)
			return nil
		})
		return err
	})
	return list, next, err
}

// UpdateResponsibilityTransfer renames a transfer; either party may.
func (s *Service) UpdateResponsibilityTransfer(ctx context.Context, in *api.UpdateResponsibilityTransferInput) (*api.UpdateResponsibilityTransferOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.ResponsibilityTransfer
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managedOrg(p.AccountID, "UpdateResponsibilityTransfer")
		if err != nil {
			return err
		}
		t, err := r.partyTransfer(p.AccountID, *in.Id)
		if err != nil {
			return err
		}
		t.Name = *in.Name
		if err := r.putTransfer(t); err != nil {
			return err
		}
		out, err = r.renderTransfer(t, p.AccountID, org, s.clock.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateResponsibilityTransferOutput{ResponsibilityTransfer: out}, nil
}

// TerminateResponsibilityTransfer ends an accepted transfer, at the end
// of the given month or, without one, at the end of the current month.
// Either party may. A pending invitation is withdrawn with CancelHandshake
// instead, so terminating one is an invalid transition.
func (s *Service) TerminateResponsibilityTransfer(ctx context.Context, in *api.TerminateResponsibilityTransferInput) (*api.TerminateResponsibilityTransferOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.ResponsibilityTransfer
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		now := s.clock.Now()
		org, err := r.managedOrg(p.AccountID, "TerminateResponsibilityTransfer")
		if err != nil {
			return err
		}
		t, err := r.partyTransfer(p.AccountID, *in.Id)
		if err != nil {
			return err
		}
		st, err := r.transferStatus(t, now)
		if err != nil {
			return err
		}
		switch st {
		case api.ResponsibilityTransferStatusWithdrawn:
			return api.NewResponsibilityTransferAlreadyInStatusException(fmt.Sprintf("The transfer %s has already been terminated.", t.ID))
		case api.ResponsibilityTransferStatusAccepted:
		default:
			return api.NewInvalidResponsibilityTransferTransitionException(fmt.Sprintf("The transfer %s is %s; only an accepted transfer can be terminated.", t.ID, st))
		}
		end := monthStart(now).AddDate(0, 1, 0).Add(-time.Millisecond)
		if in.EndTimestamp != nil {
			if err := checkTransferEnd(*in.EndTimestamp, t.Start, now); err != nil {
				return err
			}
			end = in.EndTimestamp.UTC()
		}
		t.Withdrawn, t.End = true, &end
		if err := r.putTransfer(t); err != nil {
			return err
		}
		out, err = r.renderTransfer(t, p.AccountID, org, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.TerminateResponsibilityTransferOutput{ResponsibilityTransfer: out}, nil
}
