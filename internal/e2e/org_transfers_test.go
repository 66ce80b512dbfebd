package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// Tests of responsibility (billing) transfers between two organizations:
// the manager (the inviting management account) and the source (the
// invited organization whose billing it manages).

func TestResponsibilityTransfers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.Clock.Set(time.Date(2026, 5, 10, 9, 30, 0, 0, time.UTC))
	const manager, source, third = "111111111111", "222222222222", "333333333333"
	newPolicyOrg(t, e, manager)
	newPolicyOrg(t, e, source)
	newPolicyOrg(t, e, third)
	member := e.createAccount(t, manager, "transfer-member@example.com")
	june := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	invite := func(caller string, target types.HandshakeParty, start time.Time) (*types.Handshake, error) {
		out, err := e.orgs(caller).InviteOrganizationToTransferResponsibility(ctx, &organizations.InviteOrganizationToTransferResponsibilityInput{
			Type: types.ResponsibilityTransferTypeBilling, Target: &target, StartTimestamp: aws.Time(start),
			SourceName: aws.String("billing by 1111"), Notes: aws.String("please"),
		})
		if err != nil {
			return nil, err
		}
		return out.Handshake, nil
	}
	acct := func(id string) types.HandshakeParty {
		return types.HandshakeParty{Type: types.HandshakePartyTypeAccount, Id: aws.String(id)}
	}

	t.Run("invitation errors", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			start  time.Time
			reason string
		}{
			{"not at midnight", june.Add(time.Hour), "START_DATE_NOT_BEGINNING_OF_DAY"},
			{"not the first of a month", june.AddDate(0, 0, 1), "START_DATE_NOT_BEGINNING_OF_MONTH"},
			{"before the current month", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), "START_DATE_TOO_EARLY"},
			{"more than a year ahead", time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC), "START_DATE_TOO_LATE"},
		} {
			_, err := invite(manager, acct(source), tt.start)
			expectReason[*types.InvalidInputException](t, err, tt.reason)
		}
		_, err := invite(manager, types.HandshakeParty{Type: types.HandshakePartyTypeOrganization, Id: aws.String("o-aaaaaaaaaa")}, june)
		expectReason[*types.InvalidInputException](t, err, "INVALID_PARTY_TYPE_TARGET")
		_, err = invite(manager, acct(manager), june)
		expectReason[*types.HandshakeConstraintViolationException](t, err, "SOURCE_AND_TARGET_CANNOT_MATCH")
		_, err = invite(member, acct(source), june)
		expectError[*types.AccessDeniedException](t, err)
		_, err = invite("999999999999", acct(source), june)
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
	})

	h, err := invite(manager, acct(source), june)
	if err != nil {
		t.Fatal(err)
	}
	if h.Action != types.ActionTypeTransferResponsibility || h.State != types.HandshakeStateRequested {
		t.Fatalf("handshake = %+v", h)
	}
	rtID, ok := resource(h, types.HandshakeResourceTypeResponsibilityTransfer)
	if !ok {
		t.Fatalf("handshake resources %+v lack the transfer", h.Resources)
	}
	checkPattern(t, "transfer id", rtID, `^rt-[0-9a-z]{8,32}$`)
	if v, _ := resource(h, types.HandshakeResourceTypeTransferType); v != "BILLING" {
		t.Errorf("TRANSFER_TYPE = %q", v)
	}

	_, err = invite(manager, acct(source), june)
	expectError[*types.DuplicateHandshakeException](t, err)

	describe := func(caller, id string) (*types.ResponsibilityTransfer, error) {
		out, err := e.orgs(caller).DescribeResponsibilityTransfer(ctx, &organizations.DescribeResponsibilityTransferInput{Id: aws.String(id)})
		if err != nil {
			return nil, err
		}
		return out.ResponsibilityTransfer, nil
	}
	t.Run("both parties see the invitation", func(t *testing.T) {
		in, err := e.orgs(manager).ListInboundResponsibilityTransfers(ctx, &organizations.ListInboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling})
		if err != nil {
			t.Fatal(err)
		}
		if len(in.ResponsibilityTransfers) != 1 {
			t.Fatalf("inbound = %+v", in.ResponsibilityTransfers)
		}
		rt := in.ResponsibilityTransfers[0]
		if aws.ToString(rt.Id) != rtID || rt.Status != types.ResponsibilityTransferStatusRequested || aws.ToString(rt.ActiveHandshakeId) != aws.ToString(h.Id) ||
			aws.ToString(rt.Source.ManagementAccountId) != source || aws.ToString(rt.Target.ManagementAccountId) != manager || !aws.ToTime(rt.StartTimestamp).Equal(june) {
			t.Errorf("inbound transfer = %+v", rt)
		}
		checkPattern(t, "inbound arn", aws.ToString(rt.Arn), `^arn:aws:organizations::\d{12}:transfer/o-[a-z0-9]{10,32}/billing/inbound/rt-[0-9a-z]{8,32}$`)
		out, err := e.orgs(source).ListOutboundResponsibilityTransfers(ctx, &organizations.ListOutboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling})
		if err != nil || len(out.ResponsibilityTransfers) != 1 {
			t.Fatalf("outbound = %+v, %v", out, err)
		}
		checkPattern(t, "outbound arn", aws.ToString(out.ResponsibilityTransfers[0].Arn), `/billing/outbound/`)
		none, err := e.orgs(manager).ListOutboundResponsibilityTransfers(ctx, &organizations.ListOutboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling})
		if err != nil || len(none.ResponsibilityTransfers) != 0 {
			t.Errorf("the manager's outbound = %+v, %v", none, err)
		}
		one, err := e.orgs(manager).ListInboundResponsibilityTransfers(ctx, &organizations.ListInboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling, Id: aws.String(rtID)})
		if err != nil || len(one.ResponsibilityTransfers) != 1 {
			t.Errorf("inbound by id = %+v, %v", one, err)
		}
		_, err = e.orgs(manager).ListInboundResponsibilityTransfers(ctx, &organizations.ListInboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling, Id: aws.String("rt-0000000000")})
		expectError[*types.ResponsibilityTransferNotFoundException](t, err)
		for _, who := range []string{manager, source} {
			if _, err := describe(who, rtID); err != nil {
				t.Errorf("DescribeResponsibilityTransfer by %s: %v", who, err)
			}
		}
		_, err = describe(third, rtID)
		expectError[*types.ResponsibilityTransferNotFoundException](t, err)
		_, err = describe(member, rtID)
		expectError[*types.AccessDeniedException](t, err)
	})
	t.Run("rename", func(t *testing.T) {
		out, err := e.orgs(source).UpdateResponsibilityTransfer(ctx, &organizations.UpdateResponsibilityTransferInput{Id: aws.String(rtID), Name: aws.String("our billing")})
		if err != nil || aws.ToString(out.ResponsibilityTransfer.Name) != "our billing" {
			t.Fatalf("UpdateResponsibilityTransfer = %v, %v", out, err)
		}
		_, err = e.orgs(third).UpdateResponsibilityTransfer(ctx, &organizations.UpdateResponsibilityTransferInput{Id: aws.String(rtID), Name: aws.String("x")})
		expectError[*types.ResponsibilityTransferNotFoundException](t, err)
	})
	terminate := func(caller string, end *time.Time) (*types.ResponsibilityTransfer, error) {
		out, err := e.orgs(caller).TerminateResponsibilityTransfer(ctx, &organizations.TerminateResponsibilityTransferInput{Id: aws.String(rtID), EndTimestamp: end})
		if err != nil {
			return nil, err
		}
		return out.ResponsibilityTransfer, nil
	}
	_, err = terminate(manager, nil)
	expectError[*types.InvalidResponsibilityTransferTransitionException](t, err)

	if _, err := e.orgs(source).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
		t.Fatalf("AcceptHandshake: %v", err)
	}
	rt, err := describe(manager, rtID)
	if err != nil || rt.Status != types.ResponsibilityTransferStatusAccepted || rt.ActiveHandshakeId != nil {
		t.Fatalf("after acceptance: %+v, %v", rt, err)
	}
	// The source's billing is now managed: a second manager is refused.
	h3, err := invite(third, acct(source), june)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.orgs(source).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h3.Id})
	expectReason[*types.HandshakeConstraintViolationException](t, err, "RESPONSIBILITY_TRANSFER_ALREADY_EXISTS")
	_, err = invite(manager, acct(source), june)
	expectReason[*types.HandshakeConstraintViolationException](t, err, "RESPONSIBILITY_TRANSFER_ALREADY_EXISTS")

	t.Run("terminate", func(t *testing.T) {
		_, err := terminate(manager, aws.Time(time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC)))
		expectReason[*types.InvalidInputException](t, err, "END_DATE_NOT_END_OF_MONTH")
		_, err = terminate(manager, aws.Time(time.Date(2026, 5, 31, 23, 59, 59, 999e6, time.UTC)))
		expectReason[*types.InvalidInputException](t, err, "END_DATE_TOO_EARLY")
		end := time.Date(2026, 7, 31, 23, 59, 59, 999e6, time.UTC)
		rt, err := terminate(source, &end)
		if err != nil {
			t.Fatal(err)
		}
		if rt.Status != types.ResponsibilityTransferStatusWithdrawn || !aws.ToTime(rt.EndTimestamp).Equal(end) {
			t.Errorf("terminated transfer = %+v", rt)
		}
		_, err = terminate(manager, nil)
		expectError[*types.ResponsibilityTransferAlreadyInStatusException](t, err)
	})
	t.Run("an invitation by email address", func(t *testing.T) {
		d, err := e.orgs(third).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil {
			t.Fatal(err)
		}
		email := aws.ToString(d.Organization.MasterAccountEmail)
		he, err := invite(manager, types.HandshakeParty{Type: types.HandshakePartyTypeEmail, Id: aws.String(email)}, june)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := resource(he, types.HandshakeResourceTypeResponsibilityTransfer)
		rt, err := describe(third, id)
		if err != nil || aws.ToString(rt.Source.ManagementAccountId) != third || aws.ToString(rt.Source.ManagementAccountEmail) != email {
			t.Errorf("transfer to %s = %+v, %v", email, rt, err)
		}
		_, err = invite(manager, types.HandshakeParty{Type: types.HandshakePartyTypeEmail, Id: aws.String("nobody@example.com")}, june)
		expectReason[*types.InvalidInputException](t, err, "INVALID_EMAIL_ADDRESS_TARGET")
		if _, err := e.orgs(manager).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: he.Id}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("declined and canceled invitations", func(t *testing.T) {
		hd, err := invite(third, acct(manager), june)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.orgs(manager).DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: hd.Id}); err != nil {
			t.Fatal(err)
		}
		id, _ := resource(hd, types.HandshakeResourceTypeResponsibilityTransfer)
		if rt, err := describe(third, id); err != nil || rt.Status != types.ResponsibilityTransferStatusDeclined {
			t.Errorf("declined transfer = %+v, %v", rt, err)
		}
		if _, err := e.orgs(third).CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: h3.Id}); err != nil {
			t.Fatal(err)
		}
		id3, _ := resource(h3, types.HandshakeResourceTypeResponsibilityTransfer)
		if rt, err := describe(source, id3); err != nil || rt.Status != types.ResponsibilityTransferStatusCanceled {
			t.Errorf("canceled transfer = %+v, %v", rt, err)
		}
	})
}
