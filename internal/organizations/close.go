package organizations

import (
	"context"
	"errors"
	"fmt"
	"time"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/store"
)

// Closures are indexed twice: accounts PENDING_CLOSURE now (the concurrent
// quota) and every closure of the rolling window (the 30-day quota).
const (
	bucketClosing  = "org.closing"  // org id + "/" + account id -> ""
	bucketClosures = "org.closures" // org id + "/" + closed at (timeKey) + "/" + account id -> ""
)

const (
	// jobCloseAccount moves a PENDING_CLOSURE account to SUSPENDED.
	jobCloseAccount = "organizations.close-account"
	// jobCleanClosedAccount ends the post-closure period: the account
	// departs its organization for good.
	jobCleanClosedAccount = "organizations.clean-closed-account"
)

type closeJob struct {
	OrgID     string `json:"orgId"`
	AccountID string `json:"accountId"`
}

// CloseAccount closes a member account: PENDING_CLOSURE at once, SUSPENDED
// when the runner finishes it (CloseAccountDuration later). A SUSPENDED
// account stays in its organization, listed as AWS lists it, for the
// post-closure period (ClosedAccountRetention, 90 days); then it departs
// for good, which is when services such as Automation hear of it
// (DepartureClosed), matching the AccountDepartedOrganization event AWS
// logs with departureMethod CLEANED at that moment.
func (s *Service) CloseAccount(ctx context.Context, in *api.CloseAccountInput) (*api.CloseAccountOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		r := repo{tx}
		org, err := r.managerOrg(p.AccountID, "CloseAccount")
		if err != nil {
			return err
		}
		if org.FeatureSet != string(api.OrganizationFeatureSetAll) {
			e := api.NewConstraintViolationException("Accounts can be closed through Organizations only when the organization has all features enabled.")
			e.Reason = ptr(api.ConstraintViolationExceptionReasonOrganizationNotInAllFeaturesMode)
			return e
		}
		m, err := r.orgMember(org.ID, *in.AccountId)
		if err != nil {
			return err
		}
		if m == nil {
			return errAccountNotFound()
		}
		if m.AccountID == org.ManagementID {
			e := api.NewConstraintViolationException("The management account cannot be closed with CloseAccount; remove or close every member account and close it as its root user.")
			e.Reason = ptr(api.ConstraintViolationExceptionReasonCannotCloseManagementAccount)
			return e
		}
		switch m.Status {
		case string(api.AccountStatusSuspended):
			return api.NewAccountAlreadyClosedException("The account is already closed.")
		case string(api.AccountStatusPendingClosure):
			return api.NewConflictException("The account's closure is already in progress.")
		}
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		closing, err := tx.Count(bucketClosing, org.ID+"/")
		if err != nil {
			return err
		}
		if closing >= q.ConcurrentAccountClosures {
			e := api.NewConstraintViolationException(fmt.Sprintf("%d accounts of the organization are already being closed; wait for one to finish.", closing))
			e.Reason = ptr(api.ConstraintViolationExceptionReasonCloseAccountRequestsLimitExceeded)
			return e
		}
		now := s.clock.Now()
		recent, err := r.recentClosures(org.ID, now.Add(-time.Duration(q.ClosureWindow)))
		if err != nil {
			return err
		}
		members, err := r.memberCount(org.ID)
		if err != nil {
			return err
		}
		if allowed := q.ClosuresAllowed(members); recent >= allowed {
			e := api.NewConstraintViolationException(fmt.Sprintf("The organization has closed %d accounts in the last %s, its quota; no more can be closed until older closures leave that window.", recent, time.Duration(q.ClosureWindow)))
			e.Reason = ptr(api.ConstraintViolationExceptionReasonCloseAccountQuotaExceeded)
			return e
		}
		m.Status = string(api.AccountStatusPendingClosure)
		if err := r.putMember(m); err != nil {
			return err
		}
		if err := tx.Put(bucketClosing, org.ID+"/"+m.AccountID, nil); err != nil {
			return err
		}
		if err := tx.Put(bucketClosures, org.ID+"/"+now.UTC().Format(timeKey)+"/"+m.AccountID, nil); err != nil {
			return err
		}
		_, err = runner.Enqueue(tx, jobCloseAccount, now.Add(time.Duration(q.CloseAccountDuration)), closeJob{OrgID: org.ID, AccountID: m.AccountID})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.kick()
	return &api.CloseAccountOutput{}, nil
}

// recentClosures counts the organization's closures since `since`, and
// forgets those before it: they can never count again.
func (r repo) recentClosures(orgID string, since time.Time) (int, error) {
	prefix := orgID + "/"
	bound := prefix + since.UTC().Format(timeKey)
	var old []string
	n := 0
	err := r.tx.Scan(bucketClosures, prefix, "", 0, func(key string, _ []byte) error {
		if key <= bound {
			old = append(old, key)
		} else {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := r.tx.Delete(bucketClosures, k); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// finishClose suspends an account whose closure was requested, and
// schedules the end of its post-closure period.
func (s *Service) finishClose(_ context.Context, tx store.Tx, j runner.Job) error {
	var job closeJob
	if err := j.Decode(&job); err != nil {
		return err
	}
	r := repo{tx}
	if err := tx.Delete(bucketClosing, job.OrgID+"/"+job.AccountID); err != nil {
		return err
	}
	m, err := r.orgMember(job.OrgID, job.AccountID)
	if err != nil || m == nil || m.Status != string(api.AccountStatusPendingClosure) {
		return err // the account left the organization meanwhile
	}
	m.Status = string(api.AccountStatusSuspended)
	if err := r.putMember(m); err != nil {
		return err
	}
	q, err := s.quotas(tx)
	if err != nil {
		return err
	}
	_, err = runner.Enqueue(tx, jobCleanClosedAccount, s.happenedAt(j).Add(time.Duration(q.ClosedAccountRetention)), job)
	return err
}

// cleanClosed ends a closed account's post-closure period: the account is
// closed for good and departs its organization.
func (s *Service) cleanClosed(_ context.Context, tx store.Tx, j runner.Job) error {
	var job closeJob
	if err := j.Decode(&job); err != nil {
		return err
	}
	r := repo{tx}
	m, err := r.orgMember(job.OrgID, job.AccountID)
	if err != nil || m == nil || m.Status != string(api.AccountStatusSuspended) {
		return err
	}
	org, err := r.org(job.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.depart(r, org, m, DepartureClosed)
}
