package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgstack/orgstack/internal/accounts"
	"github.com/orgstack/orgstack/internal/store"
)

// settle runs the background work due at the server's current time.
func (e *env) settle(t testing.TB) {
	t.Helper()
	if err := e.App.Runner.Settle(context.Background()); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

// setQuotas overrides quotas through the admin API.
func (e *env) setQuotas(t testing.TB, body string) {
	t.Helper()
	if status, m := e.adminDo(t, "POST", "/_orgstack/quotas", body); status != http.StatusOK {
		t.Fatalf("POST /_orgstack/quotas %s = %d %v", body, status, m)
	}
}

// createAccount creates a member account and waits for it.
func (e *env) createAccount(t testing.TB, mgmt, email string, tags ...types.Tag) string {
	t.Helper()
	ctx := context.Background()
	out, err := e.orgs(mgmt).CreateAccount(ctx, &organizations.CreateAccountInput{
		Email: aws.String(email), AccountName: aws.String("acct " + email), Tags: tags,
	})
	if err != nil {
		t.Fatalf("CreateAccount %s: %v", email, err)
	}
	e.settle(t)
	st, err := e.orgs(mgmt).DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	if err != nil {
		t.Fatalf("DescribeCreateAccountStatus: %v", err)
	}
	if st.CreateAccountStatus.State != types.CreateAccountStateSucceeded {
		t.Fatalf("creation of %s: %s %s", email, st.CreateAccountStatus.State, st.CreateAccountStatus.FailureReason)
	}
	return aws.ToString(st.CreateAccountStatus.AccountId)
}

// makeStandalone supplies all standalone information through the admin API.
func (e *env) makeStandalone(t testing.TB, account string) {
	t.Helper()
	body := `{"contactInfo":true,"paymentMethod":true,"phoneVerified":true,"eula":true}`
	if status, m := e.adminDo(t, "POST", "/_orgstack/accounts/"+account+"/standalone", body); status != http.StatusOK {
		t.Fatalf("standalone %s = %d %v", account, status, m)
	}
}

func constraintReason(t *testing.T, err error, want types.ConstraintViolationExceptionReason) {
	t.Helper()
	if ex := expectError[*types.ConstraintViolationException](t, err); ex != nil && ex.Reason != want {
		t.Errorf("Reason = %q, want %q", ex.Reason, want)
	}
}

func TestCreateAccountLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mgmt := e.orgs(mgmtAccount)
	if _, err := mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	e.setQuotas(t, `{"createAccountDuration":"10m"}`)
	out, err := mgmt.CreateAccount(ctx, &organizations.CreateAccountInput{
		Email: aws.String("dev@example.com"), AccountName: aws.String("dev"),
		RoleName: aws.String("Admin"), IamUserAccessToBilling: types.IAMUserAccessToBillingDeny,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}},
	})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	st := out.CreateAccountStatus
	checkPattern(t, "Id", aws.ToString(st.Id), `^car-[a-z0-9]{8,32}$`)
	if st.State != types.CreateAccountStateInProgress || st.AccountId != nil || st.RequestedTimestamp == nil || aws.ToString(st.AccountName) != "dev" {
		t.Fatalf("CreateAccount answered %+v, want IN_PROGRESS", st)
	}
	// Still in progress until the configured duration passes.
	e.settle(t)
	d, err := mgmt.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: st.Id})
	if err != nil || d.CreateAccountStatus.State != types.CreateAccountStateInProgress {
		t.Fatalf("before the delay: %+v %v", d, err)
	}
	if status, _ := e.adminDo(t, "POST", "/_orgstack/clock", `{"advance":"10m"}`); status != http.StatusOK {
		t.Fatalf("advance clock: %d", status)
	}
	// The clock call returned after the runner finished the request.
	d, err = mgmt.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: st.Id})
	if err != nil {
		t.Fatal(err)
	}
	cs := d.CreateAccountStatus
	if cs.State != types.CreateAccountStateSucceeded || cs.CompletedTimestamp == nil || cs.FailureReason != "" {
		t.Fatalf("after the delay: %+v", cs)
	}
	id := aws.ToString(cs.AccountId)
	checkPattern(t, "AccountId", id, `^\d{12}$`)

	acct, err := mgmt.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeAccount: %v", err)
	}
	a := acct.Account
	if a.JoinedMethod != types.AccountJoinedMethodCreated || a.Status != types.AccountStatusActive || a.State != types.AccountStateActive ||
		aws.ToString(a.Email) != "dev@example.com" || aws.ToString(a.Name) != "dev" || a.JoinedTimestamp == nil {
		t.Errorf("DescribeAccount = %+v", a)
	}
	checkPattern(t, "Arn", aws.ToString(a.Arn), `^arn:aws:organizations::111111111111:account/o-[a-z0-9]{10,32}/`+id+`$`)

	// The role the management account can assume, the tags, the root.
	e.Store.Read(ctx, func(tx store.Tx) error {
		role, err := accounts.GetRole(tx, id, "Admin")
		if err != nil || role.TrustedAccountID != mgmtAccount {
			t.Errorf("role: %+v %v", role, err)
		}
		ac, err := accounts.Get(tx, id)
		if err != nil || ac.Standalone.Complete() || ac.Origin != accounts.OriginCreateAccount {
			t.Errorf("account in the universe: %+v %v", ac, err)
		}
		return nil
	})
	e.Store.Read(ctx, func(tx store.Tx) error {
		v, err := tx.Get("org.tags", id+"/env")
		if err != nil || string(v) != "dev" {
			t.Errorf("tag env on the new account: %q %v", v, err)
		}
		return nil
	})
	rootID := storedMember(t, e, mgmtAccount)["parentId"].(string)
	if p := storedMember(t, e, id)["parentId"]; p != rootID {
		t.Errorf("the new account is under %v, not the root %s", p, rootID)
	}
	under, err := mgmt.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(rootID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(under.Accounts) != 2 {
		t.Errorf("root holds %d accounts, want 2", len(under.Accounts))
	}

	// ListCreateAccountStatus with and without a state filter.
	all, err := mgmt.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{})
	if err != nil || len(all.CreateAccountStatuses) != 1 {
		t.Fatalf("ListCreateAccountStatus = %+v %v", all, err)
	}
	failed, err := mgmt.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []types.CreateAccountState{types.CreateAccountStateFailed}})
	if err != nil || len(failed.CreateAccountStatuses) != 0 {
		t.Fatalf("FAILED filter = %+v %v", failed, err)
	}
}

func TestCreateAccountFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	mgmt := e.orgs(mgmtAccount)
	if _, err := mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	asyncFailure := func(t *testing.T, email string, want types.CreateAccountFailureReason) {
		t.Helper()
		out, err := mgmt.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String(email), AccountName: aws.String("x")})
		if err != nil {
			t.Fatalf("CreateAccount %s: %v", email, err)
		}
		e.settle(t)
		d, err := mgmt.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
		if err != nil {
			t.Fatal(err)
		}
		if d.CreateAccountStatus.State != types.CreateAccountStateFailed || d.CreateAccountStatus.FailureReason != want || d.CreateAccountStatus.AccountId != nil {
			t.Errorf("%s: %+v, want FAILED %s", email, d.CreateAccountStatus, want)
		}
	}
	t.Run("email of any account in the universe", func(t *testing.T) {
		e.registerAccount(t, `{"email":"Taken@Example.com"}`)
		asyncFailure(t, "taken@example.com", types.CreateAccountFailureReasonEmailAlreadyExists)
		// The management account's own email too.
		org, _ := mgmt.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		asyncFailure(t, aws.ToString(org.Organization.MasterAccountEmail), types.CreateAccountFailureReasonEmailAlreadyExists)
	})
	t.Run("invalid email by the documented rules", func(t *testing.T) {
		asyncFailure(t, ".dot@example.com", types.CreateAccountFailureReasonInvalidEmail)
		asyncFailure(t, "a(b@example.com", types.CreateAccountFailureReasonInvalidEmail)
	})
	t.Run("same email twice in flight", func(t *testing.T) {
		e.setQuotas(t, `{"createAccountDuration":"1m"}`)
		defer e.setQuotas(t, `{"createAccountDuration":"0s"}`)
		a, err := mgmt.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("twin@example.com"), AccountName: aws.String("a")})
		if err != nil {
			t.Fatal(err)
		}
		b, err := mgmt.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("TWIN@example.com"), AccountName: aws.String("b")})
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Minute)
		e.settle(t)
		da, _ := mgmt.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: a.CreateAccountStatus.Id})
		db, _ := mgmt.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: b.CreateAccountStatus.Id})
		if da.CreateAccountStatus.State != types.CreateAccountStateSucceeded || db.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonConcurrentAccountModification {
			t.Errorf("first %+v, second %+v", da.CreateAccountStatus, db.CreateAccountStatus)
		}
	})
	t.Run("concurrent creations", func(t *testing.T) {
		e.setQuotas(t, `{"createAccountDuration":"1h"}`)
		for i := range 5 {
			if _, err := mgmt.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String(fmt.Sprintf("c%d@example.com", i)), AccountName: aws.String("c")}); err != nil {
				t.Fatalf("creation %d: %v", i, err)
			}
		}
		_, err := mgmt.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("c6@example.com"), AccountName: aws.String("c")})
		constraintReason(t, err, types.ConstraintViolationExceptionReasonAccountCreationRateLimitExceeded)
		inProgress, err := mgmt.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []types.CreateAccountState{types.CreateAccountStateInProgress}})
		if err != nil || len(inProgress.CreateAccountStatuses) != 5 {
			t.Fatalf("IN_PROGRESS = %d %v", len(inProgress.CreateAccountStatuses), err)
		}
		e.setQuotas(t, `{"createAccountDuration":"0s"}`)
		e.Clock.Advance(time.Hour)
		e.settle(t)
	})
	t.Run("account limit", func(t *testing.T) {
		// 1 management + 1 twin + 5 concurrent = 7 members; the limit is 10.
		list, err := mgmt.ListAccounts(ctx, &organizations.ListAccountsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for i := len(list.Accounts); i < 10; i++ {
			e.createAccount(t, mgmtAccount, fmt.Sprintf("fill%d@example.com", i))
		}
		asyncFailure(t, "eleventh@example.com", types.CreateAccountFailureReasonAccountLimitExceeded)
		e.setQuotas(t, `{"accountsPerOrganization":11}`)
		e.createAccount(t, mgmtAccount, "eleventh@example.com")
	})
	t.Run("synchronous refusals", func(t *testing.T) {
		cases := []struct {
			name string
			in   organizations.CreateAccountInput
			want types.InvalidInputExceptionReason
		}{
			{"bad email", organizations.CreateAccountInput{Email: aws.String("no at sign.com"), AccountName: aws.String("x")}, ""},
			{"reserved role", organizations.CreateAccountInput{Email: aws.String("r@example.com"), AccountName: aws.String("x"), RoleName: aws.String("AWSServiceRoleForX")}, types.InvalidInputExceptionReasonInvalidRoleName},
			{"bad role", organizations.CreateAccountInput{Email: aws.String("r@example.com"), AccountName: aws.String("x"), RoleName: aws.String("a b")}, types.InvalidInputExceptionReasonInvalidPattern},
			{"non-ASCII name", organizations.CreateAccountInput{Email: aws.String("r@example.com"), AccountName: aws.String("é")}, types.InvalidInputExceptionReasonInvalidPattern},
			{"duplicate tag", organizations.CreateAccountInput{Email: aws.String("r@example.com"), AccountName: aws.String("x"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}}, types.InvalidInputExceptionReasonDuplicateTagKey},
			{"system tag", organizations.CreateAccountInput{Email: aws.String("r@example.com"), AccountName: aws.String("x"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}}, types.InvalidInputExceptionReasonInvalidSystemTagsParameter},
		}
		for _, c := range cases {
			_, err := mgmt.CreateAccount(ctx, &c.in)
			ex := expectError[*types.InvalidInputException](t, err)
			if ex != nil && c.want != "" && ex.Reason != c.want {
				t.Errorf("%s: Reason = %q, want %q", c.name, ex.Reason, c.want)
			}
		}
		var many []types.Tag
		for i := range 51 {
			many = append(many, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
		}
		_, err := mgmt.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("r@example.com"), AccountName: aws.String("x"), Tags: many})
		constraintReason(t, err, types.ConstraintViolationExceptionReasonMaxTagLimitExceeded)
	})
}

func TestCreateAccountCallers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	in := &organizations.CreateAccountInput{Email: aws.String("n@example.com"), AccountName: aws.String("n")}
	_, err := e.orgs(otherAccount).CreateAccount(ctx, in)
	expectError[*types.AWSOrganizationsNotInUseException](t, err)
	f := newOrgWithMembers(t, e, mgmtAccount, otherAccount)
	_, err = e.orgs(otherAccount).CreateAccount(ctx, in)
	expectError[*types.AccessDeniedException](t, err)
	_, err = e.orgs(otherAccount).CreateGovCloudAccount(ctx, &organizations.CreateGovCloudAccountInput{Email: in.Email, AccountName: in.AccountName})
	expectError[*types.AccessDeniedException](t, err)
	_, err = e.orgs(f.Mgmt).CreateGovCloudAccount(ctx, &organizations.CreateGovCloudAccountInput{Email: in.Email, AccountName: in.AccountName})
	constraintReason(t, err, types.ConstraintViolationExceptionReasonMasterAccountNotGovcloudEnabled)
	_, err = e.orgs(otherAccount).ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{})
	expectError[*types.AccessDeniedException](t, err)
	_, err = e.orgs(f.Mgmt).DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-00000000")})
	expectError[*types.CreateAccountStatusNotFoundException](t, err)
	// A request of another organization is not found either.
	other, err := e.orgs("333333333333").CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	_ = other
	car, err := e.orgs("333333333333").CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("o@example.com"), AccountName: aws.String("o")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.orgs(f.Mgmt).DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: car.CreateAccountStatus.Id})
	expectError[*types.CreateAccountStatusNotFoundException](t, err)
}

func TestDescribeAndListAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	members := []string{"222222222222", "333333333333", "444444444444"}
	f := newOrgWithMembers(t, e, mgmtAccount, members...)
	mgmt := e.orgs(f.Mgmt)

	t.Run("callers", func(t *testing.T) {
		_, err := e.orgs("555555555555").ListAccounts(ctx, &organizations.ListAccountsInput{})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		_, err = e.orgs(members[0]).ListAccounts(ctx, &organizations.ListAccountsInput{})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(members[0]).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(members[1])})
		expectError[*types.AccessDeniedException](t, err)
		_, err = e.orgs(members[0]).ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(f.RootID)})
		expectError[*types.AccessDeniedException](t, err)
		// A delegated administrator for any service may read.
		if _, err := mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		if _, err := mgmt.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(members[0]), ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.orgs(members[0]).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(members[1])}); err != nil {
			t.Errorf("delegated administrator DescribeAccount: %v", err)
		}
		if _, err := e.orgs(members[0]).ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{}); err != nil {
			t.Errorf("delegated administrator ListCreateAccountStatus: %v", err)
		}
		if _, err := e.orgs(members[0]).ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(f.RootID)}); err != nil {
			t.Errorf("delegated administrator ListAccountsForParent: %v", err)
		}
		// ...but not create.
		_, err = e.orgs(members[0]).CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("d@example.com"), AccountName: aws.String("d")})
		expectError[*types.AccessDeniedException](t, err)
	})
	t.Run("describe not found", func(t *testing.T) {
		_, err := mgmt.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
		expectError[*types.AccountNotFoundException](t, err)
	})
	t.Run("pages in id order", func(t *testing.T) {
		var ids []string
		var tok *string
		for {
			out, err := mgmt.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(1), NextToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range out.Accounts {
				ids = append(ids, aws.ToString(a.Id))
			}
			if tok = out.NextToken; tok == nil {
				break
			}
		}
		want := append([]string{mgmtAccount}, members...)
		sort.Strings(want)
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Errorf("pages gave %v, want %v", ids, want)
		}
		_, err := mgmt.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("forged")})
		if ex := expectError[*types.InvalidInputException](t, err); ex != nil && ex.Reason != types.InvalidInputExceptionReasonInvalidPaginationToken {
			t.Errorf("Reason = %q", ex.Reason)
		}
		// A ListAccounts token is refused by ListAccountsForParent.
		first, _ := mgmt.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(1)})
		_, err = mgmt.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(f.RootID), NextToken: first.NextToken})
		expectError[*types.InvalidInputException](t, err)
	})
	t.Run("parent errors", func(t *testing.T) {
		_, err := mgmt.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-abcd-12345678")})
		expectError[*types.ParentNotFoundException](t, err)
		_, err = mgmt.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("r-abcd!!")})
		expectError[*types.InvalidInputException](t, err)
	})
}

func TestMoveAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	f := newOrgWithMembers(t, e, mgmtAccount, otherAccount)
	mgmt := e.orgs(f.Mgmt)
	ouID := aws.String(seedOU(t, e, f, "prod12345"))
	move := func(caller, account, src, dst string) error {
		_, err := e.orgs(caller).MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(account), SourceParentId: aws.String(src), DestinationParentId: aws.String(dst)})
		return err
	}
	if err := move(f.Mgmt, otherAccount, f.RootID, *ouID); err != nil {
		t.Fatalf("MoveAccount: %v", err)
	}
	if p := storedMember(t, e, otherAccount)["parentId"]; p != *ouID {
		t.Fatalf("after the move the account is under %v", p)
	}
	inRoot, _ := mgmt.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(f.RootID)})
	inOU, _ := mgmt.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: ouID})
	if len(inRoot.Accounts) != 1 || len(inOU.Accounts) != 1 || aws.ToString(inOU.Accounts[0].Id) != otherAccount {
		t.Fatalf("root %d accounts, OU %+v", len(inRoot.Accounts), inOU.Accounts)
	}
	t.Run("errors", func(t *testing.T) {
		expectError[*types.DuplicateAccountException](t, move(f.Mgmt, otherAccount, *ouID, *ouID))
		// The account is in the OU, not in the root the caller names.
		expectError[*types.AccountNotFoundException](t, move(f.Mgmt, otherAccount, f.RootID, f.RootID))
		expectError[*types.AccountNotFoundException](t, move(f.Mgmt, "999999999999", f.RootID, *ouID))
		expectError[*types.SourceParentNotFoundException](t, move(f.Mgmt, otherAccount, "ou-abcd-12345678", f.RootID))
		expectError[*types.DestinationParentNotFoundException](t, move(f.Mgmt, otherAccount, *ouID, "ou-abcd-12345678"))
		expectError[*types.AccessDeniedException](t, move(otherAccount, otherAccount, *ouID, f.RootID))
		expectError[*types.AWSOrganizationsNotInUseException](t, move("555555555555", otherAccount, *ouID, f.RootID))
		expectError[*types.InvalidInputException](t, move(f.Mgmt, otherAccount, "r-abc", f.RootID))
	})
	if err := move(f.Mgmt, otherAccount, *ouID, f.RootID); err != nil {
		t.Fatalf("move back: %v", err)
	}
}

func TestCloseAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	members := []string{"222222222222", "333333333333", "444444444444", "555555555555"}
	f := newOrgWithMembers(t, e, mgmtAccount, members...)
	mgmt := e.orgs(f.Mgmt)
	closeAcct := func(caller, id string) error {
		_, err := e.orgs(caller).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(id)})
		return err
	}
	status := func(id string) (types.AccountStatus, types.AccountState) {
		out, err := mgmt.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeAccount %s: %v", id, err)
		}
		return out.Account.Status, out.Account.State
	}
	e.setQuotas(t, `{"closeAccountDuration":"5m"}`)
	constraintReason(t, closeAcct(f.Mgmt, f.Mgmt), types.ConstraintViolationExceptionReasonCannotCloseManagementAccount)
	expectError[*types.AccessDeniedException](t, closeAcct(members[0], members[1]))
	expectError[*types.AccountNotFoundException](t, closeAcct(f.Mgmt, "999999999999"))
	for _, m := range members[:3] {
		if err := closeAcct(f.Mgmt, m); err != nil {
			t.Fatalf("CloseAccount %s: %v", m, err)
		}
	}
	if st, state := status(members[0]); st != types.AccountStatusPendingClosure || state != types.AccountStatePendingClosure {
		t.Errorf("closing: %s/%s", st, state)
	}
	expectError[*types.ConflictException](t, closeAcct(f.Mgmt, members[0]))
	constraintReason(t, closeAcct(f.Mgmt, members[3]), types.ConstraintViolationExceptionReasonCloseAccountRequestsLimitExceeded)

	e.adminDo(t, "POST", "/_orgstack/clock", `{"advance":"5m"}`)
	if st, state := status(members[0]); st != types.AccountStatusSuspended || state != types.AccountStateClosed {
		t.Errorf("closed: %s/%s", st, state)
	}
	expectError[*types.AccountAlreadyClosedException](t, closeAcct(f.Mgmt, members[0]))
	// Closed accounts stay listed and still count.
	list, _ := mgmt.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if len(list.Accounts) != 5 {
		t.Errorf("ListAccounts shows %d accounts, want 5 with the closed ones", len(list.Accounts))
	}
	_, err := mgmt.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	expectError[*types.OrganizationNotEmptyException](t, err)

	// The rolling closure quota.
	e.setQuotas(t, `{"closuresPerWindowMin":3,"closuresPerWindowMax":3}`)
	constraintReason(t, closeAcct(f.Mgmt, members[3]), types.ConstraintViolationExceptionReasonCloseAccountQuotaExceeded)
	e.adminDo(t, "POST", "/_orgstack/clock", `{"advance":"721h"}`)
	if err := closeAcct(f.Mgmt, members[3]); err != nil {
		t.Fatalf("CloseAccount after the window: %v", err)
	}
	// 90 days after suspension the closed accounts depart for good.
	e.adminDo(t, "POST", "/_orgstack/clock", `{"advance":"2161h"}`)
	list, _ = mgmt.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if len(list.Accounts) != 1 {
		t.Errorf("after the post-closure period %d accounts remain, want only the management account", len(list.Accounts))
	}
	_, err = mgmt.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(members[0])})
	expectError[*types.AccountNotFoundException](t, err)
	if _, err := mgmt.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
		t.Errorf("DeleteOrganization once the closed accounts left: %v", err)
	}
}

func TestCloseAccountNeedsAllFeatures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.orgs(mgmtAccount).CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling}); err != nil {
		t.Fatal(err)
	}
	_, err := e.orgs(mgmtAccount).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(otherAccount)})
	constraintReason(t, err, types.ConstraintViolationExceptionReasonOrganizationNotInAllFeaturesMode)
}

func TestRemoveAndLeave(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	invited := []string{"222222222222", "333333333333"}
	f := newOrgWithMembers(t, e, mgmtAccount, invited...)
	mgmt := e.orgs(f.Mgmt)
	created := e.createAccount(t, f.Mgmt, "made@example.com", types.Tag{Key: aws.String("team"), Value: aws.String("a")})
	remove := func(caller, id string) error {
		_, err := e.orgs(caller).RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(id)})
		return err
	}
	leave := func(caller string) error {
		_, err := e.orgs(caller).LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
		return err
	}

	t.Run("caller rules", func(t *testing.T) {
		expectError[*types.AccessDeniedException](t, remove(invited[0], invited[1]))
		expectError[*types.MasterCannotLeaveOrganizationException](t, remove(f.Mgmt, f.Mgmt))
		expectError[*types.MasterCannotLeaveOrganizationException](t, leave(f.Mgmt))
		expectError[*types.AccountNotFoundException](t, remove(f.Mgmt, "999999999999"))
		expectError[*types.AWSOrganizationsNotInUseException](t, leave("999999999999"))
		expectError[*types.AWSOrganizationsNotInUseException](t, remove("999999999999", invited[0]))
	})
	t.Run("wait period, then standalone information in order", func(t *testing.T) {
		constraintReason(t, remove(f.Mgmt, created), types.ConstraintViolationExceptionReasonWaitPeriodActive)
		constraintReason(t, leave(created), types.ConstraintViolationExceptionReasonWaitPeriodActive)
		e.adminDo(t, "POST", "/_orgstack/clock", `{"advance":"96h"}`)
		constraintReason(t, remove(f.Mgmt, created), types.ConstraintViolationExceptionReasonAccountCannotLeaveWithoutPhoneVerification)
		e.adminDo(t, "POST", "/_orgstack/accounts/"+created+"/standalone", `{"contactInfo":true,"phoneVerified":true}`)
		constraintReason(t, remove(f.Mgmt, created), types.ConstraintViolationExceptionReasonAccountCannotLeaveWithoutEula)
		e.adminDo(t, "POST", "/_orgstack/accounts/"+created+"/standalone", `{"eula":true}`)
		constraintReason(t, leave(created), types.ConstraintViolationExceptionReasonMemberAccountPaymentInstrumentRequired)
		e.adminDo(t, "POST", "/_orgstack/accounts/"+created+"/standalone", `{"paymentMethod":true}`)
	})
	t.Run("delegated administrator", func(t *testing.T) {
		if _, err := mgmt.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		if _, err := mgmt.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(invited[1]), ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
		constraintReason(t, leave(invited[1]), types.ConstraintViolationExceptionReasonCannotRemoveDelegatedAdministratorFromOrg)
		constraintReason(t, remove(f.Mgmt, invited[1]), types.ConstraintViolationExceptionReasonCannotRemoveDelegatedAdministratorFromOrg)
		if _, err := mgmt.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(invited[1]), ServicePrincipal: aws.String("config.amazonaws.com")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("removed", func(t *testing.T) {
		if err := remove(f.Mgmt, created); err != nil {
			t.Fatalf("RemoveAccountFromOrganization: %v", err)
		}
		_, err := mgmt.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(created)})
		expectError[*types.AccountNotFoundException](t, err)
		list, _ := mgmt.ListAccounts(ctx, &organizations.ListAccountsInput{})
		for _, a := range list.Accounts {
			if aws.ToString(a.Id) == created {
				t.Error("the removed account is still listed")
			}
		}
		e.Store.Read(ctx, func(tx store.Tx) error {
			if n, _ := tx.Count("org.tags", created+"/"); n != 0 {
				t.Errorf("%d tags left on the removed account", n)
			}
			if _, err := accounts.Get(tx, created); err != nil {
				t.Errorf("the removed account left the universe: %v", err)
			}
			return nil
		})
		_, err = e.orgs(created).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
	})
	t.Run("left", func(t *testing.T) {
		if err := leave(invited[0]); err != nil {
			t.Fatalf("LeaveOrganization: %v", err)
		}
		_, err := e.orgs(invited[0]).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		expectError[*types.AWSOrganizationsNotInUseException](t, err)
		// Invitable again: it can found its own organization.
		if _, err := e.orgs(invited[0]).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
			t.Errorf("the account that left cannot start over: %v", err)
		}
		if _, err := e.orgs(invited[0]).DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
			t.Error(err)
		}
	})
	t.Run("delete organization cascades", func(t *testing.T) {
		_, err := mgmt.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
		expectError[*types.OrganizationNotEmptyException](t, err)
		if err := leave(invited[1]); err != nil {
			t.Fatal(err)
		}
		ouID := seedOU(t, e, f, "gone1234")
		e.Store.Write(ctx, func(tx store.Tx) error {
			tx.Put("org.tags", ouID+"/k", []byte("v"))
			return tx.Put("org.tags", f.RootID+"/k", []byte("v"))
		})
		if _, err := mgmt.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
			t.Fatalf("DeleteOrganization: %v", err)
		}
		e.Store.Read(ctx, func(tx store.Tx) error {
			for _, b := range []string{"org.ous", "org.org-ous", "org.children", "org.tags", "org.create-account", "org.create-account-by-org", "org.handshakes", "org.members", "org.roots", "org.organizations"} {
				if n, _ := tx.Count(b, ""); n != 0 {
					t.Errorf("%s keeps %d keys after DeleteOrganization", b, n)
				}
			}
			return nil
		})
	})
}

func TestQuotasAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, m := e.adminDo(t, "GET", "/_orgstack/quotas", "")
	if status != 200 || m["accountsPerOrganization"] != float64(10) || m["ouDepth"] != float64(5) || m["createdAccountRemovalWait"] != "96h0m0s" {
		t.Fatalf("GET quotas = %d %v", status, m)
	}
	if status, _ := e.adminDo(t, "POST", "/_orgstack/quotas", `{"accountsPerOrganization":0}`); status != 400 {
		t.Errorf("a zero account quota was accepted: %d", status)
	}
	if status, _ := e.adminDo(t, "POST", "/_orgstack/quotas", `{"nope":1}`); status != 400 {
		t.Errorf("an unknown quota was accepted: %d", status)
	}
	e.setQuotas(t, `{"accountsPerOrganization":50}`)
	if _, m := e.adminDo(t, "GET", "/_orgstack/quotas", ""); m["accountsPerOrganization"] != float64(50) || m["tagsPerResource"] != float64(50) {
		t.Errorf("after POST: %v", m)
	}
	if _, m := e.adminDo(t, "DELETE", "/_orgstack/quotas", ""); m["accountsPerOrganization"] != float64(10) {
		t.Errorf("after DELETE: %v", m)
	}
}
