package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgstack/orgstack/internal/accounts"
	"github.com/orgstack/orgstack/internal/store"
)

const coPrincipal = "compute-optimizer.amazonaws.com"

// orgFixture is an organization made through the API, with members.
type orgFixture struct {
	ID, RootID, Mgmt string
}

// newOrgWithMembers creates an organization managed by mgmt and joins the
// given accounts to it. Members are written to the store the way
// Organizations records an accepted invitation, because these tests are
// about what members can do, not how they joined (the handshake tests
// cover that).
func newOrgWithMembers(t *testing.T, e *env, mgmt string, members ...string) orgFixture {
	t.Helper()
	ctx := context.Background()
	out, err := e.orgs(mgmt).CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	roots, err := e.orgs(mgmt).ListRoots(ctx, &organizations.ListRootsInput{})
	rootID := ""
	if err == nil && len(roots.Roots) == 1 {
		rootID = aws.ToString(roots.Roots[0].Id)
	} else {
		// ListRoots may not be implemented yet: read the root from the
		// management account's membership.
		rootID = storedMember(t, e, mgmt)["parentId"].(string)
	}
	f := orgFixture{ID: aws.ToString(out.Organization.Id), RootID: rootID, Mgmt: mgmt}
	for _, m := range members {
		joinOrg(t, e, f, m)
	}
	return f
}

// joinOrg records account as an invited member of the organization.
func joinOrg(t *testing.T, e *env, f orgFixture, account string) {
	t.Helper()
	now := e.Clock.Now()
	err := e.Store.Write(context.Background(), func(tx store.Tx) error {
		if _, err := accounts.Ensure(tx, account, now); err != nil {
			return err
		}
		m := map[string]any{
			"accountId": account, "orgId": f.ID, "parentId": f.RootID,
			"status": "ACTIVE", "joinedMethod": "INVITED", "joinedAt": now,
		}
		if err := store.PutJSON(tx, "org.members", account, m); err != nil {
			return err
		}
		if err := tx.Put("org.org-accounts", f.ID+"/"+account, nil); err != nil {
			return err
		}
		return tx.Put("org.children", f.RootID+"/ACCOUNT/"+account, nil)
	})
	if err != nil {
		t.Fatalf("join %s to %s: %v", account, f.ID, err)
	}
}

// setMemberStatus changes a member's status the way closure would.
func setMemberStatus(t *testing.T, e *env, account, status string) {
	t.Helper()
	m := storedMember(t, e, account)
	m["status"] = status
	if err := e.Store.Write(context.Background(), func(tx store.Tx) error {
		return store.PutJSON(tx, "org.members", account, m)
	}); err != nil {
		t.Fatal(err)
	}
}

func storedMember(t *testing.T, e *env, account string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := e.Store.Read(context.Background(), func(tx store.Tx) error {
		b, err := tx.Get("org.members", account)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &m)
	}); err != nil {
		t.Fatalf("membership of %s: %v", account, err)
	}
	return m
}

func TestTrustedAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, member, outsider = "101000000001", "101000000002", "101000000003"
	newOrgWithMembers(t, e, mgmt, member)
	e.Clock.Set(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))

	list := func(account string) ([]types.EnabledServicePrincipal, error) {
		var all []types.EnabledServicePrincipal
		p := organizations.NewListAWSServiceAccessForOrganizationPaginator(e.orgs(account),
			&organizations.ListAWSServiceAccessForOrganizationInput{MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			all = append(all, page.EnabledServicePrincipals...)
		}
		return all, nil
	}
	if got, err := list(mgmt); err != nil || len(got) != 0 {
		t.Fatalf("fresh organization: %v %v", got, err)
	}
	for _, sp := range []string{coPrincipal, "ram.amazonaws.com", coPrincipal} {
		if _, err := e.orgs(mgmt).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(sp)}); err != nil {
			t.Fatalf("enable %s: %v", sp, err)
		}
	}
	got, err := list(mgmt)
	if err != nil || len(got) != 2 || aws.ToString(got[0].ServicePrincipal) != coPrincipal ||
		aws.ToString(got[1].ServicePrincipal) != "ram.amazonaws.com" || !aws.ToTime(got[0].DateEnabled).Equal(e.Clock.Now()) {
		t.Fatalf("after enabling two (one twice), paged by one: %+v %v", got, err)
	}

	t.Run("errors", func(t *testing.T) {
		_, err := e.orgs(mgmt).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("nonsense.amazonaws.com")})
		if ie := expectError[*types.InvalidInputException](t, err); ie != nil && ie.Reason != types.InvalidInputExceptionReasonUnrecognizedServicePrincipal {
			t.Errorf("reason = %q", ie.Reason)
		}
		_, err = e.orgs(member).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(member).DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(outsider).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		_, err = list(member) // a plain member may not read it
		expectError[*types.AccessDeniedException](t, err)
		_, err = list(outsider)
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		_, err = e.orgs(mgmt).ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{NextToken: aws.String("forged")})
		if ie := expectError[*types.InvalidInputException](t, err); ie != nil && ie.Reason != types.InvalidInputExceptionReasonInvalidPaginationToken {
			t.Errorf("reason = %q", ie.Reason)
		}
	})

	if _, err := e.orgs(mgmt).DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String("ram.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := list(mgmt); len(got) != 1 || aws.ToString(got[0].ServicePrincipal) != coPrincipal {
		t.Fatalf("after disabling ram: %+v", got)
	}
}

func TestTrustedAccessNeedsAllFeatures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.orgs("102000000001").CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling}); err != nil {
		t.Fatal(err)
	}
	_, err := e.orgs("102000000001").EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(coPrincipal)})
	if ce := expectError[*types.ConstraintViolationException](t, err); ce != nil && ce.Reason != types.ConstraintViolationExceptionReasonOrganizationNotInAllFeaturesMode {
		t.Errorf("reason = %q", ce.Reason)
	}
}

func TestDelegatedAdministrators(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const mgmt, a, b, suspended, outsider = "103000000001", "103000000002", "103000000003", "103000000004", "103000000009"
	newOrgWithMembers(t, e, mgmt, a, b, suspended)
	setMemberStatus(t, e, suspended, "SUSPENDED")
	e.Clock.Set(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	m := e.orgs(mgmt)
	register := func(caller, account, sp string) error {
		_, err := e.orgs(caller).RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(account), ServicePrincipal: aws.String(sp)})
		return err
	}
	constraintReason := func(t *testing.T, err error, want types.ConstraintViolationExceptionReason) {
		t.Helper()
		if ce := expectError[*types.ConstraintViolationException](t, err); ce != nil && ce.Reason != want {
			t.Errorf("reason = %q, want %q", ce.Reason, want)
		}
	}

	// Before trusted access, nobody can be registered.
	constraintReason(t, register(mgmt, a, coPrincipal), types.ConstraintViolationExceptionReasonServiceAccessNotEnabled)
	for _, sp := range []string{coPrincipal, "guardduty.amazonaws.com", "ram.amazonaws.com"} {
		if _, err := m.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(sp)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := register(mgmt, a, coPrincipal); err != nil {
		t.Fatalf("register %s: %v", a, err)
	}
	e.Clock.Advance(time.Hour)
	if err := register(mgmt, a, "guardduty.amazonaws.com"); err != nil {
		t.Fatalf("register %s for guardduty: %v", a, err)
	}
	if err := register(mgmt, b, "guardduty.amazonaws.com"); err != nil {
		t.Fatalf("register %s for guardduty: %v", b, err)
	}

	t.Run("register errors", func(t *testing.T) {
		expectError[*types.AccountAlreadyRegisteredException](t, register(mgmt, a, coPrincipal))
		// Compute Optimizer takes one delegated administrator per organization.
		constraintReason(t, register(mgmt, b, coPrincipal), types.ConstraintViolationExceptionReasonMaxDelegatedAdministratorsForServiceLimitExceeded)
		constraintReason(t, register(mgmt, mgmt, "guardduty.amazonaws.com"), types.ConstraintViolationExceptionReasonCannotRegisterMasterAsDelegatedAdministrator)
		constraintReason(t, register(mgmt, suspended, "guardduty.amazonaws.com"), types.ConstraintViolationExceptionReasonCannotRegisterSuspendedAccountAsDelegatedAdministrator)
		expectError[*types.AccountNotFoundException](t, register(mgmt, outsider, "guardduty.amazonaws.com"))
		if ie := expectError[*types.InvalidInputException](t, register(mgmt, b, "nonsense.amazonaws.com")); ie != nil && ie.Reason != types.InvalidInputExceptionReasonUnrecognizedServicePrincipal {
			t.Errorf("reason = %q", ie.Reason)
		}
		// RAM has trusted access but takes no delegated administrator.
		expectError[*types.InvalidInputException](t, register(mgmt, b, "ram.amazonaws.com"))
		expectError[*types.AccessDeniedException](t, register(a, b, "guardduty.amazonaws.com"))
		expectError[*types.AWSOrganizationsNotInUseException](t, register(outsider, b, "guardduty.amazonaws.com"))
	})

	t.Run("list administrators", func(t *testing.T) {
		var all []types.DelegatedAdministrator
		p := organizations.NewListDelegatedAdministratorsPaginator(e.orgs(b), &organizations.ListDelegatedAdministratorsInput{MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.DelegatedAdministrators...)
		}
		if len(all) != 2 || aws.ToString(all[0].Id) != a || aws.ToString(all[1].Id) != b {
			t.Fatalf("all services, as a delegate, paged by one: %+v", all)
		}
		if !aws.ToTime(all[0].DelegationEnabledDate).Equal(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) || all[0].Status != types.AccountStatusActive ||
			all[0].JoinedMethod != types.AccountJoinedMethodInvited || aws.ToString(all[0].Email) == "" {
			t.Errorf("first delegate = %+v, want its earliest delegation and its account's details", all[0])
		}
		out, err := m.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(coPrincipal)})
		if err != nil || len(out.DelegatedAdministrators) != 1 || aws.ToString(out.DelegatedAdministrators[0].Id) != a {
			t.Fatalf("compute-optimizer's: %+v %v", out, err)
		}
		_, err = e.orgs(suspended).ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(outsider).ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		_, err = m.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String("nonsense.amazonaws.com")})
		expectError[*types.InvalidInputException](t, err)
	})

	t.Run("list services", func(t *testing.T) {
		out, err := m.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(a)})
		if err != nil || len(out.DelegatedServices) != 2 || aws.ToString(out.DelegatedServices[0].ServicePrincipal) != coPrincipal ||
			aws.ToString(out.DelegatedServices[1].ServicePrincipal) != "guardduty.amazonaws.com" {
			t.Fatalf("services of %s: %+v %v", a, out, err)
		}
		first, err := e.orgs(a).ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(a), MaxResults: aws.Int32(1)})
		if err != nil || len(first.DelegatedServices) != 1 || first.NextToken == nil {
			t.Fatalf("first page: %+v %v", first, err)
		}
		_, err = m.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(suspended)})
		expectError[*types.AccountNotRegisteredException](t, err)
		_, err = m.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(outsider)})
		expectError[*types.AccountNotFoundException](t, err)
		_, err = e.orgs(suspended).ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(a)})
		expectError[*types.AccessDeniedException](t, err)
		// A token of one account's list does not page another's.
		_, err = m.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(b), NextToken: first.NextToken})
		expectError[*types.InvalidInputException](t, err)
	})

	t.Run("deregister", func(t *testing.T) {
		deregister := func(caller, account, sp string) error {
			_, err := e.orgs(caller).DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(account), ServicePrincipal: aws.String(sp)})
			return err
		}
		expectError[*types.AccessDeniedException](t, deregister(a, a, coPrincipal))
		expectError[*types.AccountNotRegisteredException](t, deregister(mgmt, b, coPrincipal))
		expectError[*types.AccountNotFoundException](t, deregister(mgmt, outsider, coPrincipal))
		expectError[*types.InvalidInputException](t, deregister(mgmt, a, "nonsense.amazonaws.com"))
		expectError[*types.AWSOrganizationsNotInUseException](t, deregister(outsider, a, coPrincipal))
		if err := deregister(mgmt, a, coPrincipal); err != nil {
			t.Fatal(err)
		}
		// The one compute-optimizer seat is free again.
		if err := register(mgmt, b, coPrincipal); err != nil {
			t.Fatalf("register %s after %s left the seat: %v", b, a, err)
		}
		out, err := m.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(a)})
		if err != nil || len(out.DelegatedServices) != 1 || aws.ToString(out.DelegatedServices[0].ServicePrincipal) != "guardduty.amazonaws.com" {
			t.Fatalf("services of %s after deregistering compute-optimizer: %+v %v", a, out, err)
		}
	})
}
