package organizations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/orgstack/orgstack/internal/store"
)

// Quotas are Organizations' limits, every one in this struct so that the
// flags, the admin API and the operations agree on them. The defaults are
// AWS's defaults as collected in docs/FACTS.md §1 (Organizations User
// Guide, "Quotas for AWS Organizations"), never more generous: a pipeline
// that passes here must not hit a limit in a fresh real organization.
//
// Overrides set through POST /_orgstack/quotas are kept in the store, so
// they survive restarts and are shared by every instance on one database;
// flags give the values used when the store holds no override.
type Quotas struct {
	// PolicySize, PoliciesPerOrganization and PoliciesPerTarget bound
	// policies by type, keyed by PolicyType: the characters of a document
	// (POLICY_CONTENT_LIMIT_EXCEEDED), the customer policies of an
	// organization (POLICY_NUMBER_LIMIT_EXCEEDED) and the policies
	// attached directly to one root, OU or account
	// (MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED). A field left at 0 has
	// AWS's default (policyDefaults in policy_types.go).
	PolicySize              PerPolicyType `json:"policySize"`
	PoliciesPerOrganization PerPolicyType `json:"policiesPerOrganization"`
	PoliciesPerTarget       PerPolicyType `json:"policiesPerTarget"`

	// AccountsPerOrganization bounds the accounts of an organization, the
	// management account, accounts being created and suspended (closed)
	// accounts included. AWS: 10 by default, adjustable.
	AccountsPerOrganization int `json:"accountsPerOrganization"`
	// ConcurrentAccountCreations bounds CreateAccount requests
	// IN_PROGRESS at once (ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED). AWS: 5.
	ConcurrentAccountCreations int `json:"concurrentAccountCreations"`
	// ConcurrentAccountClosures bounds accounts PENDING_CLOSURE at once
	// (CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED). AWS: 3.
	ConcurrentAccountClosures int `json:"concurrentAccountClosures"`
	// ClosuresPerWindowMin, ClosuresPerWindowPercent and
	// ClosuresPerWindowMax give the closures allowed in a rolling
	// ClosureWindow: the higher of Min and Percent of the member
	// accounts, capped at Max (CLOSE_ACCOUNT_QUOTA_EXCEEDED).
	// AWS: max(250, 20%) up to 1,000 per 30 days.
	ClosuresPerWindowMin     int      `json:"closuresPerWindowMin"`
	ClosuresPerWindowPercent int      `json:"closuresPerWindowPercent"`
	ClosuresPerWindowMax     int      `json:"closuresPerWindowMax"`
	ClosureWindow            Duration `json:"closureWindow"`
	// CreatedAccountRemovalWait is how old an account made by
	// CreateAccount must be before it can leave (WAIT_PERIOD_ACTIVE).
	// AWS: 4 days (the quotas page and the model; one removal page says
	// 7, FACTS.md C!).
	CreatedAccountRemovalWait Duration `json:"createdAccountRemovalWait"`
	// OUsPerOrganization and OUDepth bound the OU tree (OU_NUMBER_LIMIT_
	// EXCEEDED, OU_DEPTH_LIMIT_EXCEEDED). AWS: 2,000 OUs, 5 levels.
	OUsPerOrganization int `json:"ousPerOrganization"`
	OUDepth            int `json:"ouDepth"`
	// InvitationsPerDay bounds invitations sent in 24 hours
	// (HANDSHAKE_RATE_LIMIT_EXCEEDED); AWS allows 20, or the account
	// limit when that is higher.
	InvitationsPerDay int `json:"invitationsPerDay"`
	// TagsPerResource bounds the tags of an account, root, OU or policy
	// (MAX_TAG_LIMIT_EXCEEDED). AWS: 50.
	TagsPerResource int `json:"tagsPerResource"`

	// Not limits but the durations of what AWS does in the background,
	// settable the same way so that a test can hold a request in progress.
	//
	// CreateAccountDuration is how long a CreateAccount request stays
	// IN_PROGRESS (default 0: the runner finishes it right after the
	// response). CloseAccountDuration is how long a closed account stays
	// PENDING_CLOSURE before it is SUSPENDED (default 0 likewise; AWS
	// says "a few minutes"). ClosedAccountRetention is AWS's 90-day
	// post-closure period: a SUSPENDED account stays in its organization
	// (listed, counting toward the account quota) until then, and then
	// departs for good (AccountDepartedOrganization, CLEANED).
	CreateAccountDuration  Duration `json:"createAccountDuration"`
	CloseAccountDuration   Duration `json:"closeAccountDuration"`
	ClosedAccountRetention Duration `json:"closedAccountRetention"`
}

// DefaultQuotas are AWS's defaults.
func DefaultQuotas() Quotas {
	return Quotas{
		PolicySize:              perPolicyType(func(d policyDefault) int { return d.size }),
		PoliciesPerOrganization: perPolicyType(func(d policyDefault) int { return d.perOrg }),
		PoliciesPerTarget:       perPolicyType(func(d policyDefault) int { return d.perTarget }),

		AccountsPerOrganization:    10,
		ConcurrentAccountCreations: 5,
		ConcurrentAccountClosures:  3,
		ClosuresPerWindowMin:       250,
		ClosuresPerWindowPercent:   20,
		ClosuresPerWindowMax:       1000,
		ClosureWindow:              Duration(30 * 24 * time.Hour),
		CreatedAccountRemovalWait:  Duration(4 * 24 * time.Hour),
		OUsPerOrganization:         2000,
		OUDepth:                    5,
		InvitationsPerDay:          20,
		TagsPerResource:            50,
		ClosedAccountRetention:     Duration(90 * 24 * time.Hour),
	}
}

// ClosuresAllowed is the closure quota of an organization with the given
// number of member accounts.
func (q Quotas) ClosuresAllowed(members int) int {
	n := members * q.ClosuresPerWindowPercent / 100
	if n < q.ClosuresPerWindowMin {
		n = q.ClosuresPerWindowMin
	}
	if n > q.ClosuresPerWindowMax {
		n = q.ClosuresPerWindowMax
	}
	return n
}

// InvitationsAllowed is the daily invitation quota: AWS allows the
// account limit when that is higher than the invitation quota.
func (q Quotas) InvitationsAllowed() int {
	return max(q.InvitationsPerDay, q.AccountsPerOrganization)
}

// Validate refuses quotas no organization could live with.
func (q Quotas) Validate() error {
	if err := q.validatePolicyQuotas(); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    int
		min  int
	}{
		{"accountsPerOrganization", q.AccountsPerOrganization, 1},
		{"concurrentAccountCreations", q.ConcurrentAccountCreations, 1},
		{"concurrentAccountClosures", q.ConcurrentAccountClosures, 1},
		{"closuresPerWindowMin", q.ClosuresPerWindowMin, 0},
		{"closuresPerWindowPercent", q.ClosuresPerWindowPercent, 0},
		{"closuresPerWindowMax", q.ClosuresPerWindowMax, 0},
		{"ousPerOrganization", q.OUsPerOrganization, 0},
		{"ouDepth", q.OUDepth, 0},
		{"invitationsPerDay", q.InvitationsPerDay, 0},
		{"tagsPerResource", q.TagsPerResource, 0},
	} {
		if f.v < f.min {
			return fmt.Errorf("%s must be at least %d, not %d", f.name, f.min, f.v)
		}
	}
	if q.ClosuresPerWindowMax < q.ClosuresPerWindowMin {
		return errors.New("closuresPerWindowMax must not be below closuresPerWindowMin")
	}
	if q.ClosureWindow <= 0 {
		return errors.New("closureWindow must be positive")
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{
		{"createdAccountRemovalWait", q.CreatedAccountRemovalWait},
		{"createAccountDuration", q.CreateAccountDuration},
		{"closeAccountDuration", q.CloseAccountDuration},
		{"closedAccountRetention", q.ClosedAccountRetention},
	} {
		if d.v < 0 {
			return fmt.Errorf("%s must not be negative", d.name)
		}
	}
	return nil
}

// Duration is a time.Duration that reads and writes as a Go duration
// string ("96h") in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"96h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// The quota overrides live in the store.
const (
	bucketSettings = "org.settings"
	keyQuotas      = "quotas"
)

// quotas returns the quotas in force: the stored override, or the
// service's configured defaults.
func (s *Service) quotas(tx store.Tx) (Quotas, error) {
	q, err := store.GetJSON[Quotas](tx, bucketSettings, keyQuotas)
	if errors.Is(err, store.ErrNotFound) {
		return s.defaultQuotas, nil
	}
	if err != nil {
		return Quotas{}, fmt.Errorf("organizations: read quotas: %w", err)
	}
	return *q, nil
}

// Quotas returns the quotas in force.
func (s *Service) Quotas(ctx context.Context) (Quotas, error) {
	var q Quotas
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		q, err = s.quotas(tx)
		return err
	})
	return q, err
}

// QuotasAdminRoutes serves the quota admin endpoints:
//
//	GET    /_orgstack/quotas  the quotas in force
//	POST   /_orgstack/quotas  some or all fields; the merged result is stored,
//	                          so {"accountsPerOrganization": 50} changes only that quota
//	DELETE /_orgstack/quotas  drop the override and return to the configured defaults
func (s *Service) QuotasAdminRoutes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /_orgstack/quotas":    http.HandlerFunc(s.handleGetQuotas),
		"POST /_orgstack/quotas":   http.HandlerFunc(s.handleSetQuotas),
		"DELETE /_orgstack/quotas": http.HandlerFunc(s.handleResetQuotas),
	}
}

func (s *Service) handleGetQuotas(w http.ResponseWriter, r *http.Request) {
	q, err := s.Quotas(r.Context())
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, "internal error reading quotas")
		return
	}
	writeAdminJSON(w, http.StatusOK, q)
}

func (s *Service) handleResetQuotas(w http.ResponseWriter, r *http.Request) {
	err := s.store.Write(r.Context(), func(tx store.Tx) error { return tx.Delete(bucketSettings, keyQuotas) })
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, "internal error resetting quotas")
		return
	}
	writeAdminJSON(w, http.StatusOK, s.defaultQuotas)
}

func (s *Service) handleSetQuotas(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "cannot read the body: "+err.Error())
		return
	}
	var out Quotas
	var bad error
	err = s.store.Write(r.Context(), func(tx store.Tx) error {
		bad = nil
		q, err := s.quotas(tx)
		if err != nil {
			return err
		}
		// Decoding onto the quotas in force changes only the fields given.
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			bad = fmt.Errorf("invalid quotas: %v", err)
			return nil
		}
		if err := q.Validate(); err != nil {
			bad = err
			return nil
		}
		out = q
		return store.PutJSON(tx, bucketSettings, keyQuotas, q)
	})
	switch {
	case err != nil:
		writeAdminError(w, http.StatusInternalServerError, "internal error saving quotas")
	case bad != nil:
		writeAdminError(w, http.StatusBadRequest, bad.Error())
	default:
		writeAdminJSON(w, http.StatusOK, out)
	}
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeAdminError answers in the admin API's error shape.
func writeAdminError(w http.ResponseWriter, status int, msg string) {
	writeAdminJSON(w, status, map[string]string{"error": msg})
}
