package organizations

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/store"
)

// CreateAccount requests are kept by id, indexed by organization in
// request order (for ListCreateAccountStatus) and, while IN_PROGRESS,
// counted per organization (for the concurrent-creation quota).
const (
	bucketCreateStatus   = "org.create-account"             // car id -> createRequest
	bucketCreateByOrg    = "org.create-account-by-org"      // org id + "/" + requested (dueLayout-like) + "/" + car id -> ""
	bucketCreateInFlight = "org.create-account-in-progress" // org id + "/" + car id -> ""
)

// jobCreateAccount finishes a CreateAccount request in the background.
const jobCreateAccount = "organizations.create-account"

// defaultRoleName is the role CreateAccount makes when RoleName is absent.
const defaultRoleName = "OrganizationAccountAccessRole"

// timeKey formats a time so that byte order is time order.
const timeKey = "2006-01-02T15:04:05.000000000Z"

// createRequest is one CreateAccount request and, once done, its outcome.
type createRequest struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"orgId"`
	AccountName string    `json:"accountName"`
	Email       string    `json:"email"`
	RoleName    string    `json:"roleName"`
	Billing     string    `json:"iamUserAccessToBilling"`
	Tags        []tag     `json:"tags,omitempty"`
	State       string    `json:"state"`
	RequestedAt time.Time `json:"requestedAt"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
	AccountID   string    `json:"accountId,omitempty"`
	Failure     string    `json:"failureReason,omitempty"`
	// Duplicate marks a request made while another request of the
	// organization for the same email was in progress; AWS fails it with
	// CONCURRENT_ACCOUNT_MODIFICATION.
	Duplicate bool `json:"duplicate,omitempty"`
}

func (c *createRequest) view() *api.CreateAccountStatus {
	v := &api.CreateAccountStatus{
		Id:                 ptr(c.ID),
		AccountName:        ptr(c.AccountName),
		State:              ptr(api.CreateAccountState(c.State)),
		RequestedTimestamp: ptr(c.RequestedAt),
	}
	if !c.CompletedAt.IsZero() {
		v.CompletedTimestamp = ptr(c.CompletedAt)
	}
	if c.AccountID != "" {
		v.AccountId = ptr(c.AccountID)
	}
	if c.Failure != "" {
		v.FailureReason = ptr(api.CreateAccountFailureReason(c.Failure))
	}
	return v
}

func (c *createRequest) orgKey() string {
	return c.OrgID + "/" + c.RequestedAt.UTC().Format(timeKey) + "/" + c.ID
}

func (r repo) createRequest(id string) (*createRequest, error) {
	c, err := store.GetJSON[createRequest](r.tx, bucketCreateStatus, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// deleteCreateRequestsOfOrg removes an organization's CreateAccount
// records, as deleting the organization does.
func (r repo) deleteCreateRequestsOfOrg(orgID string) error {
	var ids []string
	err := r.tx.Scan(bucketCreateByOrg, orgID+"/", "", 0, func(key string, _ []byte) error {
		ids = append(ids, key[strings.LastIndexByte(key, '/')+1:])
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := r.tx.Delete(bucketCreateStatus, id); err != nil {
			return err
		}
	}
	if _, err := r.tx.DeletePrefix(bucketCreateByOrg, orgID+"/"); err != nil {
		return err
	}
	_, err = r.tx.DeletePrefix(bucketCreateInFlight, orgID+"/")
	return err
}

// Stricter than the model's unanchored patterns, as AWS is.
var (
	roleNamePattern    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	accountNamePattern = regexp.MustCompile(`^[\x20-\x7E]+$`)
	emailShapePattern  = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	// emailLocalBad and emailDomain are the address rules of the
	// CreateAccountRequest.Email documentation, which AWS applies while
	// creating the account: breaking them fails the request with
	// INVALID_EMAIL rather than refusing it.
	emailLocalBad = regexp.MustCompile(`[\s"'()<>\[\]:;,\\|%&]`)
	emailDomain   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)
)

func invalidPattern(msg string) error {
	e := api.NewInvalidInputException(msg)
	e.Reason = ptr(api.InvalidInputExceptionReasonInvalidPattern)
	return e
}

// emailAcceptable applies the documented address rules.
func emailAcceptable(email string) bool {
	for i := 0; i < len(email); i++ {
		if email[i] >= 0x80 {
			return false
		}
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || strings.Contains(domain, "@") || local == "" {
		return false
	}
	if strings.HasPrefix(local, ".") || emailLocalBad.MatchString(local) {
		return false
	}
	return emailDomain.MatchString(domain) && strings.Contains(domain, ".")
}

// checkCreateInput applies the synchronous checks AWS makes on a
// CreateAccount or CreateGovCloudAccount request.
func checkCreateInput(email, name string, roleName *string) error {
	if !emailShapePattern.MatchString(email) {
		e := api.NewInvalidInputException("The email address is not valid.")
		e.Reason = ptr(api.InvalidInputExceptionReasonInvalidPattern)
		return e
	}
	if !accountNamePattern.MatchString(name) {
		return invalidPattern("The account name may hold only printable ASCII characters.")
	}
	if roleName != nil {
		if !roleNamePattern.MatchString(*roleName) {
			return invalidPattern("The role name may hold only letters, digits and the characters _+=,.@-, up to 64 of them.")
		}
		if strings.HasPrefix(*roleName, "AWSServiceRoleFor") {
			e := api.NewInvalidInputException("Role names beginning with AWSServiceRoleFor are reserved for service-linked roles.")
			e.Reason = ptr(api.InvalidInputExceptionReasonInvalidRoleName)
			return e
		}
	}
	return nil
}

// CreateAccount starts the creation of a member account. Like AWS it
// answers IN_PROGRESS at once; the runner finishes the request after
// CreateAccountDuration, succeeding or failing with the reasons AWS
// reports asynchronously (EMAIL_ALREADY_EXISTS, ACCOUNT_LIMIT_EXCEEDED,
// INVALID_EMAIL, CONCURRENT_ACCOUNT_MODIFICATION). Only the concurrency
// quota, bad input and the caller rules are refused synchronously.
func (s *Service) CreateAccount(ctx context.Context, in *api.CreateAccountInput) (*api.CreateAccountOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkCreateInput(*in.Email, *in.AccountName, in.RoleName); err != nil {
		return nil, err
	}
	var out *api.CreateAccountStatus
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managerOrg(p.AccountID, "CreateAccount")
		if err != nil {
			return err
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		if err := validateTags(in.Tags, nil, q.TagsPerResource); err != nil {
			return err
		}
		c := &createRequest{
			ID:          "car-" + idgen.String(idgen.LowerAlnum, 32),
			OrgID:       org.ID,
			AccountName: *in.AccountName,
			Email:       *in.Email,
			RoleName:    defaultRoleName,
			Billing:     string(api.IAMUserAccessToBillingAllow),
			State:       string(api.CreateAccountStateInProgress),
			RequestedAt: s.clock.Now(),
		}
		if in.RoleName != nil {
			c.RoleName = *in.RoleName
		}
		if in.IamUserAccessToBilling != nil {
			c.Billing = string(*in.IamUserAccessToBilling)
		}
		for _, t := range in.Tags {
			c.Tags = append(c.Tags, tag{Key: *t.Key, Value: *t.Value})
		}
		if err := s.startCreate(r, q, c); err != nil {
			return err
		}
		out = c.view()
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return &api.CreateAccountOutput{CreateAccountStatus: out}, nil
}

// startCreate enforces the concurrent-creation quota, records an
// IN_PROGRESS request and schedules its completion.
func (s *Service) startCreate(r repo, q Quotas, c *createRequest) error {
	var inFlight []string
	err := r.tx.Scan(bucketCreateInFlight, c.OrgID+"/", "", 0, func(key string, _ []byte) error {
		inFlight = append(inFlight, strings.TrimPrefix(key, c.OrgID+"/"))
		return nil
	})
	if err != nil {
		return err
	}
	if len(inFlight) >= q.ConcurrentAccountCreations {
		e := api.NewConstraintViolationException(fmt.Sprintf("The organization already has %d account creation requests in progress; wait for one to finish.", len(inFlight)))
		e.Reason = ptr(api.ConstraintViolationExceptionReasonAccountCreationRateLimitExceeded)
		return e
	}
	for _, id := range inFlight {
		other, err := r.createRequest(id)
		if err != nil {
			return err
		}
		if other != nil && strings.EqualFold(other.Email, c.Email) {
			c.Duplicate = true
		}
	}
	if err := store.CreateJSON(r.tx, bucketCreateStatus, c.ID, c); err != nil {
		return err
	}
	if err := r.tx.Put(bucketCreateByOrg, c.orgKey(), nil); err != nil {
		return err
	}
	if err := r.tx.Put(bucketCreateInFlight, c.OrgID+"/"+c.ID, nil); err != nil {
		return err
	}
	_, err = runner.Enqueue(r.tx, jobCreateAccount, c.RequestedAt.Add(time.Duration(q.CreateAccountDuration)), createJob{RequestID: c.ID})
	return err
}

type createJob struct {
	RequestID string `json:"requestId"`
}

// happenedAt is when background work took effect: its due time. When
// virtual time jumps past several due times at once, each job's outcome
// carries its own time and what it schedules next counts from there, as
// if the runner had been there at each instant.
func (s *Service) happenedAt(j runner.Job) time.Time {
	if now := s.clock.Now(); j.Due.After(now) {
		return now
	}
	return j.Due
}

// kick wakes the runner after a transaction that enqueued work committed.
func (s *Service) kick() {
	if s.runner != nil {
		s.runner.Kick()
	}
}

func (s *Service) registerJobs(rn *runner.Runner) {
	rn.Register(jobCreateAccount, runner.Kind{Run: s.finishCreate, OnFail: s.failCreate})
	rn.Register(jobCloseAccount, runner.Kind{Run: s.finishClose})
	rn.Register(jobCleanClosedAccount, runner.Kind{Run: s.cleanClosed})
}

// finishCreate completes a CreateAccount request: it makes the account in
// the universe, joins it to the organization's root with the role the
// management account can assume and the requested tags, or records why
// AWS would have failed it.
func (s *Service) finishCreate(_ context.Context, tx store.Tx, j runner.Job) error {
	var job createJob
	if err := j.Decode(&job); err != nil {
		return err
	}
	r := repo{tx}
	c, err := r.createRequest(job.RequestID)
	if err != nil || c == nil || c.State != string(api.CreateAccountStateInProgress) {
		return err // gone with its organization, or already finished
	}
	now := s.happenedAt(j)
	org, err := r.org(c.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return r.endCreate(c, now, api.CreateAccountFailureReasonInternalFailure)
	}
	if err != nil {
		return err
	}
	if c.Duplicate {
		return r.endCreate(c, now, api.CreateAccountFailureReasonConcurrentAccountModification)
	}
	if !emailAcceptable(c.Email) {
		return r.endCreate(c, now, api.CreateAccountFailureReasonInvalidEmail)
	}
	if taken, err := accounts.EmailInUse(tx, c.Email); err != nil {
		return err
	} else if taken {
		return r.endCreate(c, now, api.CreateAccountFailureReasonEmailAlreadyExists)
	}
	q, err := s.quotas(tx)
	if err != nil {
		return err
	}
	n, err := r.memberCount(org.ID)
	if err != nil {
		return err
	}
	// Open invitations hold places under the quota too (FACTS §1).
	invited, err := r.pendingInvitations(org.ID, now)
	if err != nil {
		return err
	}
	if n+invited >= q.AccountsPerOrganization {
		return r.endCreate(c, now, api.CreateAccountFailureReasonAccountLimitExceeded)
	}
	acct := &accounts.Account{
		Email:     c.Email,
		Name:      c.AccountName,
		CreatedAt: now,
		Origin:    accounts.OriginCreateAccount,
		// An account made in an organization has none of the
		// information it would need to stand alone.
		Standalone: accounts.Standalone{},
	}
	for {
		acct.ID = idgen.AccountID()
		if _, err := accounts.Get(tx, acct.ID); errors.Is(err, accounts.ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
	}
	if err := accounts.Create(tx, acct); err != nil {
		if errors.Is(err, accounts.ErrEmailTaken) {
			return r.endCreate(c, now, api.CreateAccountFailureReasonEmailAlreadyExists)
		}
		return err
	}
	if err := r.addMember(&member{
		AccountID:    acct.ID,
		OrgID:        org.ID,
		ParentID:     org.RootID,
		Status:       string(api.AccountStatusActive),
		JoinedMethod: string(api.AccountJoinedMethodCreated),
		JoinedAt:     now,
	}); err != nil {
		return err
	}
	if err := s.attachDefaultPolicies(r, org.ID, acct.ID); err != nil {
		return err
	}
	if err := accounts.PutRole(tx, &accounts.Role{
		AccountID:        acct.ID,
		Name:             c.RoleName,
		TrustedAccountID: org.ManagementID,
		CreatedAt:        now,
	}); err != nil {
		return err
	}
	for _, t := range c.Tags {
		if err := r.putTag(acct.ID, t); err != nil {
			return err
		}
	}
	c.AccountID = acct.ID
	return r.endCreate(c, now, "")
}

// failCreate records a request whose completion kept failing.
func (s *Service) failCreate(_ context.Context, tx store.Tx, j runner.Job, _ error) error {
	var job createJob
	if err := j.Decode(&job); err != nil {
		return err
	}
	r := repo{tx}
	c, err := r.createRequest(job.RequestID)
	if err != nil || c == nil || c.State != string(api.CreateAccountStateInProgress) {
		return err
	}
	return r.endCreate(c, s.happenedAt(j), api.CreateAccountFailureReasonInternalFailure)
}

// endCreate records the outcome of a request: SUCCEEDED when reason is
// empty, FAILED with the reason otherwise.
func (r repo) endCreate(c *createRequest, now time.Time, reason api.CreateAccountFailureReason) error {
	c.CompletedAt = now
	c.State = string(api.CreateAccountStateSucceeded)
	if reason != "" {
		c.State = string(api.CreateAccountStateFailed)
		c.Failure = string(reason)
	}
	if err := store.PutJSON(r.tx, bucketCreateStatus, c.ID, c); err != nil {
		return err
	}
	return r.tx.Delete(bucketCreateInFlight, c.OrgID+"/"+c.ID)
}

// CreateGovCloudAccount needs a management account paired with an account
// in the AWS GovCloud (US) partition. orgstack emulates the commercial
// partition only, so no management account is GovCloud-enabled, and the
// request is refused the way AWS refuses it for such an account:
// ConstraintViolationException MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED, after
// the same caller and input checks as CreateAccount.
func (s *Service) CreateGovCloudAccount(ctx context.Context, in *api.CreateGovCloudAccountInput) (*api.CreateGovCloudAccountOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkCreateInput(*in.Email, *in.AccountName, in.RoleName); err != nil {
		return nil, err
	}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		if _, err := r.managerOrg(p.AccountID, "CreateGovCloudAccount"); err != nil {
			return err
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		if err := validateTags(in.Tags, nil, q.TagsPerResource); err != nil {
			return err
		}
		e := api.NewConstraintViolationException("The management account has no associated account in the AWS GovCloud (US) Region; orgstack emulates the commercial partition only.")
		e.Reason = ptr(api.ConstraintViolationExceptionReasonMasterAccountNotGovcloudEnabled)
		return e
	})
	return nil, err
}

// DescribeCreateAccountStatus answers about one request of the caller's
// organization.
func (s *Service) DescribeCreateAccountStatus(ctx context.Context, in *api.DescribeCreateAccountStatusInput) (*api.DescribeCreateAccountStatusOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out *api.CreateAccountStatus
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.readerOrDelegateOrg(p, "DescribeCreateAccountStatus", nil)
		if err != nil {
			return err
		}
		c, err := r.createRequest(*in.CreateAccountRequestId)
		if err != nil {
			return err
		}
		if c == nil || c.OrgID != org.ID {
			return api.NewCreateAccountStatusNotFoundException("There is no account creation request with that id in this organization.")
		}
		out = c.view()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeCreateAccountStatusOutput{CreateAccountStatus: out}, nil
}

// ListCreateAccountStatus lists the organization's requests in the order
// they were made, optionally only those in the given states. A filtered
// page reads at most filterBudget index entries, so that its cost stays
// bounded however many requests do not match: like AWS, it may then answer
// fewer results than asked, even none, with a NextToken to go on.
func (s *Service) ListCreateAccountStatus(ctx context.Context, in *api.ListCreateAccountStatusInput) (*api.ListCreateAccountStatusOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListCreateAccountStatusOutput{CreateAccountStatuses: []api.CreateAccountStatus{}}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.readerOrDelegateOrg(p, "ListCreateAccountStatus", nil)
		if err != nil {
			return err
		}
		states := slices.Clone(in.States)
		slices.Sort(states)
		states = slices.Compact(states)
		scope := "ListCreateAccountStatus/" + org.ID
		for _, st := range states {
			scope += "/" + string(st)
		}
		pg, err := newPager(tx, scope, in.NextToken, in.MaxResults)
		if err != nil {
			return err
		}
		out.CreateAccountStatuses = out.CreateAccountStatuses[:0]
		out.NextToken, err = pg.scanFiltered(tx, bucketCreateByOrg, org.ID+"/", filterBudget, func(key string, _ []byte) (bool, error) {
			c, err := r.createRequest(key[strings.LastIndexByte(key, '/')+1:])
			if err != nil || c == nil {
				return false, err
			}
			if len(states) > 0 && !slices.Contains(states, api.CreateAccountState(c.State)) {
				return false, nil
			}
			out.CreateAccountStatuses = append(out.CreateAccountStatuses, *c.view())
			return true, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// filterBudget bounds the index entries one filtered page examines.
const filterBudget = 1000

// scanFiltered is scan for lists that filter what they read: fn says
// whether it kept an entry; the page ends after limit kept entries or
// budget examined ones, and the token resumes after the last examined.
func (p *pager) scanFiltered(tx store.Tx, bucket, prefix string, budget int, fn func(key string, value []byte) (bool, error)) (*string, error) {
	kept, seen, last := 0, 0, ""
	more := false
	err := tx.Scan(bucket, prefix, p.after, budget+1, func(key string, value []byte) error {
		if kept == p.limit || seen == budget {
			more = true
			return store.ErrStop
		}
		seen++
		last = key
		ok, err := fn(key, value)
		if ok {
			kept++
		}
		return err
	})
	if err != nil || !more {
		return nil, err
	}
	tok := p.signer.Encode(p.scope, last)
	return &tok, nil
}
